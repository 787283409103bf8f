import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { remoteCommand } from "../../../components/ssh/programs";
import { FakePi, type Generation } from "../../support/fake-pi";
import { composeAt, NAMES } from "../../support/rollout-cases";

// teardown.sh and rollout.sh on each Compose generation the Pi may have (v2, 1.29, neither), on a
// fake Docker (no Engine). (One of the remote programs' unit files: tests/unit/rollout-program/.)

// Each case runs the real programs under bash, several rollouts in a row (3 s for the longest
// alone): jest's default 5 s was too tight when test.sh runs these files beside the QEMU-bound
// files on two cores (seen: a link-cut case timed out at 5 s under that load). Every wait inside
// a case has its own bound.
jest.setTimeout(30_000);

let pi: FakePi;
afterEach(() => pi?.remove());

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
