import type * as pulumi from "@pulumi/pulumi";
import { recordResources, valueOf, type Registered } from "../support/mocks";

let seen: Registered[];
let images: typeof import("../../components/distroless-image");

beforeAll(async () => {
  seen = recordResources();
  images = await import("../../components/distroless-image");
});

const build = (
  platforms?: ("linux/amd64" | "linux/arm64")[],
  name = "tor-proxy",
  registryCache = false,
) =>
  new images.DistrolessImage(name, {
    context: "infra/images/tor-proxy",
    repository: "docker.io/pickme/lucid",
    tag: name,
    platforms,
    stages: { builder: "debian:bookworm-slim", runtime: "base@sha256:1", probe: "probe@sha256:2" },
    namedContexts: { common: "infra/images/common" },
    builder: "lucid",
    registryCache,
  });

describe("DistrolessImage", () => {
  test("builds one image per platform and joins them in one index", async () => {
    const img = build();
    await valueOf(img.ref as pulumi.Output<string>);
    const mine = seen.filter((r) => r.name.startsWith("tor-proxy"));
    expect(mine.map((r) => [r.type, r.name])).toEqual([
      ["lucid:images:DistrolessImage", "tor-proxy"],
      ["docker-build:index:Image", "tor-proxy-linux-amd64"],
      ["docker-build:index:Image", "tor-proxy-linux-arm64"],
      ["docker-build:index:Index", "tor-proxy"],
    ]);
  });

  test("each platform is pushed under its own tag, reproducibly (a fixed time, file times clamped)", () => {
    const arm = seen.find((r) => r.name === "tor-proxy-linux-arm64")!;
    expect(arm.inputs).toMatchObject({
      platforms: ["linux/arm64"],
      push: false,
      exports: [{ raw: "type=registry,rewrite-timestamp=true" }],
      tags: ["docker.io/pickme/lucid:tor-proxy-arm64"],
      buildArgs: {
        BUILDER_IMAGE: "debian:bookworm-slim",
        RUNTIME_IMAGE: "base@sha256:1",
        PROBE_IMAGE: "probe@sha256:2",
        SOURCE_DATE_EPOCH: "0",
      },
      context: {
        location: "infra/images/tor-proxy",
        named: { common: { location: "infra/images/common" } },
      },
      builder: { name: "lucid" },
    });
    expect(arm.inputs).not.toHaveProperty("cacheTo"); // the builder's own cache, by default
  });

  test("with registryCache, each platform builds from and exports its cache in the registry", async () => {
    await valueOf(build(undefined, "cached", true).ref as pulumi.Output<string>);
    const arm = seen.find((r) => r.name === "cached-linux-arm64")!;
    const ref = "docker.io/pickme/lucid:cache-cached-arm64";
    expect(arm.inputs).toMatchObject({
      cacheFrom: [{ registry: { ref } }],
      cacheTo: [{ registry: { ref, mode: "max", imageManifest: true, ociMediaTypes: true } }],
    });
  });

  test("the index lists exactly the per-platform images and exposes a pinned ref", async () => {
    const index = seen.find(
      (r) => r.type === "docker-build:index:Index" && r.name === "tor-proxy",
    )!;
    expect(index.inputs.tag).toBe("docker.io/pickme/lucid:tor-proxy");
    expect((index.inputs.sources as string[]).map((s) => s.split("@")[0])).toEqual([
      "docker.io/pickme/lucid:tor-proxy-amd64",
      "docker.io/pickme/lucid:tor-proxy-arm64",
    ]);
  });

  test("digests are keyed by platform", async () => {
    const img = new images.DistrolessImage("solo", {
      context: "x",
      repository: "r",
      tag: "solo",
      platforms: ["linux/arm64"],
      stages: { builder: "b" },
    });
    expect(Object.keys(await valueOf(img.digests))).toEqual(["linux/arm64"]);
  });
});
