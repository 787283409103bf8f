import { releaseFiles } from "../../components/pi-remote";
import {
  envVersionsOf,
  onlyCredentialsChanged,
  piRolloutProvider,
  releaseOf,
} from "../../components/pi-rollout";
import { composeOf, fromState, type RolloutSpec } from "../../components/rollout-spec";
import { lucidSet } from "../../infra/lucid";
import { renderCompose } from "../../components/compose";
import { SERVICE_NAMES } from "../../infra/services";
import { rolloutEnv } from "../../components/ssh/rollout";

const set = lucidSet(
  Object.fromEntries(SERVICE_NAMES.map((s) => [s, `reg/lucid@sha256:${"a".repeat(64)}`])),
  { gatewayPort: 8080, platform: "linux/arm64" },
);
// As state gives them back: the services by name, sorted.
const services = Object.fromEntries(
  set.services
    .map(({ name, ...rest }) => [name, rest] as const)
    .sort(([a], [b]) => a.localeCompare(b)),
);
const inputs: RolloutSpec & { providerVersion: string; envVersions: Record<string, string> } = {
  host: "10.250.0.2",
  port: 22,
  user: "deploy",
  hostKey: "ssh-ed25519 AAAA",
  privateKey: "KEY-1",
  project: "lucid",
  remoteDir: "/home/deploy/lucid",
  healthTimeout: 300,
  keepReleases: 5,
  services,
  internalNetworks: set.internalNetworks,
  env: {},
  release: "abc",
  registry: "",
  registryUser: "",
  registryPassword: "",
  providerVersion: "3",
  envVersions: {},
};

describe("PiRollout provider", () => {
  test("check names each missing property", async () => {
    const r = await piRolloutProvider.check!({}, { ...inputs, host: "", services: {} });
    expect(r.failures).toEqual([
      { property: "host", reason: "host is required" },
      { property: "services", reason: "services is required" },
    ]);
  });

  describe("a change of place of a set already on a Pi", () => {
    const check = (news: Partial<typeof inputs>) =>
      piRolloutProvider.check!(inputs, { ...inputs, ...news }).then((r) => r.failures ?? []);

    test("another project or directory on the same Pi is refused, saying what to do", async () => {
      const project = await check({ project: "lucid2" });
      expect(project.map((f) => f.property)).toEqual(["project"]);
      expect(project[0].reason).toMatch(
        /^lucid:pi\.project changes \(lucid -> lucid2\) on the same Pi: .*volumes .* would not follow\. To move it: `pulumi destroy` this stack first .*; or set it back$/,
      );
      const dir = await check({ remoteDir: "/home/deploy/lucid2" });
      expect(dir.map((f) => f.property)).toEqual(["remoteDir"]);
      expect(dir[0].reason).toContain("Keep it: set lucid:pi.dir to /home/deploy/lucid.");
      // the default directory follows the project: both are named
      const both = await check({ project: "lucid2", remoteDir: "/home/deploy/lucid2" });
      expect(both.map((f) => f.property)).toEqual(["project", "remoteDir"]);
    });

    test("another Pi (address and host key both new) is refused; either alone is the same Pi", async () => {
      const other = await check({ host: "10.250.0.9", hostKey: "ssh-ed25519 BBBB" });
      expect(other.map((f) => f.property)).toEqual(["host"]);
      expect(other[0].reason).toContain(
        "that is another Pi, and the set on 10.250.0.2 would keep running",
      );
      expect(await check({ host: "10.250.0.9" })).toEqual([]); // a new address (DHCP)
      expect(await check({ hostKey: "ssh-ed25519 BBBB" })).toEqual([]); // re-imaged
    });

    test("nothing placed yet (a first up, or after destroy): any place", async () => {
      const r = await piRolloutProvider.check!({}, { ...inputs, project: "x", remoteDir: "/x" });
      expect(r.failures).toEqual([]);
    });
  });

  test.each(["privateKey", "registryUser", "registryPassword"] as const)(
    "a rotated %s is a change (state must hold it), not a rollout",
    async (field) => {
      const news = { ...inputs, [field]: "ROTATED" };
      expect((await piRolloutProvider.diff!("id", { ...inputs, drift: [] }, news)).changes).toBe(
        true,
      );
      expect(onlyCredentialsChanged({ ...inputs, drift: [] }, news)).toBe(true);
    },
  );

  test("a credential rotated beside a new release, or with drift to heal, is a rollout", () => {
    const news = { ...inputs, privateKey: "ROTATED", release: "def" };
    expect(onlyCredentialsChanged({ ...inputs, drift: [] }, news)).toBe(false);
    const drift = [{ subject: "api-server", kind: "stopped", recreate: false }];
    expect(
      onlyCredentialsChanged(
        { ...inputs, drift } as unknown as Parameters<typeof onlyCredentialsChanged>[0],
        { ...inputs, privateKey: "ROTATED" },
      ),
    ).toBe(false);
  });

  test("nothing changed is no change", async () => {
    expect((await piRolloutProvider.diff!("id", { ...inputs, drift: [] }, inputs)).changes).toBe(
      false,
    );
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

  test("a preview sees which service's environment changes: names and a keyed hash, no value", () => {
    const v = (env: Record<string, Record<string, string>>, key = "KEY-1") =>
      envVersionsOf(env, key);
    const one = v({ api: { TOKEN: "s3cr3t", A: "1" }, tor: {} });
    expect(Object.keys(one)).toEqual(["api"]); // tor has no environment
    expect(one.api).toMatch(/^A,TOKEN #[0-9a-f]{12}$/);
    expect(one.api).not.toContain("s3cr3t");
    expect(v({ api: { A: "1", TOKEN: "s3cr3t" } }).api).toBe(one.api); // order does not count
    expect(v({ api: { TOKEN: "other", A: "1" } }).api).not.toBe(one.api);
    expect(v({ api: { TOKEN: "s3cr3t", A: "1" } }, "KEY-2").api).not.toBe(one.api);
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

  test("the release's files: the compose file, then every service's secret variables, raw", () => {
    const compose = "services:\n  api:\n    image: a\n  tor:\n    image: b\n";
    const env = { api: { TOKEN: "s3cr3t", Q: "'a' #b ${c}" }, "tor-x": { T: " t " }, tor: {} };
    const lines = releaseFiles(compose, env).trimEnd().split("\n");
    expect(lines.pop()).toBe("."); // the end: a list cut short is never taken for a whole one
    const files = Object.fromEntries(
      lines.map((l) => {
        const [name, data] = l.split(" ");
        return [name, Buffer.from(data ?? "", "base64").toString()];
      }),
    );
    expect(files).toEqual({
      "docker-compose.yml": compose,
      environment:
        "LUCID_ENV_api__Q='a' #b ${c}\nLUCID_ENV_api__TOKEN=s3cr3t\nLUCID_ENV_tor_x__T= t \n",
    });
    expect(lines.join("\n")).not.toContain("s3cr3t"); // on the wire, base64 on stdin only
    // a value of more than one line is refused, naming the variable, never showing the value
    expect(() => releaseFiles(compose, { api: { TOKEN: "two\nlines" } })).toThrow(
      "environment of api: TOKEN must be one line (no CR, LF or NUL)",
    );
  });
});

describe("the rollout's values", () => {
  test("go to rollout.sh as environment: floored, at least two releases kept, the lock wait past the health gate", () => {
    const env = rolloutEnv(
      {
        remoteDir: "/home/pi/my lucid",
        project: "lucid",
        release: "abc",
        healthTimeout: 300.7,
        keepReleases: 1,
      },
      "20261129T090000Z-abc-0a1b2c",
      ["api-server", "tor-proxy"],
    );
    expect(env).toEqual({
      LUCID_DIR: "/home/pi/my lucid",
      LUCID_PROJECT: "lucid",
      LUCID_RELEASE: "abc",
      LUCID_RUN_ID: "20261129T090000Z-abc-0a1b2c",
      LUCID_HEALTH_TIMEOUT: 300,
      LUCID_KEEP: 2,
      LUCID_LOCK_WAIT: 420,
      LUCID_FOLLOW_BOUND: 1380, // the lock's wait, 10 min for pull and up, the gate, a minute
      LUCID_RECREATE: "api-server tor-proxy",
    });
  });

  test("state written by provider version 2 (a compose text, no keepReleases) is still read", () => {
    const v2 = {
      ...inputs,
      services: undefined,
      internalNetworks: undefined,
      env: undefined,
      keepReleases: undefined,
      compose: "version: '2.4'\n",
      providerVersion: "2",
      drift: [],
    };
    const { spec, compose } = fromState(v2);
    expect(compose).toBe("version: '2.4'\n");
    expect(spec).toMatchObject({ keepReleases: 5, env: {}, registry: "" });
  });

  test("a spec's compose file is the program's, whatever order state gives its services", () => {
    const stored = { ...inputs, drift: [] };
    const { compose } = fromState(stored);
    expect(compose).toBe(composeOf(inputs));
    expect(compose).toBe(renderCompose(set)); // the bytes whose hash named the release
    expect(compose).toContain("image: reg/lucid@sha256:");
  });
});
