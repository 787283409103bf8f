import * as auto from "@pulumi/pulumi/automation";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEV_PINNED, pinDevMachine } from "../../stacks/dev-machine";
import { machineWorkDir, trackedConfig } from "../../stacks/work-dir";
import { lucidHome, openStack, PROJECT_DIR } from "../../stacks/workspace";

/**
 * The program as `npm run build` compiled it: a dynamic provider's code is serialized and run by
 * plain node in another process, so it must come from JavaScript, not from ts-jest's sources.
 */
function builtProgram(): (projectDir: string) => auto.PulumiFn {
  const built = path.join(PROJECT_DIR, "dist", "index.js");
  if (!fs.existsSync(built)) throw new Error(`${built} is missing: run npm run build first`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(built) as typeof import("../../index")).inProject;
}

/**
 * A throwaway stack on the real local parts: its own backend and work directory, the dev stack's
 * config with its own repository (so it never touches the dev stack's images or state), and
 * without signing unless OVERRIDES turn it on.
 */
export async function e2eStack(
  name: string,
  overrides: Record<string, unknown> = {},
  opts: { keep?: boolean; copyInfra?: boolean } = {},
) {
  // keep: a stable directory under LUCID_HOME, reused by the next run (its state included)
  const dir = opts.keep
    ? path.join(lucidHome(), "stacks", `test-${name}`)
    : fs.mkdtempSync(path.join(os.tmpdir(), `lucid-${name}-`));
  const config = {
    ...trackedConfig("dev"),
    // Signing is proven by its own file (signing.test.ts) and by the dev stack's command; the
    // other stacks leave it out, so that each does not spend a minute signing a set it tests
    // for something else.
    "lucid:signing": false,
    ...Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`lucid:${k}`, v])),
  };
  machineWorkDir(dir, name, config, DEV_PINNED);
  if (opts.copyInfra) {
    // its own copy of the sources, for a test that changes them
    fs.rmSync(path.join(dir, "infra"), { force: true });
    fs.cpSync(path.join(PROJECT_DIR, "infra"), path.join(dir, "infra"), { recursive: true });
  }
  const env = { PULUMI_BACKEND_URL: `file://${dir}/state`, PULUMI_CONFIG_PASSPHRASE: "e2e" };
  const stack = await openStack({ stackName: name, program: builtProgram(), workDir: dir, env });
  await pinDevMachine(stack);
  const log: string[] = [];
  const onOutput = (s: string) => log.push(s);
  /** Outputs a test keeps between its steps. */
  const outputsCache: Record<string, unknown> = {};
  const cliEnv = { ...process.env, ...env, LUCID_WORK_DIR: dir };
  /** `lucid ARGS --stack <name>` as its own process (the CLI of README's day to day). */
  const cli = (args: string[]): Promise<{ code: number | null; out: string }> => {
    const lucid = path.join(PROJECT_DIR, "dist", "bin", "lucid.js");
    const child = spawn("node", [lucid, ...args, "--stack", name], { env: cliEnv });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    return new Promise((resolve) => child.on("close", (code) => resolve({ code, out })));
  };
  /** `lucid up --yes` of this stack (not dev: without --yes it would ask). */
  const cliUp = () => cli(["up", "--yes"]);
  return {
    stack,
    dir,
    log,
    onOutput,
    outputsCache,
    /** The environment for `node dist/bin/lucid.js <command> --stack <name>` on this stack. */
    cliEnv,
    cli,
    cliUp,
    /**
     * An `up` meant to fail, as its own `lucid up` process; rejects with its output. In the test
     * process a failed update can leave the SDK's last calls rejected once the engine has stopped
     * ("Resource monitor is terminating", pulumi/pulumi#10744), and jest fails the whole file on
     * them.
     */
    upMeantToFail: async (): Promise<void> => {
      const r = await cliUp();
      onOutput(r.out);
      if (r.code !== 0) throw new Error(r.out);
    },
    cleanup: () => {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resource operations of an update other than "same". */
export const changesOf = (summary: auto.UpdateSummary): Record<string, number> =>
  Object.fromEntries(Object.entries(summary.resourceChanges ?? {}).filter(([op]) => op !== "same"));

export type PiPlatform = "linux/arm64" | "linux/amd64";

/**
 * A registry repository per Pi platform: the stand-in's Engine (20.10) keeps one image per
 * repository@digest, and pulling a manifest list's amd64 variant where its arm64 one was pulled
 * fails with "Cannot overwrite digest" (moby/moby#43188).
 */
export const repositoryFor = (name: string, platform: PiPlatform) =>
  platform === "linux/arm64" ? name : `${name}-${platform.split("/")[1]}`;

/**
 * Config for a stack that rolls out to the Pi stand-in beside the dev stack: its own
 * repository, compose project, releases directory and gateway port. As `deploy` the stand-in
 * has docker-compose 1.29; as `deploy-v2`, the Compose v2 plugin. As linux/arm64 its services
 * run under QEMU, as a Pi's do natively; as linux/amd64 nothing is emulated, for the files whose
 * claims are about the rollout, not the architecture (the arm64 set is proven by `rollout`,
 * `compose-v2` and the images' `together`).
 */
export const onPiStandIn = (
  project: string,
  gatewayPort: number,
  user: "deploy" | "deploy-v2" = "deploy",
  platform: PiPlatform = "linux/arm64",
) => ({
  registry: { push: "10.250.0.1:5000", repository: repositoryFor(project, platform) },
  pi: {
    host: "10.250.0.2",
    port: 22,
    user,
    platform,
    project,
    gatewayPort,
    dir: `/home/${user}/${project}`,
  },
});

/** Destroys a test's stack and removes its work directory. */
export async function tearDown(
  ctx: { stack: auto.Stack; onOutput: (s: string) => void; cleanup: () => void } | undefined,
) {
  if (!ctx) return;
  await ctx.stack.destroy({ onOutput: ctx.onOutput });
  ctx.cleanup();
}
