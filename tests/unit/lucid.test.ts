import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { recordResources, valueOf, type Registered } from "../support/mocks";

let seen: Registered[];
let lucid: typeof import("../../infra/lucid");

beforeAll(async () => {
  seen = recordResources();
  lucid = await import("../../infra/lucid");
});

const config = () => ({
  registry: { push: "10.250.0.1:5000", pull: "10.250.0.1:5000", repository: "lucid" },
  platforms: ["linux/amd64", "linux/arm64"] as ("linux/amd64" | "linux/arm64")[],
  builderImage: "10.250.0.1:5000/lucid/debian:bookworm",
  pi: {
    host: "10.250.0.2",
    port: 22,
    user: "deploy",
    hostKey: "ssh-ed25519 AAAA",
    platform: "linux/arm64" as const,
  },
  sshPrivateKey: pulumi.secret("PRIVATE-KEY"),
});

describe("defineLucid (the first slice)", () => {
  test("builds, joins, then runs the image on the Pi by digest", async () => {
    const out = lucid.defineLucid(config());
    expect(await valueOf(out.piMachine)).toBe("aarch64");
    expect(seen.map((r) => r.type)).toEqual([
      "lucid:images:DistrolessImage",
      "docker-build:index:Image",
      "docker-build:index:Image",
      "docker-build:index:Index",
      "pulumi-nodejs:dynamic/lucid:PiCommand",
    ]);
    const run = seen.find((r) => r.type === "pulumi-nodejs:dynamic/lucid:PiCommand")!;
    const ref = (await valueOf(out.archProbeRef)).replace(":arch-probe@", "@");
    expect(run.inputs.command).toBe(
      `docker pull --quiet --platform linux/arm64 ${ref} && ` +
        `docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges ${ref}`,
    );
  });

  test("the deploy key reaches the Pi command only as a secret", () => {
    const run = seen.find((r) => r.type === "pulumi-nodejs:dynamic/lucid:PiCommand")!;
    expect(run.inputs.privateKey).toEqual({
      [specialSigKey]: specialSecretSig,
      value: "PRIVATE-KEY",
    });
  });
});
