import { releaseFiles } from "../../components/pi-remote";
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

  test("a release is named by its compose file, and by its environment when it has one", () => {
    expect(releaseOf("a")).toBe(releaseOf("a"));
    expect(releaseOf("a")).not.toBe(releaseOf("b"));
    expect(releaseOf("a")).toMatch(/^[0-9a-f]{16}$/);
    expect(releaseOf("a", { s: {} })).toBe(releaseOf("a"));
    expect(releaseOf("a", { s: { K: "1" } })).not.toBe(releaseOf("a", { s: { K: "2" } }));
    expect(releaseOf("a", { s: { K: "1", L: "2" }, t: { M: "3" } })).toBe(
      releaseOf("a", { t: { M: "3" }, s: { L: "2", K: "1" } }),
    );
  });

  test("the release's files: the compose file, then an env file for every service", () => {
    const compose = "services:\n  api:\n    image: a\n  tor:\n    image: b\n";
    const lines = releaseFiles(compose, { api: { TOKEN: "s3cr3t" } })
      .trimEnd()
      .split("\n");
    const files = Object.fromEntries(
      lines.map((l) => {
        const [name, data] = l.split(" ");
        return [name, Buffer.from(data ?? "", "base64").toString()];
      }),
    );
    expect(files).toEqual({
      "docker-compose.yml": compose,
      "api.env": "TOKEN=s3cr3t\n",
      "tor.env": "",
    });
    expect(lines.join("\n")).not.toContain("s3cr3t"); // on the wire, base64 on stdin only
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
    expect(script.split("\n").slice(0, 8)).toEqual([
      "dir='/home/pi/my lucid'",
      "project=lucid",
      "release=abc",
      "timeout=300",
      "keep=5",
      "recreate='api-server tor-proxy'",
      "lockwait=420",
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
    expect(script).toContain('until mkdir "$lock"');
    expect(script).toContain("umask 077"); // the env files hold secrets
    expect(script).toContain("keep=2"); // never fewer than current and previous
    expect(script).toContain('compose "$prev" up -d --remove-orphans');
    expect(script).not.toMatch(/down -v|volume rm|--volumes/);
    // older releases' images go only after the release is healthy, and never by force
    expect(script.indexOf("prune_images ||")).toBeGreaterThan(
      script.indexOf('mv -fT "$dir/current.tmp"'),
    );
    expect(script).not.toMatch(/rmi -f|rmi --force|image prune/);
  });

  test("the teardown takes the set down without its volumes", () => {
    const script = teardownScript({ remoteDir: "/d", project: "p" });
    expect(script).toContain("down --remove-orphans\n");
    expect(script).not.toMatch(/ -v\b|--volumes/);
  });
});
