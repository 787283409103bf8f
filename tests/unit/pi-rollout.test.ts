import { piRolloutProvider, releaseOf } from "../../components/pi-rollout";
import { rolloutScript, teardownScript } from "../../components/ssh/rollout";

const inputs = {
  host: "10.250.0.2",
  port: 22,
  user: "deploy",
  hostKey: "ssh-ed25519 AAAA",
  privateKey: "KEY-1",
  project: "lucid",
  remoteDir: "/home/deploy/lucid",
  compose: "version: '2.4'\n",
  release: "abc",
  healthTimeout: 300,
  providerVersion: "2",
};

describe("PiRollout provider", () => {
  test("check names each missing property", async () => {
    const r = await piRolloutProvider.check!({}, { ...inputs, host: "", compose: undefined });
    expect(r.failures).toEqual([
      { property: "host", reason: "host is required" },
      { property: "compose", reason: "compose is required" },
    ]);
  });

  test("diff ignores a rotated private key", async () => {
    expect(
      (await piRolloutProvider.diff!("id", inputs, { ...inputs, privateKey: "KEY-2" })).changes,
    ).toBe(false);
  });

  test.each(["release", "hostKey", "host", "remoteDir"] as const)(
    "diff sees a changed %s",
    async (field) => {
      expect(
        (await piRolloutProvider.diff!("id", inputs, { ...inputs, [field]: "other" })).changes,
      ).toBe(true);
    },
  );

  test("drift found by a refresh is a change: the next up heals it", async () => {
    const drift = [{ subject: "api-server", expected: "running", found: "exited (code 0)" }];
    expect((await piRolloutProvider.diff!("id", { ...inputs, drift }, inputs)).changes).toBe(true);
    expect((await piRolloutProvider.diff!("id", { ...inputs, drift: [] }, inputs)).changes).toBe(
      false,
    );
  });

  test("a release is named by its compose file", () => {
    expect(releaseOf("a")).toBe(releaseOf("a"));
    expect(releaseOf("a")).not.toBe(releaseOf("b"));
    expect(releaseOf("a")).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("rollout programs", () => {
  test("the rollout sets its values, quoted, before the fixed program", () => {
    const script = rolloutScript({
      remoteDir: "/home/pi/my lucid",
      project: "lucid",
      release: "abc",
      healthTimeout: 300.7,
      keep: 5,
      recreate: ["api-server", "tor-proxy"],
    });
    expect(script.split("\n").slice(0, 7)).toEqual([
      "dir='/home/pi/my lucid'",
      "project=lucid",
      "release=abc",
      "timeout=300",
      "keep=5",
      "recreate='api-server tor-proxy'",
      "set -euo pipefail",
    ]);
  });

  test("the rollout takes a lock, gates on health, rolls back, and never removes volumes", () => {
    const script = rolloutScript({
      remoteDir: "/d",
      project: "p",
      release: "r",
      healthTimeout: 60,
      keep: 1,
    });
    expect(script).toContain('mkdir "$dir/.lock"');
    expect(script).toContain("keep=2"); // never fewer than current and previous
    expect(script).toContain('compose "$prev" up -d --remove-orphans');
    expect(script).not.toMatch(/down -v|volume rm|--volumes/);
  });

  test("the teardown takes the set down without its volumes", () => {
    const script = teardownScript({ remoteDir: "/d", project: "p" });
    expect(script).toContain("down --remove-orphans\n");
    expect(script).not.toMatch(/ -v\b|--volumes/);
  });
});
