import { ConfigError, isSecretKey, parseStackConfig } from "../../stacks/config";
import { stackFileConfig, withPinnedBases } from "../support/stack-file";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMq9iHC/UeX6jlROqHzrZOVGs4DsHHPmY6hx3Zdf0iXy";

const valid = (): Record<string, unknown> => ({
  registry: { push: "10.250.0.1:5000", repository: "lucid" },
  platforms: ["linux/amd64", "linux/arm64"],
  bases: { builder: "10.250.0.1:5000/lucid/debian:bookworm" },
  pi: { host: "10.250.0.2", port: 22, user: "deploy", hostKey: HOST_KEY },
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----",
});
const SECRET = new Set(["sshPrivateKey"]);

const problemsOf = (raw: Record<string, unknown>, secret = SECRET): string[] => {
  try {
    parseStackConfig(raw, secret);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe("parseStackConfig", () => {
  test("a valid config parses, with defaults filled in", () => {
    const cfg = parseStackConfig(valid(), SECRET);
    expect(cfg.registry).toEqual({
      push: "10.250.0.1:5000",
      pull: "10.250.0.1:5000",
      repository: "lucid",
      buildCache: false,
    });
    expect(cfg.pi.platform).toBe("linux/arm64");
    expect(cfg.pi.keepReleases).toBe(5);
    expect(cfg.bases).toEqual({
      debian: "bookworm",
      builder: "10.250.0.1:5000/lucid/debian:bookworm",
      runtime: "local",
      mirror: {
        debian: "http://deb.debian.org/debian",
        security: "http://deb.debian.org/debian-security",
      },
    });
    expect(cfg).not.toHaveProperty("sshPrivateKey");
  });

  // Every row has four cells: jest passes `done` in place of a missing last one.
  const cases: [string, (c: Record<string, unknown>) => void, string[], Set<string> | null][] = [
    ["missing pi", (c) => delete c.pi, ["lucid:pi: required"], null],
    [
      "missing pi.hostKey",
      (c) => delete (c.pi as Record<string, unknown>).hostKey,
      ["lucid:pi.hostKey: required"],
      null,
    ],
    [
      "fewer than two releases kept",
      (c) => ((c.pi as Record<string, unknown>).keepReleases = 1),
      ["lucid:pi.keepReleases: Too small: expected number to be >=2"],
      null,
    ],
    ["unknown top-level key", (c) => (c.colour = "blue"), ["lucid:colour: unknown key"], null],
    [
      "a Debian mirror that is no URL",
      (c) =>
        ((c.bases as Record<string, unknown>).mirror = {
          security: "deb.debian.org/debian-security",
        }),
      [
        "lucid:bases.mirror.security: must be an http:// or https:// URL, e.g. http://deb.debian.org/debian-security",
      ],
      null,
    ],
    [
      "a builder that is no buildx builder's name",
      (c) => (c.builder = "my builder"),
      ["lucid:builder: must be a buildx builder's name (docker buildx ls)"],
      null,
    ],
    [
      "a gateway address that is not an IPv4 address",
      (c) => ((c.pi as Record<string, unknown>).gatewayAddress = "raspberrypi.local"),
      ["lucid:pi.gatewayAddress: must be an IPv4 address of the Pi, e.g. its LAN address"],
      null,
    ],
    [
      "a gateway address out of range",
      (c) => ((c.pi as Record<string, unknown>).gatewayAddress = "192.168.1.256"),
      ["lucid:pi.gatewayAddress: must be an IPv4 address of the Pi, e.g. its LAN address"],
      null,
    ],
    [
      "unknown nested key",
      (c) => ((c.pi as Record<string, unknown>).passwd = "x"),
      ["lucid:pi.passwd: unknown key"],
      null,
    ],
    [
      "bad platform",
      (c) => (c.platforms = ["linux/arm/v7"]),
      ['lucid:platforms.0: Invalid option: expected one of "linux/amd64"|"linux/arm64"'],
      null,
    ],
    [
      "repeated platform",
      (c) => (c.platforms = ["linux/arm64", "linux/arm64"]),
      ["lucid:platforms: must not repeat a platform"],
      null,
    ],
    [
      "bad host key",
      (c) => ((c.pi as Record<string, unknown>).hostKey = "10.250.0.2 ssh-ed25519 AAAA"),
      [
        "lucid:pi.hostKey: must be a public host key: '<type> <base64>' (as in ssh-keyscan output, without the host)",
      ],
      null,
    ],
    [
      "malformed digest",
      (c) => ((c.bases as Record<string, unknown>).builder = "debian@sha256:1234"),
      ["lucid:bases.builder: must be an image reference (name[:tag][@sha256:<64 hex>])"],
      null,
    ],
    [
      "registry with a scheme",
      (c) => ((c.registry as Record<string, unknown>).push = "https://docker.io"),
      ["lucid:registry.push: must be host or host:port, without a scheme"],
      null,
    ],
    ["missing SSH key", (c) => delete c.sshPrivateKey, ["lucid:sshPrivateKey: required"], null],
    [
      "non-secret SSH key",
      () => undefined,
      ["lucid:sshPrivateKey: must be a secret (pulumi config set --secret)"],
      new Set<string>(),
    ],
    [
      "registry user without a password",
      (c) => ((c.registry as Record<string, unknown>).username = "lucid"),
      ["lucid:registryPassword: required"],
      null,
    ],
    [
      "registry password without a user",
      (c) => (c.registryPassword = "hunter2"),
      ["lucid:registry.username: required"],
      new Set(["sshPrivateKey", "registryPassword"]),
    ],
    [
      "non-secret registry password",
      (c) => {
        (c.registry as Record<string, unknown>).username = "lucid";
        c.registryPassword = "hunter2";
      },
      ["lucid:registryPassword: must be a secret (pulumi config set --secret)"],
      null,
    ],
  ];

  test.each(cases)("%s is refused, naming the key", (_name, mutate, expected, secret) => {
    const raw = valid();
    mutate(raw);
    expect(problemsOf(raw, secret ?? SECRET)).toEqual(expected);
  });

  test("errors never print a value", () => {
    const raw = valid();
    (raw.pi as Record<string, unknown>).hostKey = "s3cr3t-looking-value";
    const problems = problemsOf(raw, new Set()).join("\n");
    // there are errors to read (a bad host key, a key not set as a secret), and none prints it
    expect(problems).toMatch(/lucid:pi\.hostKey: must be a public host key/);
    expect(problems).toMatch(/lucid:sshPrivateKey: must be a secret/);
    expect(problems).not.toContain("s3cr3t-looking-value");
    expect(problems).not.toContain("BEGIN OPENSSH");
  });

  test("lucid:serviceEnv is checked by service and name, never printing a value", () => {
    const services = ["api-server", "tor-proxy"];
    const env = {
      "api-server": { TOKEN: "ok", "BAD-NAME": "x", MULTI: "line1\nline2-s3cr3t" },
      nosuch: { A: "b" },
    };
    const problems = (() => {
      try {
        parseStackConfig(
          { ...valid(), serviceEnv: env },
          new Set([...SECRET, "serviceEnv"]),
          services,
        );
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    })();
    expect(problems).toEqual([
      "lucid:serviceEnv.api-server.BAD-NAME: not an environment variable name",
      "lucid:serviceEnv.api-server.MULTI: must be a one-line string",
      "lucid:serviceEnv.nosuch: not a service (api-server, tor-proxy)",
    ]);
    expect(problems.join("\n")).not.toContain("s3cr3t");
    expect(problemsOf({ ...valid(), serviceEnv: { "api-server": {} } })).toEqual([
      "lucid:serviceEnv.api-server: not a service ()",
      "lucid:serviceEnv: must be a secret (pulumi config set --secret)",
    ]);
  });

  test("lucid:apiToken: a secret of 32 to 256 visible characters, never printed, never in the settings", () => {
    const withToken = (token: unknown, secret = true) =>
      problemsOf(
        { ...valid(), apiToken: token },
        new Set([...SECRET, ...(secret ? ["apiToken"] : [])]),
      );
    const shape =
      "lucid:apiToken: must be 32 to 256 of A-Z a-z 0-9 - . _ ~ + / (then = padding), as a bearer token";
    expect(withToken("t".repeat(32))).toEqual([]);
    expect(withToken("t".repeat(256))).toEqual([]);
    expect(withToken(`${"Az09-._~+/".repeat(4)}==`)).toEqual([]);
    const bad: unknown[] = [
      "s3cr3t-short",
      "t".repeat(257),
      `${"t".repeat(31)} x`,
      "é".repeat(40),
      12,
    ];
    // what an env file would change: quotes, $, #, backslash
    for (const c of ['"', "'", "$", "#", "\\", "="]) bad.push(`${"t".repeat(32)}${c}tail`);
    for (const b of bad) expect(withToken(b)).toEqual([shape]);
    expect(withToken("s3cr3t".repeat(8), false)).toEqual([
      "lucid:apiToken: must be a secret (pulumi config set --secret)",
    ]);
    expect(withToken("s3cr3t-short").join("\n")).not.toContain("s3cr3t");
    const cfg = parseStackConfig(
      { ...valid(), apiToken: "s3cr3t".repeat(8) },
      new Set([...SECRET, "apiToken"]),
    );
    expect(JSON.stringify(cfg)).not.toContain("s3cr3t");
    expect(cfg.apiTokenRotation).toBe(0);
    expect(problemsOf({ ...valid(), apiTokenRotation: -1 })).toEqual([
      "lucid:apiTokenRotation: Too small: expected number to be >=0",
    ]);
  });

  test("lucid:signing: on by default; lucid:signingKey a cosign key with its password, both secrets, never printed", () => {
    expect(parseStackConfig(valid(), SECRET).signing).toBe(true);
    expect(problemsOf({ ...valid(), signing: "yes" })).toEqual([
      "lucid:signing: Invalid input: expected boolean, received string",
    ]);
    const KEY = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${"s3cr3tK3y".repeat(12)}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
    const both = new Set([...SECRET, "signingKey", "signingKeyPassword"]);
    const withKey = (over: Record<string, unknown>, secret = both) =>
      problemsOf({ ...valid(), ...over }, secret);
    expect(withKey({ signingKey: KEY, signingKeyPassword: "pw-s3cr3t" })).toEqual([]);
    expect(
      withKey({ signingKey: KEY.replace(/SIGSTORE/g, "COSIGN"), signingKeyPassword: "p" }),
    ).toEqual([]);
    expect(withKey({ signingKey: KEY })).toEqual(["lucid:signingKeyPassword: required"]);
    expect(withKey({ signingKeyPassword: "pw-s3cr3t" })).toEqual(["lucid:signingKey: required"]);
    expect(withKey({ signingKey: KEY, signingKeyPassword: "pw-s3cr3t" }, SECRET)).toEqual([
      "lucid:signingKey: must be a secret (pulumi config set --secret)",
      "lucid:signingKeyPassword: must be a secret (pulumi config set --secret)",
    ]);
    const shape =
      "lucid:signingKey: must be a cosign private key (the cosign.key `cosign generate-key-pair` writes), " +
      "set with: pulumi config set --secret lucid:signingKey < cosign.key";
    const unencrypted = KEY.replace(/ENCRYPTED SIGSTORE /g, "");
    for (const bad of [unencrypted, "s3cr3tK3y", KEY.replace("-----END", "--END"), 7])
      expect(withKey({ signingKey: bad, signingKeyPassword: "p" })).toEqual([shape]);
    expect(withKey({ signingKey: "s3cr3tK3y", signingKeyPassword: "p" }).join("\n")).not.toContain(
      "s3cr3t",
    );
    const cfg = parseStackConfig(
      { ...valid(), signingKey: KEY, signingKeyPassword: "pw-s3cr3t" },
      both,
    );
    expect(JSON.stringify(cfg)).not.toMatch(/s3cr3t/);
  });

  test("api-server's LUCID_API_TOKEN comes from lucid:apiToken, not lucid:serviceEnv", () => {
    const env = { "api-server": { LUCID_API_TOKEN: "s3cr3t".repeat(8) } };
    let problems: string[] = [];
    try {
      parseStackConfig({ ...valid(), serviceEnv: env }, new Set([...SECRET, "serviceEnv"]), [
        "api-server",
      ]);
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual([
      "lucid:serviceEnv.api-server.LUCID_API_TOKEN: set by the stack; give the token as lucid:apiToken",
    ]);
  });

  test("a registry login parses; its password never reaches the settings", () => {
    const raw: Record<string, unknown> = { ...valid(), registryPassword: "hunter2" };
    (raw.registry as Record<string, unknown>).username = "lucid";
    const cfg = parseStackConfig(raw, new Set(["sshPrivateKey", "registryPassword"]));
    expect(cfg.registry.username).toBe("lucid");
    expect(JSON.stringify(cfg)).not.toContain("hunter2");
  });

  test("every problem is reported at once", () => {
    const raw = valid();
    delete raw.registry;
    delete raw.bases;
    expect(problemsOf(raw)).toEqual(["lucid:registry: required", "lucid:bases: required"]);
  });
});

describe("committed stack files", () => {
  // The pins are the user's to make (`lucid pin-bases`): Docker Hub and gcr.io answer from
  // their machine, not from this one.
  test("a new pi stack, as committed: the missing keys and each unpinned base named at once", () => {
    const { raw, secret } = stackFileConfig("pi");
    const pin = (key: string) =>
      `lucid:bases.${key}: an upstream base must be pinned by digest (name:tag@sha256:<64 hex>); ` +
      "`npm run lucid -- pin-bases --stack <stack>` pins each base to the digest its tag names now";
    expect(problemsOf(raw, secret)).toEqual([
      "lucid:pi.hostKey: required",
      "lucid:sshPrivateKey: required",
      pin("builder"),
      pin("runtime.base"),
      pin("runtime.python"),
    ]);
  });

  test("the pi stack validates once its bases are pinned and its host key and SSH key set", () => {
    const { raw, secret } = stackFileConfig("pi");
    const cfg = parseStackConfig(
      {
        ...withPinnedBases(raw),
        pi: { ...(raw.pi as object), hostKey: HOST_KEY },
        sshPrivateKey: "<key>",
      },
      new Set([...secret, "sshPrivateKey"]),
    );
    expect(cfg.registry).toEqual({
      push: "docker.io",
      pull: "docker.io",
      repository: "pickme/lucid",
      buildCache: false,
    });
  });

  test("the dev stack validates once this machine's keys are pinned", () => {
    const { raw } = stackFileConfig("dev");
    const cfg = parseStackConfig(
      { ...raw, pi: { ...(raw.pi as object), hostKey: HOST_KEY }, sshPrivateKey: "<key>" },
      SECRET,
    );
    expect(cfg.pi.host).toBe("10.250.0.2");
  });
});

describe("isSecretKey: what `lucid config set` stores encrypted without --secret", () => {
  test.each([
    ["lucid:sshPrivateKey", true],
    ["sshPrivateKey", true],
    ["lucid:registryPassword", true],
    ["lucid:apiToken", true],
    ["lucid:serviceEnv.api-server.TOKEN", true],
    ['lucid:serviceEnv["api-server"]', true],
    ["lucid:pi.host", false],
    ["lucid:registry.username", false],
    ["lucid:sshPrivateKeyNote", false],
  ])("%s: %s", (key, secret) => expect(isSecretKey(key)).toBe(secret));
});
