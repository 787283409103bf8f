import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { FakePi, type Generation } from "../../support/fake-pi";
import { composeAt, ref } from "../../support/rollout-cases";

// rollout.sh's lock, on a fake Docker (no Engine): taken, waited for, bounded, for both Compose
// generations. (One of the remote programs' unit files: tests/unit/rollout-program/.)

// Each case runs the real programs under bash, several rollouts in a row (3 s for the longest
// alone): jest's default 5 s was too tight when test.sh runs these files beside the QEMU-bound
// files on two cores (seen: a link-cut case timed out at 5 s under that load). Every wait inside
// a case has its own bound.
jest.setTimeout(30_000);

let pi: FakePi;
afterEach(() => pi?.remove());

describe.each<Generation>(["v2", "v1"])("the lock, with Compose %s", (generation) => {
  beforeEach(() => (pi = new FakePi(generation)));
  const lock = () => path.join(pi.dir, ".rollout.lock");
  /** Another rollout, as the Pi sees one: a process holding the lock, for `seconds`. */
  const holdLock = (seconds: number) => {
    fs.mkdirSync(pi.dir, { recursive: true });
    fs.writeFileSync(`${lock()}.holder`, "pid 4242, release other\n");
    const holder = spawn("flock", [lock(), "sleep", String(seconds)], { stdio: "ignore" });
    return holder;
  };
  const heldBy = async (holder: ReturnType<typeof spawn>) => {
    // flock takes it at once; wait (bounded) until the kernel says so
    for (let i = 0; i < 100; i++) {
      if (spawnSync("flock", ["-n", lock(), "true"]).status !== 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    holder.kill();
    throw new Error("the holder never took the lock");
  };

  test("held by a live rollout: waited for, bounded, exit 75, nothing changed", async () => {
    const holder = holdLock(5);
    await heldBy(holder);
    try {
      const r = pi.rollOut(composeAt("1"), { release: "r1" }, { env: { LUCID_LOCK_WAIT: 1 } });
      expect(r.code).toBe(75);
      expect(r.ms).toBeGreaterThanOrEqual(1000);
      expect(r.stderr).toContain("waiting for another rollout (pid 4242, release other) to finish");
      expect(r.stderr).toContain("another rollout (pid 4242, release other) still holds");
      expect(pi.calls().filter((c) => / -p lucid /.test(c))).toEqual([]);
      expect(pi.releases()).toEqual([]);
      expect(fs.existsSync(path.join(pi.runDir(), "files"))).toBe(false); // its secrets too
    } finally {
      holder.kill();
    }
  });

  test("let go while waiting: the rollout goes on, long before its wait would end", async () => {
    const holder = holdLock(1.5); // longer than the program takes to reach the lock, even loaded
    await heldBy(holder);
    const r = pi.rollOut(composeAt("1"), { release: "r1" }, { env: { LUCID_LOCK_WAIT: 60 } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("waiting for another rollout");
    expect(r.ms).toBeLessThan(20_000);
  }, 30_000);

  test.each([
    ["naming a live process that is no rollout (pid 1)", "pid 1, release old\n"],
    // a process that was started and reaped: its pid names nothing now
    [
      "naming a rollout that is gone (before a reboot)",
      `pid ${spawnSync("true").pid}, release old\n`,
    ],
    ["empty", ""],
  ])("a lock file left behind, %s: no lock, taken at once", (_what, holder) => {
    fs.mkdirSync(pi.dir, { recursive: true });
    fs.writeFileSync(lock(), "");
    fs.writeFileSync(`${lock()}.holder`, holder);
    const r = pi.rollOut(composeAt("1"), { release: "r1" }, { env: { LUCID_LOCK_WAIT: 10 } });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("waiting");
    expect(r.ms).toBeLessThan(5000);
  });

  test("a rollout killed mid-way (with all it ran) leaves no lock: the next one goes at once", async () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    pi.setHealth(ref("api-server", "2"), "starting"); // it waits in the health gate
    const stuck = pi.startRollOut(composeAt("1", { "api-server": "2" }), {
      release: "r2",
      healthTimeout: 20,
    });
    for (let i = 0; i < 100 && !pi.log().includes("rollout of release r2 holds the lock"); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(pi.log()).toContain("rollout of release r2 holds the lock");
    stuck.kill();
    await stuck.done;
    const r = pi.rollOut(composeAt("3"), { release: "r3" }, { env: { LUCID_LOCK_WAIT: 10 } });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("waiting");
  });

  test("three rollouts at once: one at a time, each in turn (the Pi's own record says so)", async () => {
    const runs = ["a", "b", "c"].map((v) =>
      pi.startRollOut(composeAt(v), { release: `r${v}` }, { LUCID_LOCK_WAIT: 20 }),
    );
    const results = await Promise.all(runs.map((r) => r.done));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    let holding = 0;
    const order: string[] = [];
    for (const line of pi.log().split("\n")) {
      const m = / rollout of release (r[abc]) (holds the lock|ends)/.exec(line);
      if (!m) continue;
      holding += m[2] === "ends" ? -1 : 1;
      expect(holding).toBeLessThanOrEqual(1); // never two inside at once
      if (m[2] !== "ends") order.push(m[1]);
    }
    expect(holding).toBe(0);
    expect(order.sort()).toEqual(["ra", "rb", "rc"]);
  }, 30_000);
});
