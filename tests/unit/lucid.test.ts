import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { parseStackConfig, type ServiceEnv, type StackConfig } from "../../stacks/config";
import { stackFileConfig, withPinnedBases } from "../support/stack-file";
import { parse } from "yaml";
import { releaseOf } from "../../components/pi-rollout";
import { composeOf, type RolloutSpec } from "../../components/rollout-spec";
import { RUNTIME_PACKAGES, type PackageArgs } from "../../infra/debian-packages";
import { SERVICE_NAMES, SERVICES } from "../../infra/services";
import { sourceRevision } from "../../infra/source-revision";
import { recordResources, valueOf, type Registered } from "../support/mocks";
import { PROJECT_DIR } from "../../stacks/workspace";

let seen: Registered[];
let lucid: typeof import("../../infra/lucid");

beforeAll(async () => {
  seen = recordResources();
  lucid = await import("../../infra/lucid");
});

const config = (runtime: StackConfig["bases"]["runtime"] = "local"): StackConfig => ({
  registry: {
    push: "10.250.0.1:5000",
    pull: "10.250.0.1:5000",
    repository: "lucid",
    buildCache: false,
  },
  platforms: ["linux/amd64", "linux/arm64"],
  bases: {
    debian: "bookworm",
    builder: "10.250.0.1:5000/lucid/debian:bookworm",
    runtime,
    mirror: { debian: "http://deb.example/debian", security: "http://deb.example/debian-security" },
  },
  builder: "lucid",
  pi: {
    host: "10.250.0.2",
    port: 22,
    user: "deploy",
    hostKey: "ssh-ed25519 AAAA",
    platform: "linux/arm64",
    project: "lucid",
    gatewayPort: 8080,
    healthTimeout: 300,
    keepReleases: 5,
    dir: "/home/deploy/lucid",
  },
  rollout: true,
  apiTokenRotation: 0,
  signing: true,
  sshPrivateKey: pulumi.secret("PRIVATE-KEY"),
  serviceEnv: pulumi.secret<ServiceEnv>({}),
});
/** What the mirror would say: each root at version 1, per platform, with the options asked. */
const packages: PackageArgs =
  (roots, opts = {}) =>
  (platform) => ({
    DEBIAN_PACKAGES: pulumi.output(
      roots
        .map((r) => `${r} 1 ${platform}`)
        .map((l) => (opts.dependencies === false ? `${l} alone` : l))
        .map((l) => (opts.everyArch ? `${l} every-arch` : l))
        .join("\n"),
    ),
  });
const secret = <T>(value: T) => ({ [specialSigKey]: specialSecretSig, value });

const components = () =>
  seen.filter((r) => r.type === "lucid:images:DistrolessImage").map((r) => r.name);
const image = (name: string) =>
  seen.find((r) => r.type === "docker-build:index:Image" && r.name === name)!;

describe("defineLucid", () => {
  let out: ReturnType<typeof import("../../infra/lucid").defineLucid>;

  beforeAll(async () => {
    out = lucid.defineLucid(config(), packages, PROJECT_DIR);
    await valueOf(out.release!);
    await valueOf(out.services);
  });

  test("builds two runtime bases, the probe and the five services", () => {
    expect(components()).toEqual([
      "runtime-base",
      "runtime-python",
      "lucid-probe",
      "tor-proxy",
      "api-server",
      "api-gateway",
      "tunnel-tools",
      "server-tools",
    ]);
  });

  test("each service starts from its kind of runtime base and the probe, all by digest", () => {
    const args = (n: string) =>
      image(`${n}-linux-arm64`).inputs.buildArgs as Record<string, string>;
    expect(args("tor-proxy").RUNTIME_IMAGE).toMatch(
      /^10\.250\.0\.1:5000\/lucid@sha256:[0-9a-f]{64}$/,
    );
    expect(args("api-server").RUNTIME_IMAGE).not.toBe(args("tor-proxy").RUNTIME_IMAGE);
    expect(args("api-server").RUNTIME_IMAGE).toBe(args("server-tools").RUNTIME_IMAGE);
    expect(args("api-gateway").PROBE_IMAGE).toMatch(/^10\.250\.0\.1:5000\/lucid@sha256:/);
    expect(args("api-gateway").BUILDER_IMAGE).toBe("10.250.0.1:5000/lucid/debian:bookworm");
  });

  test("every build gets DEBIAN_PACKAGES: its own packages, for its platform", () => {
    const arg = (n: string) =>
      (image(n).inputs.buildArgs as Record<string, string>).DEBIAN_PACKAGES;
    for (const s of SERVICES)
      for (const p of ["linux/amd64", "linux/arm64"])
        expect(arg(`${s.name}-${p.replace("/", "-")}`)).toBe(
          s.debian.map((r) => `${r} 1 ${p}`).join("\n"),
        );
    // the bases: their packages alone; the probe: Go on every arch (its stage runs on the builder's)
    expect(arg("runtime-python-linux-arm64").split("\n")).toEqual(
      RUNTIME_PACKAGES.python.map((r) => `${r} 1 linux/arm64 alone`),
    );
    expect(arg("runtime-base-linux-amd64").split("\n")[0]).toBe("libc6 1 linux/amd64 alone");
    expect(arg("lucid-probe-linux-amd64")).toBe("golang-go 1 linux/amd64 every-arch");
  });

  test("the runtime bases are tagged with their Debian release", () => {
    expect(image("runtime-python-linux-amd64").inputs.tags).toEqual([
      "10.250.0.1:5000/lucid:runtime-python-bookworm-amd64",
    ]);
  });

  test("outputs every service's deployed ref (by digest) and per-platform digests", async () => {
    const services = await valueOf(out.services);
    expect(Object.keys(services)).toEqual([
      "tor-proxy",
      "api-server",
      "api-gateway",
      "tunnel-tools",
      "server-tools",
    ]);
    expect(services["api-server"].ref).toMatch(/^10\.250\.0\.1:5000\/lucid@sha256:[0-9a-f]{64}$/);
    expect(Object.keys(services["api-server"].digests)).toEqual(["linux/amd64", "linux/arm64"]);
    expect(await valueOf(out.gatewayUrl!)).toBe("http://10.250.0.2:8080/");
  });

  test("rolls the compose set out once, its release named by the compose file's hash", async () => {
    const rollouts = seen.filter((r) => r.type === "pulumi-nodejs:dynamic/lucid:PiRollout");
    expect(rollouts.map((r) => r.name)).toEqual(["lucid-on-pi"]);
    const compose = await valueOf(out.compose);
    const inputs = rollouts[0].inputs as unknown as RolloutSpec;
    expect(composeOf(inputs)).toBe(compose);
    expect(Object.keys(inputs.services).sort()).toEqual([...SERVICE_NAMES].sort());
    expect(inputs.release).toBe(releaseOf(compose, madeTokenEnv("made-token-0")));
    expect(inputs).toMatchObject({
      project: "lucid",
      remoteDir: "/home/deploy/lucid",
      healthTimeout: 300,
      keepReleases: 5,
    });
    expect(rollouts[0].inputs.privateKey).toEqual({
      [specialSigKey]: specialSecretSig,
      value: "PRIVATE-KEY",
    });
  });

  test("the compose set runs each service's image by digest, for the Pi's platform", async () => {
    const doc = parse(await valueOf(out.compose));
    const services = await valueOf(out.services);
    expect(Object.keys(doc.services).sort()).toEqual([...SERVICE_NAMES].sort()); // none skipped
    for (const [name, svc] of Object.entries(
      doc.services as Record<string, { image: string; platform: string; environment?: string[] }>,
    )) {
      expect(svc.image).toBe(services[name].ref);
      expect(svc.platform).toBe("linux/arm64");
      // the token alone: its value a variable the rollout hands compose, never in the file
      expect(svc.environment).toEqual(
        name === "api-server"
          ? ["LUCID_API_TOKEN=${LUCID_ENV_api_server__LUCID_API_TOKEN}"]
          : undefined,
      );
    }
  });

  test("the services' environment goes to the rollout as a secret, an entry per service", () => {
    // (Each service's is a secret of its own on the wire; the mocks lift nested secrets to the top.)
    const rollout = seen.find((r) => r.type.includes("PiRollout"))!;
    expect(rollout.inputs.env).toEqual(secret(madeTokenEnv("made-token-0")));
  });

  test("the API's token: made by the stack, in api-server's environment only, a secret output", async () => {
    const made = seen.filter((r) => r.type === "pulumi-nodejs:dynamic/lucid:ApiToken");
    expect(made.map((r) => [r.name, r.inputs.rotation])).toEqual([["lucid-api-token", 0]]);
    expect(pulumi.Output.isInstance(out.apiToken)).toBe(true);
    expect(await pulumi.isSecret(out.apiToken!)).toBe(true);
    expect(await valueOf(out.apiToken!)).toBe("made-token-0");
    expect(await valueOf(out.compose)).not.toContain("made-token");
  });
});

/** Every service's environment when the stack made the API token and nothing else is set. */
const madeTokenEnv = (token: string): ServiceEnv =>
  Object.fromEntries(
    SERVICE_NAMES.map((s): [string, Record<string, string>] => [
      s,
      s === "api-server" ? { LUCID_API_TOKEN: token } : {},
    ]),
  );

describe("defineLucid with lucid:apiToken and lucid:serviceEnv", () => {
  test("the given token is api-server's, beside its other variables; none is made", async () => {
    seen.length = 0;
    const out = lucid.defineLucid(
      {
        ...config(),
        apiToken: pulumi.secret("GIVEN-TOKEN"),
        serviceEnv: pulumi.secret<ServiceEnv>({
          "api-server": { A: "1" },
          "tor-proxy": { B: "2" },
        }),
      },
      packages,
      PROJECT_DIR,
    );
    await valueOf(out.release!);
    expect(seen.filter((r) => r.type.includes("ApiToken"))).toEqual([]);
    const rollout = seen.find((r) => r.type.includes("PiRollout"))!;
    expect((rollout.inputs.env as { value: ServiceEnv }).value).toMatchObject({
      "api-server": { A: "1", LUCID_API_TOKEN: "GIVEN-TOKEN" },
      "tor-proxy": { B: "2" },
      "api-gateway": {},
    });
    expect(await valueOf(out.apiToken!)).toBe("GIVEN-TOKEN");
    // the compose file names the variables (no secret: a preview shows the names), not values
    const compose = await valueOf(out.compose);
    expect(compose).toContain("- A=${LUCID_ENV_api_server__A}");
    expect(compose).toContain("- B=${LUCID_ENV_tor_proxy__B}");
    expect(compose).not.toMatch(/GIVEN-TOKEN|=1\b|=2\b/);
    expect(await pulumi.isSecret(out.compose)).toBe(false);
  });

  test("a new lucid:apiTokenRotation asks for a new token", async () => {
    seen.length = 0;
    const out = lucid.defineLucid({ ...config(), apiTokenRotation: 3 }, packages, PROJECT_DIR);
    await valueOf(out.release!); // every registration done before the next test counts
    expect(await valueOf(out.apiToken!)).toBe("made-token-3");
  });
});

describe("defineLucid and lucid:signing", () => {
  const signatures = () =>
    seen.filter((r) => r.type === "pulumi-nodejs:dynamic/lucid:ImageSignature");

  test("on: one key, and every pushed image signed by digest with it; the SBOMs an output", async () => {
    seen.length = 0;
    const out = lucid.defineLucid(config(), packages, PROJECT_DIR);
    const signing = await valueOf(out.signing!.sboms);
    expect(seen.filter((r) => r.type.endsWith(":SigningKey")).map((r) => r.name)).toEqual([
      "lucid-signing-key",
    ]);
    expect(
      signatures()
        .map((r) => r.name)
        .sort(),
    ).toEqual(components().sort());
    const api = signatures().find((r) => r.name === "api-server")!.inputs;
    expect(api.index).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Object.keys(api.platforms as object)).toEqual(["linux/amd64", "linux/arm64"]);
    expect(api.repository).toBe("10.250.0.1:5000/lucid");
    expect(Object.keys(signing).sort()).toEqual(
      [...SERVICE_NAMES, "lucid-probe", "runtime-base-bookworm", "runtime-python-bookworm"].sort(),
    );
    expect(signing["api-server"]).toEqual({ signed: api.index });
    expect(await valueOf(out.signing!.publicKey)).toBe("PUBLIC-KEY");
  });

  test("lucid:signingKey given: the key resource takes it, as secrets", async () => {
    seen.length = 0;
    const signingKey = { privateKey: pulumi.secret("GIVEN-KEY"), password: pulumi.secret("PW") };
    const out = lucid.defineLucid({ ...config(), signingKey }, packages, PROJECT_DIR);
    await valueOf(out.signing!.sboms);
    const key = seen.find((r) => r.type.endsWith(":SigningKey"))!;
    expect(key.inputs.privateKey).toEqual(secret("GIVEN-KEY"));
    expect(key.inputs.password).toEqual(secret("PW"));
  });

  test("off: no key, no signature, no output", async () => {
    seen.length = 0;
    const out = lucid.defineLucid({ ...config(), signing: false }, packages, PROJECT_DIR);
    await valueOf(out.release!);
    expect(seen.filter((r) => /SigningKey|ImageSignature/.test(r.type))).toEqual([]);
    expect(out.signing).toBeUndefined();
  });
});

describe("defineLucid with upstream runtime bases", () => {
  test("builds no base and uses the configured refs", async () => {
    seen.length = 0;
    const out = lucid.defineLucid(
      config({
        base: "gcr.io/distroless/base-debian12",
        python: "gcr.io/distroless/python3-debian12",
      }),
      packages,
      PROJECT_DIR,
    );
    await valueOf(out.services);
    await valueOf(out.release!); // every registration done before the next test counts
    expect(components()).not.toContain("runtime-base");
    expect(
      (image("api-server-linux-amd64").inputs.buildArgs as Record<string, string>).RUNTIME_IMAGE,
    ).toBe("gcr.io/distroless/python3-debian12");
  });
});

describe("defineLucid with a registry login", () => {
  test("every push and the Pi's pull log in; the password stays a secret", async () => {
    seen.length = 0;
    const out = lucid.defineLucid(
      {
        ...config(),
        registry: {
          push: "reg:5001",
          pull: "pi-view:5001",
          repository: "lucid",
          username: "u",
          buildCache: false,
        },
        registryAuth: { username: "u", password: pulumi.secret("PASSWORD") },
      },
      packages,
      PROJECT_DIR,
    );
    await valueOf(out.release!);
    // The whole login is secret (the secret password makes its object one).
    const login = { address: "reg:5001", username: "u", password: "PASSWORD" };
    const pushes = seen.filter((r) => r.type === "docker-build:index:Image");
    expect(pushes.length).toBeGreaterThan(10);
    for (const i of pushes) expect(i.inputs.registries).toEqual(secret([login]));
    const indexes = seen.filter((r) => r.type === "docker-build:index:Index");
    expect(indexes.length).toBeGreaterThanOrEqual(SERVICE_NAMES.length);
    for (const i of indexes) expect(i.inputs.registry).toEqual(secret(login));
    const rollout = seen.find((r) => r.type.includes("PiRollout"))!;
    expect(rollout.inputs).toMatchObject({ registry: "pi-view:5001", registryUser: "u" });
    expect(rollout.inputs.registryPassword).toEqual(secret("PASSWORD"));
    expect(await valueOf(out.compose)).not.toContain("PASSWORD");
  });
});

describe("defineLucid with rollout off", () => {
  test("every image is built by the stack's buildx builder (lucid:builder)", async () => {
    seen.length = 0;
    const out = lucid.defineLucid(
      { ...config(), builder: "desktop-container", rollout: false },
      packages,
      PROJECT_DIR,
    );
    await valueOf(out.services);
    const builds = seen.filter((r) => r.type === "docker-build:index:Image");
    expect(builds.length).toBe(2 * 8); // two platforms of two bases, the probe and five services
    expect(new Set(builds.map((b) => JSON.stringify(b.inputs.builder)))).toEqual(
      new Set([JSON.stringify({ name: "desktop-container" })]),
    );
  });

  test("builds and pushes only: no rollout resource, no release", async () => {
    seen.length = 0;
    const out = lucid.defineLucid({ ...config(), rollout: false }, packages, PROJECT_DIR);
    await valueOf(out.services);
    expect(seen.filter((r) => r.type.includes("PiRollout"))).toEqual([]);
    expect(seen.filter((r) => r.type.includes("ApiToken"))).toEqual([]);
    expect(out).not.toHaveProperty("release");
    expect(out).not.toHaveProperty("apiToken");
  });
});

describe("defineLucid's project directory", () => {
  /** api-gateway's revision label, from a graph defined with `root` as its project directory. */
  const revisionFrom = async (root: string) => {
    seen.length = 0;
    const out = lucid.defineLucid(config(), packages, root);
    await valueOf(out.release!);
    await valueOf(out.services);
    const labels = image("api-gateway-linux-arm64").inputs.labels as Record<string, string>;
    return labels["org.opencontainers.image.revision"];
  };

  test("the labels hash the build contexts under the directory given, not the working one", async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-project-"));
    const cwd = process.cwd();
    try {
      fs.cpSync(path.join(PROJECT_DIR, "infra"), path.join(copy, "infra"), { recursive: true });
      process.chdir(os.tmpdir()); // no infra/ here
      const ours = await revisionFrom(PROJECT_DIR);
      const contexts = ["infra/images/api-gateway", "infra/images/common"];
      expect(ours).toBe(sourceRevision(PROJECT_DIR, contexts));
      expect(await revisionFrom(copy)).toBe(ours);
      fs.appendFileSync(path.join(copy, "infra/images/api-gateway/Dockerfile"), "# changed\n");
      expect(await revisionFrom(copy)).not.toBe(ours);
    } finally {
      process.chdir(cwd);
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe("the pi stack", () => {
  test("its committed config validates and renders a compose set of pickme/lucid images", async () => {
    const { raw, secret } = stackFileConfig("pi");
    const settings = parseStackConfig(
      {
        ...withPinnedBases(raw),
        pi: { ...(raw.pi as object), hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA" },
        sshPrivateKey: "<key>",
      },
      new Set([...secret, "sshPrivateKey"]),
    );
    const out = lucid.defineLucid(
      {
        ...settings,
        sshPrivateKey: pulumi.secret("KEY"),
        serviceEnv: pulumi.secret<ServiceEnv>({}),
      },
      packages,
      PROJECT_DIR,
    );
    const doc = parse(await valueOf(out.compose));
    expect(Object.keys(doc.services)).toEqual([...SERVICE_NAMES].sort());
    for (const svc of Object.values(doc.services as Record<string, { image: string }>)) {
      expect(svc.image).toMatch(/^docker\.io\/pickme\/lucid@sha256:[0-9a-f]{64}$/);
    }
    expect(await valueOf(out.gatewayUrl!)).toBe("http://raspberrypi.local:8080/");
  });
});
