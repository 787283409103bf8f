import * as fs from "fs";
import * as path from "path";
import { lucidCompose } from "../../../infra/lucid";
import { SERVICES } from "../../../infra/services";
import { AWKWARD_ENV } from "../../support/awkward-env";
import { FakePi, type Generation } from "../../support/fake-pi";
import { NAMES, ref } from "../../support/rollout-cases";

// A release's secret environment through rollout.sh, byte for byte, on a fake Docker (no Engine),
// for both Compose generations. (One of the remote programs' unit files:
// tests/unit/rollout-program/.)

// Each case runs the real programs under bash, several rollouts in a row (3 s for the longest
// alone): jest's default 5 s was too tight when test.sh runs these files beside the QEMU-bound
// files on two cores (seen: a link-cut case timed out at 5 s under that load). Every wait inside
// a case has its own bound.
jest.setTimeout(30_000);

let pi: FakePi;
afterEach(() => pi?.remove());

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
