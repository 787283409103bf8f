import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import type { StackConfig } from "../../stacks/config";
import { recordResources, valueOf, type Registered } from "../support/mocks";

let seen: Registered[];
let lucid: typeof import("../../infra/lucid");

beforeAll(async () => {
  seen = recordResources();
  lucid = await import("../../infra/lucid");
});

const config = (runtime: StackConfig["bases"]["runtime"] = "local"): StackConfig => ({
  registry: { push: "10.250.0.1:5000", pull: "10.250.0.1:5000", repository: "lucid" },
  platforms: ["linux/amd64", "linux/arm64"],
  bases: { debian: "bookworm", builder: "10.250.0.1:5000/lucid/debian:bookworm", runtime },
  pi: {
    host: "10.250.0.2",
    port: 22,
    user: "deploy",
    hostKey: "ssh-ed25519 AAAA",
    platform: "linux/arm64",
  },
  sshPrivateKey: pulumi.secret("PRIVATE-KEY"),
});

const components = () =>
  seen.filter((r) => r.type === "lucid:images:DistrolessImage").map((r) => r.name);
const image = (name: string) =>
  seen.find((r) => r.type === "docker-build:index:Image" && r.name === name)!;

describe("defineLucid", () => {
  let out: ReturnType<typeof import("../../infra/lucid").defineLucid>;

  beforeAll(async () => {
    out = lucid.defineLucid(config());
    await valueOf(out.piMachine);
    await valueOf(out.images);
  });

  test("builds two runtime bases, the probe, the five services and the slice", () => {
    expect(components()).toEqual([
      "runtime-base",
      "runtime-python",
      "lucid-probe",
      "tor-proxy",
      "api-server",
      "api-gateway",
      "tunnel-tools",
      "server-tools",
      "arch-probe",
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

  test("the runtime bases are tagged with their Debian release", () => {
    expect(image("runtime-python-linux-amd64").inputs.tags).toEqual([
      "10.250.0.1:5000/lucid:runtime-python-bookworm-amd64",
    ]);
  });

  test("outputs every service's pinned ref and per-platform digests", async () => {
    const images = await valueOf(out.images);
    expect(Object.keys(images)).toEqual([
      "tor-proxy",
      "api-server",
      "api-gateway",
      "tunnel-tools",
      "server-tools",
    ]);
    expect(images["api-server"].ref).toMatch(
      /^10\.250\.0\.1:5000\/lucid:api-server@sha256:[0-9a-f]{64}$/,
    );
    expect(Object.keys(images["api-server"].digests)).toEqual(["linux/amd64", "linux/arm64"]);
  });

  test("the slice runs its image on the Pi by digest, with the deploy key as a secret", async () => {
    const run = seen.find((r) => r.type === "pulumi-nodejs:dynamic/lucid:PiCommand")!;
    const ref = (await valueOf(out.archProbeRef)).replace(":arch-probe@", "@");
    expect(run.inputs.command).toBe(
      `docker pull --quiet --platform linux/arm64 ${ref} && ` +
        `docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges ${ref}`,
    );
    expect(run.inputs.privateKey).toEqual({
      [specialSigKey]: specialSecretSig,
      value: "PRIVATE-KEY",
    });
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
    );
    await valueOf(out.images);
    expect(components()).not.toContain("runtime-base");
    expect(
      (image("api-server-linux-amd64").inputs.buildArgs as Record<string, string>).RUNTIME_IMAGE,
    ).toBe("gcr.io/distroless/python3-debian12");
  });
});
