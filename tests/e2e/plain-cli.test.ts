// The plain `pulumi` CLI, as a user with an official install runs it in the project directory:
// `pulumi stack init`, `config set`, preview, up, a no-op up, refresh and destroy of a stack, with
// the Node language host built from ../shared (go-tools.sh language-host). In a copy of this
// checkout whose dist/ is a trap: its index.js fails if run and it has no components/, so what runs
// is the TypeScript, the program's and the rollout provider's, never a stale build.
// Its Pi is the stand-in as linux/amd64 (nothing under QEMU: it runs beside the heavy files), and
// its images the prepare step's (a cached build, pushed to its own repository). Without
// ../shared there is no language host: the tests are skipped, saying why.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { SERVICE_NAMES } from "../../infra/services";
import { devMachineKeys } from "../../stacks/dev-machine";
import { trackedConfig } from "../../stacks/work-dir";
import { lucidHome, PROJECT_DIR, pulumiEnv } from "../../stacks/workspace";
import { onPiStandIn } from "../support/e2e-stack";
import { piContainers, piDocker, piVolumes, waitAllHealthy } from "../support/pi";

jest.setTimeout(20 * 60_000);

const STACK = "plain";
const PROJECT = "lucid-plain";
const HOST = path.join(lucidHome(), "bin", "pulumi-language-nodejs");
const skipped = fs.existsSync(HOST)
  ? ""
  : `no Node language host at ${HOST} (it is built from ../shared/pulumi-language-nodejs, absent on this machine)`;
if (skipped) console.warn(`plain-cli.test.ts: skipped: ${skipped}`);
const step = skipped ? test.skip : test;

let dir: string; // the copy of the checkout: the project directory the user is in
let env: NodeJS.ProcessEnv;

/** `pulumi ARGS` in the project directory; bounded (10 min). */
function pulumi(args: string[], input?: string): { code: number | null; out: string } {
  const r = spawnSync("pulumi", args, {
    cwd: dir,
    env,
    input,
    encoding: "utf8",
    timeout: 10 * 60_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ""}` };
}
/** A command that must succeed; its output's end is the failure's message. */
const ok = (r: { code: number | null; out: string }) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}:\n${r.out.slice(-3000)}`);
};

beforeAll(() => {
  if (skipped) return;
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-plain-"));
  dir = path.join(parent, "checkout");
  const copy = spawnSync("cp", ["-a", PROJECT_DIR, dir], { timeout: 120_000 });
  if (copy.status !== 0) throw new Error(`copying the checkout: ${String(copy.stderr)}`);
  for (const d of [".git", "dist"]) fs.rmSync(path.join(dir, d), { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "dist"));
  fs.writeFileSync(
    path.join(dir, "dist", "index.js"),
    'throw new Error("a stale build ran: dist/index.js, not the TypeScript");\n',
  );
  const base = pulumiEnv();
  env = { ...process.env, ...base, PULUMI_CONFIG_PASSPHRASE: "e2e" };
  env.PULUMI_BACKEND_URL = `file://${path.join(parent, "state")}`;
  for (const k of ["LUCID_PROJECT_DIR", "LUCID_WORK_DIR", "DOCKER_HOST"]) delete env[k];
  fs.mkdirSync(path.join(parent, "state"));
});

afterAll(() => {
  if (skipped || !dir) return;
  if (Object.keys(piContainers(PROJECT)).length > 0) pulumi(["destroy", "--yes", "-s", STACK]);
  for (const v of piVolumes(PROJECT)) piDocker(["volume", "rm", v]);
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
});

step("stack init and config set, as the README gives them for a new stack", () => {
  ok(pulumi(["stack", "init", STACK]));
  // the dev stack's settings, on the stand-in as an amd64 Pi (no QEMU), in its own project
  const standIn = onPiStandIn(PROJECT, 18088, "deploy", "linux/amd64");
  const keys = devMachineKeys();
  const config: Record<string, unknown> = {
    ...trackedConfig("dev"),
    "lucid:registry": standIn.registry,
    "lucid:pi": { ...standIn.pi, hostKey: keys.hostKey },
  };
  const file = path.join(dir, `Pulumi.${STACK}.yaml`);
  const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>;
  fs.writeFileSync(file, stringify({ ...doc, config }));
  ok(pulumi(["config", "set", "--secret", "lucid:sshPrivateKey", "-s", STACK], keys.privateKey));
  expect(fs.readFileSync(file, "utf8")).not.toContain(keys.privateKey.split("\n")[1]);
});

step("preview runs the TypeScript (never dist/) and shows the whole set to create", () => {
  const r = pulumi(["preview", "-s", STACK]);
  ok(r);
  expect(r.out).not.toContain("a stale build ran");
  expect(r.out).toMatch(/lucid:index:PiRollout|PiRollout/);
  expect(r.out).toMatch(/\+ \d+ to create/);
});

step("up rolls the set out: all five healthy on the Pi", async () => {
  ok(pulumi(["up", "--yes", "--skip-preview", "-s", STACK]));
  expect(Object.keys(piContainers(PROJECT)).sort()).toEqual([...SERVICE_NAMES].sort());
  const healthy = await waitAllHealthy(PROJECT, 120);
  expect(Object.values(healthy)).toEqual(SERVICE_NAMES.map(() => "healthy"));
});

step("a second up changes nothing; refresh reads the Pi back, finding nothing changed", () => {
  ok(pulumi(["up", "--yes", "--expect-no-changes", "-s", STACK]));
  ok(pulumi(["refresh", "--yes", "--expect-no-changes", "-s", STACK]));
});

step("destroy takes the set down, its volumes kept", () => {
  ok(pulumi(["destroy", "--yes", "-s", STACK]));
  expect(piContainers(PROJECT)).toEqual({});
  expect(piVolumes(PROJECT)).toContain(`${PROJECT}_tor-data`);
});
