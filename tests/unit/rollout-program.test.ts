import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { releaseFiles } from "../../components/pi-remote";
import { remoteCommand } from "../../components/ssh/programs";
import { lucidCompose } from "../../infra/lucid";
import { SERVICES } from "../../infra/services";
import { AWKWARD_ENV } from "../support/awkward-env";
import { FakePi, PROVIDER_SECRETS, type Generation } from "../support/fake-pi";

// rollout.sh and teardown.sh as the Pi runs them, on a fake Docker (no Engine): every verdict of
// the lock, the file intake, the health gate, rollback and pruning, for both Compose generations.

// Each case runs the real programs under bash, several rollouts in a row (3 s for the longest
// alone): jest's default 5 s was too tight when test.sh runs this file beside the QEMU-bound
// files on two cores (seen: a link-cut case timed out at 5 s under that load). Every wait inside
// a case has its own bound.
jest.setTimeout(30_000);

const REPO = "10.250.0.1:5000/lucid/lucid";
const digestOf = (seed: string) => Buffer.from(seed).toString("hex").padEnd(64, "0").slice(0, 64);
const ref = (svc: string, version: string) => `${REPO}@sha256:${digestOf(`${svc}-${version}`)}`;
/** The real compose file of the set, every service at `version` unless `changed` says otherwise. */
const composeAt = (version: string, changed: Record<string, string> = {}) =>
  lucidCompose(
    Object.fromEntries(SERVICES.map((s) => [s.name, ref(s.name, changed[s.name] ?? version)])),
    { gatewayPort: 8080, platform: "linux/arm64" },
  );
const NAMES = SERVICES.map((s) => s.name).sort();

let pi: FakePi;
afterEach(() => pi?.remove());

describe.each<Generation>(["v2", "v1"])("rollout with Compose %s", (generation) => {
  beforeEach(() => (pi = new FakePi(generation)));
  const sep = generation === "v2" ? "-" : "_";
  const byService = () => Object.fromEntries(pi.containers().map((c) => [c.service, c]));

  test("a first release: files written mode 600, the set up, `current` moved, the lock let go", () => {
    const r = pi.rollOut(composeAt("1"), { release: "r1" });
    expect(r.stderr).toContain("rollout of release r1 begins");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("release r1 is healthy");
    expect(pi.current()).toBe("r1");
    const files = fs.readdirSync(path.join(pi.dir, "releases", "r1")).sort();
    expect(files).toEqual(["docker-compose.yml", "environment"]);
    for (const f of files)
      expect(fs.statSync(path.join(pi.dir, "releases", "r1", f)).mode & 0o777).toBe(0o600);
    expect(
      pi
        .containers()
        .map((c) => c.name)
        .sort(),
    ).toEqual(NAMES.map((s) => `lucid${sep}${s}${sep}1`));
    expect(fs.existsSync(path.join(pi.dir, ".rollout.lock.holder"))).toBe(false);
    expect(pi.log()).toContain("rollout of release r1 begins");
    expect(pi.log()).toContain("rollout of release r1 ends (exit 0)");
    expect(fs.statSync(path.join(pi.dir, "rollout.log")).mode & 0o777).toBe(0o600);
    expect(r.stderr).not.toContain("is obsolete"); // v2's warning on every call is dropped
    const composeCalls = pi.calls().filter((c) => / -p lucid /.test(c));
    expect(
      composeCalls.every((c) =>
        c.startsWith(generation === "v2" ? "docker compose " : "docker-compose "),
      ),
    ).toBe(true);
  });

  test("a rollout.log an older rollout left readable by all is made the deploy user's alone", () => {
    fs.mkdirSync(pi.dir, { recursive: true });
    fs.writeFileSync(path.join(pi.dir, "rollout.log"), "older lines\n", { mode: 0o644 });
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    expect(fs.statSync(path.join(pi.dir, "rollout.log")).mode & 0o777).toBe(0o600);
    expect(pi.log()).toMatch(/^older lines\n.*rollout of release r1 begins/s);
  });

  test("a one-service change replaces that container only", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    const before = byService();
    expect(pi.rollOut(composeAt("1", { "api-server": "2" }), { release: "r2" }).code).toBe(0);
    const after = byService();
    for (const s of NAMES) {
      if (s === "api-server") expect(after[s].id).not.toBe(before[s].id);
      else expect(after[s].id).toBe(before[s].id);
    }
    expect(after["api-server"].image).toBe(ref("api-server", "2"));
    expect(pi.current()).toBe("r2");
  });

  test("an unhealthy service: fails at once, naming it with its last log lines, rolled back", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    pi.setHealth(ref("api-server", "2"), "unhealthy");
    const r = pi.rollOut(composeAt("1", { "api-server": "2" }), {
      release: "r2",
      healthTimeout: 30,
    });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(10_000); // at once, not after the 30 s timeout
    expect(r.stderr).toContain("lucid: api-server is unhealthy; its last log lines:");
    expect(r.stderr).toContain("  api-server | fake log line 2");
    expect(r.stderr).toContain(
      "rollout of release r2 failed: api-server is unhealthy; rolled back to release r1",
    );
    expect(pi.current()).toBe("r1");
    expect(byService()["api-server"].image).toBe(ref("api-server", "1"));
    expect(pi.log()).toContain("rollout of release r2 ends (exit 1)");
  });

  test("a service that keeps exiting: fails at once, however its health check reads", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    pi.setHealth(ref("api-server", "2"), "starting", { state: "restarting", restarts: "+1" });
    const r = pi.rollOut(composeAt("1", { "api-server": "2" }), {
      release: "r2",
      healthTimeout: 30,
    });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.stderr).toContain(
      "lucid: api-server keeps exiting (restarted 3 times, now restarting); its last log lines:",
    );
    expect(r.stderr).toContain("  api-server | fake log line 2");
    expect(r.stderr).toContain("rolled back to release r1");
    expect(pi.current()).toBe("r1");
  });

  test("restarts a container had before the gate are not counted", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    // tunnel-tools, unchanged by the release, restarted 5 times in its life, starting again now
    pi.setHealth(ref("tunnel-tools", "1"), "starting", { state: "running", restarts: 5 });
    const r = pi.rollOut(composeAt("1", { "api-server": "2" }), {
      release: "r2",
      healthTimeout: 1,
    });
    expect(r.stderr).toContain("tunnel-tools did not become healthy within 1 s");
    expect(r.stderr).not.toContain("keeps exiting");
  });

  test("a restart or two while starting (a start-up race) is not yet a failure", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    pi.setHealth(ref("tunnel-tools", "2"), "starting", { state: "running", restarts: 2 });
    const r = pi.rollOut(composeAt("1", { "tunnel-tools": "2" }), {
      release: "r2",
      healthTimeout: 1,
    });
    expect(r.stderr).toContain("tunnel-tools did not become healthy within 1 s");
    expect(r.stderr).not.toContain("keeps exiting");
  });

  test("a service never healthy: rolled back once the health timeout has passed", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    pi.setHealth(ref("tor-proxy", "2"), "starting");
    const r = pi.rollOut(composeAt("1", { "tor-proxy": "2" }), { release: "r2", healthTimeout: 1 });
    expect(r.code).toBe(1);
    expect(r.ms).toBeGreaterThanOrEqual(1000);
    expect(r.stderr).toContain(
      "tor-proxy did not become healthy within 1 s; rolled back to release r1",
    );
    expect(byService()["tor-proxy"].image).toBe(ref("tor-proxy", "1"));
  });

  test("Docker failing inside the health gate is an error at once, never 'not yet'", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    pi.failCalls("docker inspect -f *Health*");
    const r = pi.rollOut(composeAt("2"), { release: "r2", healthTimeout: 30 });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.stderr).toContain("failed on purpose");
    expect(r.stderr).toContain(
      "the set's health could not be read from Docker (above); rolled back to release r1",
    );
    expect(pi.current()).toBe("r1");
  });

  test("a first release that fails leaves none of its containers running, and no `current`", () => {
    pi.setHealth(ref("server-tools", "1"), "exited");
    const r = pi.rollOut(composeAt("1"), { release: "r1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "server-tools has exited; no previous release: its containers were taken down, volumes kept",
    );
    expect(pi.containers()).toEqual([]);
    expect(pi.current()).toBeNull();
  });

  test("compose up failing: rolled back, never half a set", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    pi.failCalls("*releases/r2/docker-compose.yml up -d*");
    const r = pi.rollOut(composeAt("2"), { release: "r2" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("failed: compose up failed (above); rolled back to release r1");
    expect(
      pi
        .containers()
        .map((c) => c.image)
        .sort(),
    ).toEqual(NAMES.map((s) => ref(s, "1")).sort());
    expect(pi.current()).toBe("r1");
  });

  test("a first release whose compose up fails leaves nothing running", () => {
    pi.failCalls("*releases/r1/docker-compose.yml up -d*");
    const r = pi.rollOut(composeAt("1"), { release: "r1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "compose up failed (above); no previous release: its containers were taken down",
    );
    expect(pi.containers()).toEqual([]);
  });

  test("the releases directory given in another form (trailing /., a /../) is still one directory", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    pi.setHealth(ref("api-server", "1"), "unhealthy");
    const other = `${pi.dir}/../${path.basename(pi.dir)}/.`;
    const r = pi.rollOut(composeAt("1"), { release: "r1", remoteDir: other });
    expect(r.code).toBe(1);
    // the failing release is the running one: nothing to go back to, not "back" to itself
    expect(r.stderr).toContain("api-server is unhealthy; no previous release to go back to");
  });

  test("a failed pull leaves the running release untouched", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    const before = pi.containers();
    pi.failCalls("* pull --quiet");
    const r = pi.rollOut(composeAt("2"), { release: "r2" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "pulling the images of release r2 failed (above); the running release was not touched",
    );
    expect(pi.containers()).toEqual(before);
    expect(pi.current()).toBe("r1");
  });

  test("file intake refuses a bad name before anything runs, and needs a compose file", () => {
    const bad = pi.run("rollout", envFor(pi, "r1"), {
      stdin: `../escape ${Buffer.from("x").toString("base64")}\n`,
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("refusing file name '../escape'");
    expect(fs.existsSync(path.join(pi.dir, "..", "escape"))).toBe(false);
    const none = pi.run("rollout", envFor(pi, "r2"), { stdin: ".\n" });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no compose file arrived");
    expect(pi.calls().filter((c) => / (pull|up) /.test(c))).toEqual([]);
  });

  test("drift: a container under a service's name that compose did not make, and an orphan, go", () => {
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    fs.rmSync(path.join(pi.state, "containers", byService()["api-gateway"].id));
    const squatter = pi.addContainer({
      project: "-",
      service: "-",
      image: "nginx",
      name: `lucid${sep}api-gateway${sep}1`,
    });
    const orphan = pi.addContainer({
      project: "lucid",
      service: "old-thing",
      image: "x",
      name: "lucid_old-thing_1",
    });
    const r = pi.rollOut(composeAt("1"), { release: "r1" }, { recreate: ["api-gateway"] });
    expect(r.code).toBe(0);
    const ids = pi.containers().map((c) => c.id);
    expect(ids).not.toContain(squatter);
    expect(ids).not.toContain(orphan);
    expect(byService()["api-gateway"].image).toBe(ref("api-gateway", "1"));
  });

  test("pruning keeps `keep` releases and the images they name; older ones' images go", () => {
    for (const v of ["1", "2", "3", "4"]) {
      const r = pi.rollOut(composeAt(v), { release: `r${v}`, keepReleases: 2 });
      expect(r.code).toBe(0);
    }
    expect(pi.releases()).toEqual(["r3", "r4"]);
    const images = pi.images();
    for (const s of NAMES) {
      expect(images).toContain(ref(s, "3"));
      expect(images).toContain(ref(s, "4"));
      expect(images).not.toContain(ref(s, "1"));
      expect(images).not.toContain(ref(s, "2"));
    }
  });

  test("pruning looks only at what removed releases named: never another stack's image, one a container uses, or any when a release names a tag", () => {
    const other = `${REPO}@sha256:${digestOf("another stack's")}`;
    pi.addImage(other); // another stack on this Pi, from the same repository: not ours to remove
    pi.addContainer({ project: "-", service: "-", image: ref("tor-proxy", "1"), name: "holder" });
    for (const v of ["1", "2", "3"])
      expect(pi.rollOut(composeAt(v), { release: `r${v}`, keepReleases: 2 }).code).toBe(0);
    expect(pi.releases()).toEqual(["r2", "r3"]);
    const images = pi.images();
    expect(images).toContain(other);
    expect(images).toContain(ref("tor-proxy", "1")); // a container still uses it
    expect(images).not.toContain(ref("api-server", "1"));

    const byTag = composeAt("5").replace(ref("tor-proxy", "5"), `${REPO}:tor-proxy`);
    expect(pi.rollOut(composeAt("4"), { release: "r4", keepReleases: 2 }).code).toBe(0);
    expect(pi.rollOut(byTag, { release: "r5", keepReleases: 2 }).code).toBe(0);
    expect(pi.releases()).toEqual(["r4", "r5"]);
    expect(pi.images()).toContain(ref("api-server", "3")); // r3's went with no prune: a tag is kept
  });
});

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
    const short = pi.run("rollout", envFor(pi, "r2"), { stdin: whole.slice(0, -2) });
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
    const late = pi.run(
      "rollout",
      { ...envFor(pi, "r2"), LUCID_RUN_ID: "late-run" },
      { stdin: releaseFiles(r2(), PROVIDER_SECRETS) },
    );
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

describe("Compose generations", () => {
  test("teardown waits for a rollout that holds the lock, bounded; takes nothing down meanwhile", async () => {
    pi = new FakePi("v2");
    expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
    const lock = path.join(pi.dir, ".rollout.lock");
    const holder = spawn("flock", [lock, "sleep", "5"], { stdio: "ignore" });
    try {
      for (let i = 0; i < 100 && spawnSync("flock", ["-n", lock, "true"]).status === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      const r = pi.run("teardown", {
        LUCID_DIR: pi.dir,
        LUCID_PROJECT: "lucid",
        LUCID_LOCK_WAIT: 1,
      });
      expect(r.code).toBe(75);
      expect(r.stderr).toContain("still holds");
      expect(pi.containers()).toHaveLength(NAMES.length);
      expect(pi.current()).toBe("r1");
    } finally {
      holder.kill();
    }
  });

  test("a Pi with neither Compose: a clear error naming what to install, nothing written", () => {
    pi = new FakePi("none");
    const r = pi.rollOut(composeAt("1"), { release: "r1" });
    expect(r.code).toBe(69);
    expect(r.stderr).toContain("the Pi has no Docker Compose: install the Compose v2 plugin");
    expect(r.stderr).toContain("docker-compose 1.29; nothing was changed");
    expect(fs.existsSync(pi.dir)).toBe(false);
  });

  test.each<Generation>(["v2", "v1"])(
    "teardown with Compose %s: containers down, `current` gone, releases kept",
    (g) => {
      pi = new FakePi(g);
      expect(pi.rollOut(composeAt("1"), { release: "r1" }).code).toBe(0);
      const other = pi.addContainer({
        project: "other",
        service: "x",
        image: "x",
        name: "other_x_1",
      });
      const r = pi.run("teardown", {
        LUCID_DIR: pi.dir,
        LUCID_PROJECT: "lucid",
        LUCID_LOCK_WAIT: 5,
      });
      expect(r.code).toBe(0);
      expect(pi.containers().map((c) => c.id)).toEqual([other]);
      expect(pi.current()).toBeNull();
      expect(pi.releases()).toEqual(["r1"]);
      expect(pi.calls().some((c) => / down --remove-orphans$/.test(c))).toBe(true);
      expect(pi.calls().some((c) => / -v\b|--volumes/.test(c))).toBe(false);
    },
  );

  test("the command line reaches bash whole through a login shell, values and all", () => {
    pi = new FakePi("v2");
    const line = remoteCommand("teardown", { LUCID_DIR: pi.dir, LUCID_PROJECT: "it's" });
    const r = spawnSync("sh", ["-c", line], {
      encoding: "utf8",
      env: { PATH: `${path.join(pi.root, "bin")}:/usr/bin:/bin`, FAKE_DOCKER_STATE: pi.state },
    });
    expect(r.status).toBe(0); // no current release: nothing to take down
    const bad = spawnSync("sh", ["-c", remoteCommand("teardown", { LUCID_DIR: pi.dir })], {
      encoding: "utf8",
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("LUCID_PROJECT");
  });
});

function envFor(p: FakePi, release: string) {
  return {
    LUCID_DIR: p.dir,
    LUCID_PROJECT: "lucid",
    LUCID_RELEASE: release,
    LUCID_RUN_ID: `run-${release}`,
    LUCID_HEALTH_TIMEOUT: 5,
    LUCID_KEEP: 3,
    LUCID_LOCK_WAIT: 1,
    LUCID_FOLLOW_BOUND: 30,
    LUCID_POLL: 0.05,
  };
}

describe.each<Generation>(["v2", "v1"])("secret environment with Compose %s", (generation) => {
  beforeEach(() => (pi = new FakePi(generation)));
  const withEnv = (version: string, env: Record<string, Record<string, string>>) =>
    lucidCompose(
      Object.fromEntries(SERVICES.map((s) => [s.name, ref(s.name, version)])),
      { gatewayPort: 8080, platform: "linux/arm64" },
      env,
    );
  const envOf = (service: string) =>
    pi.containerEnv(pi.containers().find((c) => c.service === service)!.id);

  test("awkward values reach compose byte for byte, through no file parser", () => {
    const env = { "api-server": { ...AWKWARD_ENV, LUCID_API_TOKEN: "t".repeat(43) } };
    const r = pi.rollOut(withEnv("1", env), { release: "r1" }, { secrets: env });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("is not set"); // every variable the file names was given
    expect(envOf("api-server")).toEqual(env["api-server"]);
    expect(envOf("tor-proxy")).toEqual({});
    expect(r.stdout + r.stderr + pi.log()).not.toContain("ünïcødé"); // no value is ever shown
  });

  test("a changed value recreates that service alone; a rollback brings the old value back", () => {
    const one = { "api-server": { LUCID_API_TOKEN: "a".repeat(43) } };
    const two = { "api-server": { LUCID_API_TOKEN: "b".repeat(43) } };
    expect(pi.rollOut(withEnv("1", one), { release: "r1" }, { secrets: one }).code).toBe(0);
    const before = Object.fromEntries(pi.containers().map((c) => [c.service, c.id]));
    expect(pi.rollOut(withEnv("1", two), { release: "r2" }, { secrets: two }).code).toBe(0);
    const after = Object.fromEntries(pi.containers().map((c) => [c.service, c.id]));
    expect(NAMES.filter((s) => before[s] !== after[s])).toEqual(["api-server"]);
    expect(envOf("api-server")).toEqual(two["api-server"]);
    // r3 never turns healthy: the rollback runs r2 again, with r2's own value
    const bad = { "api-server": { LUCID_API_TOKEN: "c".repeat(43) } };
    pi.setHealth(ref("api-server", "3"), "unhealthy");
    const r = pi.rollOut(
      withEnv("1", bad).replace(ref("api-server", "1"), ref("api-server", "3")),
      {
        release: "r3",
      },
      { secrets: bad },
    );
    expect(r.code).not.toBe(0);
    expect(pi.current()).toBe("r2");
    expect(envOf("api-server")).toEqual(two["api-server"]);
  });

  test("a hand-edited environment file of another shape: a rollback to it fails by line number, never shown; teardown still works", () => {
    const env = { "api-server": { LUCID_API_TOKEN: "a".repeat(43) } };
    expect(pi.rollOut(withEnv("1", env), { release: "r1" }, { secrets: env }).code).toBe(0);
    fs.appendFileSync(
      path.join(pi.dir, "releases", "r1", "environment"),
      "LD_PRELOAD=/tmp/evil.so secret-ish\n",
    );
    pi.setHealth(ref("api-server", "2"), "unhealthy");
    const r = pi.rollOut(withEnv("2", env), { release: "r2" }, { secrets: env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /\/environment, line 2: not LUCID_ENV_<name>=<value> \(the line is not shown/,
    );
    expect(r.stderr).toMatch(/rollback to r1 FAILED \(compose's last lines above\)/);
    expect(r.stderr + pi.log()).not.toContain("secret-ish");
    // the set is taken down all the same: down needs no value
    const down = pi.run("teardown", {
      LUCID_DIR: pi.dir,
      LUCID_PROJECT: "lucid",
      LUCID_LOCK_WAIT: 5,
    });
    expect(down.stderr).toBe("");
    expect(down.code).toBe(0);
    expect(pi.containers()).toHaveLength(0);
  });

  test("a release whose environment lacks a variable its compose file names is not brought up", () => {
    const env = { "api-server": { LUCID_API_TOKEN: "a".repeat(43), EXTRA: "x" } };
    expect(pi.rollOut(withEnv("1", env), { release: "r1" }, { secrets: env }).code).toBe(0);
    const before = pi
      .containers()
      .map((c) => c.id)
      .sort();
    const partial = { "api-server": { LUCID_API_TOKEN: "b".repeat(43) } };
    const r = pi.rollOut(withEnv("2", env), { release: "r2" }, { secrets: partial });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(
      /environment has no LUCID_ENV_api_server__EXTRA, which .*docker-compose.yml names/,
    );
    expect(r.stderr).toMatch(/compose up failed \(above\); rolled back to release r1/);
    expect(pi.current()).toBe("r1");
    expect(
      pi
        .containers()
        .map((c) => c.id)
        .sort(),
    ).toEqual(before); // nothing was touched
    expect(envOf("api-server")).toEqual(env["api-server"]);
    // a missing file is the same: a rollback to r1 without it gives no service an empty secret
    fs.rmSync(path.join(pi.dir, "releases", "r1", "environment"));
    pi.setHealth(ref("api-server", "3"), "unhealthy");
    const back = pi.rollOut(withEnv("3", env), { release: "r3" }, { secrets: env });
    expect(back.code).not.toBe(0);
    expect(back.stderr).toContain("has no LUCID_ENV_api_server__EXTRA");
    expect(back.stderr).toContain("rollback to r1 FAILED");
  });
});
