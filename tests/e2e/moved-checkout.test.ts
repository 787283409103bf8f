// An existing stack in an operator's hands, each step as the CLI the README gives (`node
// dist/bin/lucid.js`, what `npm run lucid` runs):
// - the checkout moved (or another one: another machine, a CI runner): state holds no path of
//   the checkout that wrote it. `up` from a copy of this checkout, A; A moved to B (A is gone);
//   drift, refresh and up from B;
// - the deploy key rotated: the new one in the Pi's authorized_keys and in the stack, `up`, the
//   old one removed from the Pi; drift, refresh and destroy work (with the new key: the old one
//   is no longer let in).
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { e2eStack, onPiStandIn } from "../support/e2e-stack";
import { piContainers, piDocker, piVolumes } from "../support/pi";
import { filesHolding, filesUnder } from "../support/secrets";
import { PROJECT_DIR } from "../../stacks/workspace";
import { SERVICE_NAMES } from "../../infra/services";

jest.setTimeout(20 * 60_000);

const PROJECT = "lucid-moved";
const STACK = "moved";
let ctx: Awaited<ReturnType<typeof e2eStack>>;
let parent: string;
let a: string;
let b: string;
const AUTHORIZED = "/home/deploy/.ssh/authorized_keys";

/**
 * FILE's text replaced in one step (a rename, same owner and mode): the files running beside this
 * one log in as `deploy` too, and sshd must never read the keys half written.
 */
function replaceFile(file: string, text: string) {
  const st = fs.statSync(file);
  const tmp = `${file}.lucid-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode: st.mode & 0o777 });
  fs.chownSync(tmp, st.uid, st.gid);
  fs.renameSync(tmp, file);
}
let authorizedBefore: string;

/** A new ed25519 key pair: [private key, public key line]. */
function newKey(dir: string, name: string): [string, string] {
  const file = path.join(dir, name);
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  if (r.status !== 0) throw new Error(`ssh-keygen: ${String(r.stderr)}`);
  return [fs.readFileSync(file, "utf8"), fs.readFileSync(`${file}.pub`, "utf8").trim()];
}
let keys: Record<"first" | "rotated", [string, string]>;

/** The CLI of a checkout, as its own process; bounded (15 min). */
function lucid(checkout: string, ...args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn("node", [path.join(checkout, "dist", "bin", "lucid.js"), ...args], {
    cwd: checkout,
    env: ctx.cliEnv,
    timeout: 15 * 60_000,
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, out })));
}

/** From this checkout, drift finds the Pi as rolled out and a refresh succeeds. */
async function expectReadBack(checkout: string) {
  const drift = await lucid(checkout, "drift", "--stack", STACK);
  expect({ code: drift.code, out: drift.out.trim().split("\n").at(-1) }).toEqual({
    code: 0,
    out: "no drift: the Pi runs what was rolled out",
  });
  const refresh = await lucid(checkout, "refresh", "--stack", STACK);
  expect({ code: refresh.code, tail: refresh.out.slice(-1500) }).toMatchObject({ code: 0 });
}

beforeAll(async () => {
  ctx = await e2eStack(STACK, onPiStandIn(PROJECT, 18087, "deploy", "linux/amd64"));
  parent = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-checkouts-"));
  // the stack's own deploy key, on the Pi beside the machine's
  keys = { first: newKey(parent, "first"), rotated: newKey(parent, "rotated") };
  authorizedBefore = fs.readFileSync(AUTHORIZED, "utf8");
  fs.appendFileSync(AUTHORIZED, `${keys.first[1]}\n`);
  await ctx.stack.setConfig("lucid:sshPrivateKey", { value: keys.first[0], secret: true });
  a = path.join(parent, "a");
  b = path.join(parent, "elsewhere", "b");
  // the checkout as it is: its dist and node_modules (what runs), without its git history
  const copy = spawnSync("cp", ["-a", PROJECT_DIR, a], { timeout: 120_000 });
  if (copy.status !== 0) throw new Error(`copying the checkout: ${String(copy.stderr)}`);
  fs.rmSync(path.join(a, ".git"), { recursive: true, force: true });
});

afterAll(async () => {
  if (authorizedBefore !== undefined) {
    fs.appendFileSync(AUTHORIZED, `${keys.rotated[1]}\n`); // so a destroy can still get in
    // a test failed mid-way: the set goes, from whichever checkout is left
    const left = [b, a].find((c) => c && fs.existsSync(c));
    if (left) await lucid(left, "destroy", "--yes", "--stack", STACK);
    replaceFile(AUTHORIZED, authorizedBefore);
  }
  ctx?.cleanup();
  if (parent) fs.rmSync(parent, { recursive: true, force: true });
});

test("up from checkout A, then A moved: drift, refresh and up from B all work", async () => {
  const up = await lucid(a, "up", "--yes", "--stack", STACK);
  expect({ code: up.code, tail: up.out.slice(-1500) }).toMatchObject({ code: 0 });
  expect(Object.keys(piContainers(PROJECT)).sort()).toEqual([...SERVICE_NAMES].sort());

  fs.mkdirSync(path.dirname(b), { recursive: true });
  fs.renameSync(a, b); // A is gone
  expect(fs.existsSync(a)).toBe(false);

  await expectReadBack(b);
  const again = await lucid(b, "up", "--yes", "--stack", STACK);
  expect({ code: again.code, tail: again.out.slice(-1500) }).toMatchObject({ code: 0 });
  // nothing of A in state, in any file of the backend
  const state = filesUnder(path.join(ctx.dir, "state"));
  expect(state.length).toBeGreaterThan(0);
  expect(filesHolding(state, { "checkout A's path": a })).toEqual([]);
});

test("a rotated deploy key: up writes it to state; with the old one revoked, drift, refresh and destroy work", async () => {
  fs.appendFileSync(AUTHORIZED, `${keys.rotated[1]}\n`);
  await ctx.stack.setConfig("lucid:sshPrivateKey", { value: keys.rotated[0], secret: true });
  const lives = () =>
    Object.values(piContainers(PROJECT))
      .map((c) =>
        piDocker(["inspect", "-f", "{{.Id}} {{.State.StartedAt}} {{.RestartCount}}", c.id]),
      )
      .sort();
  const before = lives();
  const up = await lucid(b, "up", "--yes", "--stack", STACK);
  expect({ code: up.code, tail: up.out.slice(-1500) }).toMatchObject({ code: 0 });
  expect(up.out).toMatch(/\b1 updated/); // the rollout's state, read back with the new key
  expect(lives()).toEqual(before); // and no rollout: nothing restarted
  // the old key revoked on the Pi
  replaceFile(
    AUTHORIZED,
    fs
      .readFileSync(AUTHORIZED, "utf8")
      .split("\n")
      .filter((l) => l !== keys.first[1])
      .join("\n"),
  );
  await expectReadBack(b);
  const destroy = await lucid(b, "destroy", "--yes", "--stack", STACK);
  expect({ code: destroy.code, tail: destroy.out.slice(-1500) }).toMatchObject({ code: 0 });
  expect(piContainers(PROJECT)).toEqual({});
  expect(piVolumes(PROJECT)).toContain(`${PROJECT}_tor-data`);
});
