// The machine check before a run (stacks/preflight.ts): its three asks (the buildx builder,
// cosign, syft) run side by side, each bounded, and every problem is named at once. Fake
// `docker`, `cosign` and `syft` on PATH; the real ones: tests/e2e/builder.test.ts, bad-config.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { commandResult } from "../../components/command-result";
import { machineProblems } from "../../stacks/preflight";

const PATH = process.env.PATH;
let bin: string;

/**
 * A fake tool that answers only once all three asks have started (it waits 2.5 s at most): asked
 * one after another, each would wait alone and fail.
 */
const TOGETHER = `#!/bin/sh
me="$(basename "$0")"
touch "$FAKE_DIR/started-$me"
i=0
while [ $i -lt 50 ]; do
  if [ -e "$FAKE_DIR/started-docker" ] && [ -e "$FAKE_DIR/started-cosign" ] && [ -e "$FAKE_DIR/started-syft" ]; then
    [ "$me" = docker ] && printf 'Name: b\\nDriver: docker-container\\nStatus: running\\n'
    exit 0
  fi
  sleep 0.05; i=$((i+1))
done
echo "$me: asked alone" >&2
exit 1
`;

function tools(scripts: Record<string, string>) {
  for (const f of fs.readdirSync(bin)) fs.rmSync(path.join(bin, f));
  for (const [tool, script] of Object.entries(scripts))
    fs.writeFileSync(path.join(bin, tool), script, { mode: 0o755 });
}

/** What the fakes need besides themselves, alone on PATH (no real docker, cosign or syft). */
let base: string;

beforeAll(() => {
  bin = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-fake-preflight-"));
  base = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-fake-preflight-base-"));
  for (const tool of ["sh", "touch", "sleep", "basename", "printf"]) {
    const real = ["/bin", "/usr/bin"].map((d) => path.join(d, tool)).find((f) => fs.existsSync(f));
    if (real) fs.symlinkSync(real, path.join(base, tool));
  }
  process.env.FAKE_DIR = bin;
  process.env.PATH = [bin, base].join(path.delimiter);
});
afterAll(() => {
  process.env.PATH = PATH;
  delete process.env.FAKE_DIR;
  for (const d of [bin, base]) fs.rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
/** Running: its /proc entry is there and not a zombie's (state Z: ended, not yet reaped). */
function alive(pid: number) {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("commandResult", () => {
  test("a command's exit code and output", async () => {
    expect(await commandResult("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], 5000)).toEqual({
      status: 3,
      stdout: "out\n",
      stderr: "err\n",
    });
  });

  test("a command not on PATH: ENOENT, never a throw", async () => {
    const r = await commandResult("lucid-no-such-tool", ["version"], 5000);
    expect([r.status, r.error?.code]).toEqual([null, "ENOENT"]);
  });

  test("at its bound: killed with what it started, ETIMEDOUT at once", async () => {
    const t0 = Date.now();
    // a child of the command holds the pipes, as docker's buildx plugin does
    const r = await commandResult("sh", ["-c", "sleep 30 & echo $!; wait"], 1000);
    expect([r.status, r.error?.code, r.stdout]).toEqual([
      null,
      "ETIMEDOUT",
      expect.stringMatching(/^\d+\n$/),
    ]);
    expect(Date.now() - t0).toBeLessThan(5000);
    for (let i = 0; i < 40 && alive(Number(r.stdout)); i++) await sleep(50);
    expect(alive(Number(r.stdout))).toBe(false);
  }, 30_000);

  test("this process gone first: what the command started goes too", async () => {
    // a process that asks, and exits at once once its command has started a child
    const pidFile = path.join(base, "started.pid");
    const module = path.resolve(__dirname, "../../components/command-result");
    const asker = [
      `const { commandResult } = require(${JSON.stringify(module)});`,
      `commandResult("sh", ["-c", "sleep 30 & echo $! > ${pidFile}.new && mv ${pidFile}.new ${pidFile}; wait"], 60000);`,
      `const fs = require("fs");`,
      `setInterval(() => fs.existsSync("${pidFile}") && process.exit(0), 20);`,
      `setTimeout(() => process.exit(2), 20000);`,
    ].join("\n");
    const tsNode = path.resolve(__dirname, "../../node_modules/.bin/ts-node-transpile-only");
    const r = spawnSync(tsNode, ["-e", asker], { encoding: "utf8", timeout: 30_000 });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    const pid = Number(fs.readFileSync(pidFile, "utf8"));
    expect(pid).toBeGreaterThan(1);
    for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
    expect(alive(pid)).toBe(false);
  }, 60_000);
});

describe("machineProblems", () => {
  test("the builder, cosign and syft are asked side by side", async () => {
    tools({ docker: TOGETHER, cosign: TOGETHER, syft: TOGETHER });
    expect(await machineProblems({ builder: "b", signing: true })).toEqual([]);
  });

  test("every problem at once, each naming its key", async () => {
    tools({
      docker: `#!/bin/sh\necho 'ERROR: no builder "b" found' >&2; exit 1\n`,
      syft: `#!/bin/sh\necho 'syft: broken' >&2; exit 2\n`,
    });
    expect(await machineProblems({ builder: "b", signing: true })).toEqual([
      expect.stringMatching(/^lucid:builder: no buildx builder "b" on this machine/),
      expect.stringMatching(/^lucid:signing: cosign is not on PATH/),
      "lucid:signing: `syft version` failed (syft: broken), or set lucid:signing false",
    ]);
    // signing off: the tools are not asked
    expect(await machineProblems({ builder: "b", signing: false })).toEqual([
      expect.stringMatching(/^lucid:builder: no buildx builder "b"/),
    ]);
  });
});
