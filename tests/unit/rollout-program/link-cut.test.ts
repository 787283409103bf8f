import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { releaseFiles } from "../../../components/pi-remote";
import { FakePi, PROVIDER_SECRETS, type Generation } from "../../support/fake-pi";
import { composeAt, ref } from "../../support/rollout-cases";

// rollout.sh with its SSH link cut, on a fake Docker (no Engine), for both Compose generations.
// (One of the remote programs' unit files: tests/unit/rollout-program/.)

// Each case runs the real programs under bash, several rollouts in a row (3 s for the longest
// alone): jest's default 5 s was too tight when test.sh runs these files beside the QEMU-bound
// files on two cores (seen: a link-cut case timed out at 5 s under that load). Every wait inside
// a case has its own bound.
jest.setTimeout(30_000);

let pi: FakePi;
afterEach(() => pi?.remove());

// A link cut at each step (the follower ended as a dropped channel ends it; the rollout proper
// runs detached): the rollout goes on to its own end, its record whole, and a follower started
// again later learns the outcome. And a Pi that reboots: no result, said so.
describe.each<Generation>(["v2", "v1"])("a link cut mid-rollout, with Compose %s", (generation) => {
  beforeEach(() => (pi = new FakePi(generation)));
  const r2 = () => composeAt("1", { "api-server": "2" });
  const record = (release: string) =>
    pi.log().slice(pi.log().lastIndexOf(`rollout of release ${release} begins`));
  /** r1 rolled out, then r2 (api-server never healthy by itself) started and in its health gate. */
  const r2InTheGate = async (healthTimeout: number) => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    pi.setHealth(ref("api-server", "2"), "starting");
    const run = pi.startRollOut(r2(), { release: "r2", healthTimeout });
    for (let i = 0; i < 200 && !pi.log().includes("release r2 is up"); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(pi.log()).toContain("release r2 is up");
    return run;
  };

  test("during file intake: nothing starts, nothing changes, and a follower says so", async () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    // every Docker call but pick_compose's question which Compose there is
    const changing = () => pi.calls().filter((c) => !/ compose version$/.test(c));
    const calls = changing().length;
    const whole = releaseFiles(r2(), PROVIDER_SECRETS);
    const run = pi.startRollOut(
      r2(),
      { release: "r2" },
      {},
      { stdin: whole.slice(0, -2), open: true },
    );
    for (let i = 0; i < 100 && !fs.existsSync(path.join(run.runDir, "files")); i++)
      await new Promise((r) => setTimeout(r, 20));
    run.cut();
    await run.done;
    const again = pi.follow({ release: "r2" });
    expect(again.code).toBe(66);
    expect(again.stderr).toContain(
      "never started on the Pi (its files did not all arrive); nothing was changed",
    );
    expect(changing().length).toBe(calls);
    expect([pi.current(), pi.releases()]).toEqual(["r1", ["r1"]]);
    // the list cut short, the channel closed: refused, never a release without its last file
    const short = pi.rollOut(r2(), { release: "r2" }, { stdin: whole.slice(0, -2) });
    expect(short.code).toBe(1);
    expect(short.stderr).toContain(
      "the release's files did not all arrive (no closing line); nothing was started",
    );
    expect(pi.releases()).toEqual(["r1"]);
  });

  test("during the pull: the rollout goes on to a healthy release; the follower reports it", async () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    pi.hold("* pull *");
    const run = pi.startRollOut(r2(), { release: "r2" });
    expect(await pi.held()).toMatch(/ pull --quiet$/);
    run.cut();
    await run.done;
    pi.go();
    const again = pi.follow({ release: "r2" });
    expect([again.code, again.stdout.trim()]).toEqual([0, "lucid: release r2 is healthy"]);
    expect(again.stderr).toContain("rollout of release r2 ends (exit 0)");
    expect(pi.current()).toBe("r2");
    expect(record("r2")).toMatch(
      /holds the lock\n.*followed again by its caller, after a lost link\n.*is up;.*\n.*ends \(exit 0\)\n$/,
    );
  });

  test("during the health gate of a change that turns healthy: committed, the record whole", async () => {
    const run = await r2InTheGate(20);
    run.cut();
    const cut = await run.done;
    expect(cut.stderr).not.toContain("ends");
    // turns healthy half a second later, while a follower (the client back) waits for the end
    const later = spawn("sh", [
      "-c",
      `sleep 0.5; echo healthy > '${pi.state}/health/${ref("api-server", "2").replace(/\//g, "_")}'`,
    ]);
    const again = pi.follow({ release: "r2", healthTimeout: 20 });
    later.kill();
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(
      /rollout of release r2 begins[\s\S]*health gate[\s\S]*ends \(exit 0\)/,
    );
    expect([pi.current(), pi.runStatus()]).toEqual(["r2", 0]);
    expect(record("r2")).toContain("rollout of release r2 ends (exit 0)");
  });

  test("during the health gate of a change never healthy: rolled back, the record whole", async () => {
    const run = await r2InTheGate(1);
    run.cut();
    await run.done;
    expect(await pi.ended()).toBe(1);
    expect(pi.current()).toBe("r1");
    expect(byImage("api-server")).toBe(ref("api-server", "1"));
    expect(record("r2")).toMatch(
      /api-server did not become healthy within 1 s; rolled back to release r1\n.*ends \(exit 1\)\n$/,
    );
    const again = pi.follow({ release: "r2", healthTimeout: 1 });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("rolled back to release r1");
  });

  test("after the commit, while older releases are pruned: committed and pruned", async () => {
    for (const [r, v] of [
      ["r1", "1"],
      ["r2", "2"],
    ] as const)
      expect(pi.rollOut(composeAt(v), { release: r, keepReleases: 2 }).code).toBe(0);
    pi.hold("docker rmi *");
    const run = pi.startRollOut(composeAt("3"), { release: "r3", keepReleases: 2 });
    await pi.held();
    expect(pi.current()).toBe("r3");
    run.cut();
    await run.done;
    pi.go();
    expect(await pi.ended()).toBe(0);
    expect(pi.releases()).toEqual(["r2", "r3"]);
    expect(record("r3")).toMatch(/ends \(exit 0\)\n$/);
  });

  test("the Pi rebooted mid-rollout (the rollout killed): no result, said so, `current` named", async () => {
    const run = await r2InTheGate(20);
    run.kill();
    await run.done;
    const again = pi.follow({ release: "r2" });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      "ended on the Pi without a result: it was killed, or the Pi restarted. It never makes half a release current; `current` is releases/r1",
    );
    const unknown = pi.follow({ release: "r9" }, "no-such-run");
    expect([unknown.code, unknown.stderr]).toEqual([
      66,
      expect.stringContaining("it never started; nothing was changed"),
    ]);
  });

  test("a follower before the intake began: never started, and the late intake is refused", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    const early = pi.follow({ release: "r2" }, "late-run");
    expect([early.code, early.stderr]).toEqual([66, expect.stringContaining("it never started")]);
    const late = pi.rollOut(r2(), { release: "r2" }, { env: { LUCID_RUN_ID: "late-run" } });
    expect([late.code, late.stderr]).toEqual([
      1,
      expect.stringContaining("exists on the Pi already; nothing was changed"),
    ]);
    expect([pi.current(), pi.releases()]).toEqual(["r1", ["r1"]]);
  });

  test("a pid the run left before a reboot, now another process's: no result, said at once", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    const run = path.join(pi.dir, "runs", "before-reboot");
    fs.mkdirSync(path.join(run, "go"), { recursive: true });
    fs.writeFileSync(path.join(run, "log"), "lucid: rollout of release r2 begins\n");
    fs.writeFileSync(path.join(run, "pid"), "1 0a0a0a0a-boot-before-this-one\n"); // pid 1 lives
    const r = pi.follow({ release: "r2" }, "before-reboot");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("rollout of release r2 begins");
    expect(r.stderr).toContain(
      "ended on the Pi without a result: it was killed, or the Pi restarted",
    );
    expect(r.ms).toBeLessThan(5000);
  });

  const byImage = (svc: string) => pi.containers().find((c) => c.service === svc)?.image;
});
