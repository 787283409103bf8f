import * as auto from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as path from "path";
import { lucidHome } from "./lucid-home";

/** The project's root: where Pulumi.yaml and the stack config files are. */
export const PROJECT_DIR = findUp(__dirname, "Pulumi.yaml");

function findUp(from: string, file: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, file))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no ${file} above ${from}`);
  }
}

export { lucidHome };

/**
 * The environment every Pulumi run gets: the locally built CLI and plugins on PATH, a local file
 * backend unless one is set, and no update checks (nothing outside is reachable).
 */
export function pulumiEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const home = lucidHome(env);
  return {
    PATH: [path.join(home, "bin"), env.PATH ?? ""].join(path.delimiter),
    LUCID_PROJECT_DIR: PROJECT_DIR, // where the dynamic-provider shim finds @pulumi/pulumi
    PULUMI_BACKEND_URL: env.PULUMI_BACKEND_URL ?? `file://${path.join(home, "state")}`,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
  };
}

export interface OpenStackOptions {
  stackName: string;
  /** The program for the stack's project directory (`workDir`): index.ts's `inProject`. */
  program: (projectDir: string) => auto.PulumiFn;
  /** Directory with Pulumi.yaml and Pulumi.<stack>.yaml. @default PROJECT_DIR */
  workDir?: string;
  /** Extra environment for the CLI and the program (e.g. PULUMI_CONFIG_PASSPHRASE). */
  env?: Record<string, string>;
}

/**
 * Opens (or creates) a stack whose program runs in this process. The Automation API serves the
 * language runtime itself, so no `pulumi-language-nodejs` binary is needed; it is not buildable
 * from the module proxy reachable here.
 */
export async function openStack(opts: OpenStackOptions): Promise<auto.Stack> {
  const envVars = { ...pulumiEnv(), ...(opts.env ?? {}) };
  const workDir = path.resolve(opts.workDir ?? PROJECT_DIR); // the program needs it absolute
  fs.mkdirSync(envVars.PULUMI_BACKEND_URL.replace(/^file:\/\//, ""), { recursive: true });
  process.env.PATH = envVars.PATH; // PulumiCommand.get looks the CLI up on this process's PATH
  // docker-build takes DOCKER_HOST as its provider config: a shell pointed at another Engine
  // (the Pi's, say) would change it and replace every image. Builds go through the buildx
  // builder, never through DOCKER_HOST.
  delete process.env.DOCKER_HOST;
  const pulumiCommand = await auto.PulumiCommand.get();
  return auto.LocalWorkspace.createOrSelectStack(
    { stackName: opts.stackName, projectName: "lucid", program: opts.program(workDir) },
    { workDir, envVars, pulumiCommand },
  );
}

/**
 * The stack, for commands that use neither the outputs nor the summary the Automation API reads
 * back after a run: after an up, `stack output` twice (the second decrypting every secret) and
 * `stack history --show-secrets`, three CLI runs and about 0.8 s of a 4.5 s no-op `lucid up`
 * (bench/noop-up.ts); after a refresh or destroy, the history alone. What the engine did is
 * already in the run's own events and output.
 */
export function withoutReadback(stack: auto.Stack): auto.Stack {
  const view = Object.create(stack) as auto.Stack;
  view.outputs = () => Promise.resolve({});
  view.info = () => Promise.resolve(undefined);
  return view;
}

/** The stack a lucid command runs on: `outputs` reads them; no other uses what is read back. */
export const stackFor = (command: string, stack: auto.Stack): auto.Stack =>
  command === "outputs" ? stack : withoutReadback(stack);
