import * as fs from "fs";
import * as path from "path";
import { FakePi, type Generation } from "../../support/fake-pi";
import { composeAt, digestOf, NAMES, ref, REPO } from "../../support/rollout-cases";

// rollout.sh as the Pi runs it, on a fake Docker (no Engine): the file intake, the health gate,
// rollback, drift and pruning, for both Compose generations. (One of the remote programs' unit
// files: tests/unit/rollout-program/.)

// Each case runs the real programs under bash, several rollouts in a row (3 s for the longest
// alone): jest's default 5 s was too tight when test.sh runs these files beside the QEMU-bound
// files on two cores (seen: a link-cut case timed out at 5 s under that load). Every wait inside
// a case has its own bound.
jest.setTimeout(30_000);

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
    const bad = pi.rollOut(
      composeAt("1"),
      { release: "r1" },
      { stdin: `../escape ${Buffer.from("x").toString("base64")}\n` },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("refusing file name '../escape'");
    expect(fs.existsSync(path.join(pi.dir, "..", "escape"))).toBe(false);
    const none = pi.rollOut(composeAt("2"), { release: "r2" }, { stdin: ".\n" });
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
