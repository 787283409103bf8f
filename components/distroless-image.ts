import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { ImageSignature, type SigningKey } from "./signing";
import type { SbomRecord } from "./signing-remote";

export type Platform = "linux/amd64" | "linux/arm64";

export interface DistrolessImageArgs {
  /** Directory holding the Dockerfile and the build context. */
  readonly context: string;
  /** Registry host and repository path images are pushed to, e.g. `docker.io/pickme/lucid`. */
  readonly repository: pulumi.Input<string>;
  /** Tag of the multi-arch index; each platform's image is `<tag>-<arch>`. */
  readonly tag: string;
  /** Platforms to build. @default ["linux/amd64", "linux/arm64"] */
  readonly platforms?: readonly Platform[];
  /** The build's stages, passed to the Dockerfile as build args (see StageImages). */
  readonly stages: StageImages;
  /** Further build args (never secrets: build args are kept in image history). @default {} */
  readonly buildArgs?: Record<string, pulumi.Input<string>>;
  /** Build args of one platform's build, beside those (e.g. what it installs, by version). */
  readonly platformBuildArgs?: (platform: Platform) => Record<string, pulumi.Input<string>>;
  /** Extra build contexts by name (`COPY --from=<name>`), directories relative to the project. */
  readonly namedContexts?: Record<string, string>;
  /** A buildx builder (docker-container or remote driver); the Engine's legacy driver is refused. */
  readonly builder?: pulumi.Input<string>;
  /** OCI labels for every platform's image. @default {} */
  readonly labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Login for the registry pushed to (and read for cache); the password a secret. */
  readonly registryAuth?: RegistryAuth;
  /**
   * Also export every stage's layers to `<repository>:cache-<tag>-<arch>` (mode=max) and build
   * from them: for builders that lose their own cache. Costly: builder stages hold a Debian
   * with its packages (~250 MB an image and platform), all compressed and pushed. @default false
   */
  readonly registryCache?: boolean;
  /** Sign the index and each platform with this key, each platform's SBOM attached. */
  readonly signingKey?: SigningKey;
}

/** A registry login: `address` is the registry host (`docker.io`, `10.250.0.1:5000`). */
export interface RegistryAuth {
  readonly address: pulumi.Input<string>;
  readonly username: pulumi.Input<string>;
  readonly password: pulumi.Input<string>;
}

/** The two-stage design made explicit: which image each stage starts from. */
export interface StageImages {
  /** Builder stage base (full Debian): `BUILDER_IMAGE`. */
  readonly builder: pulumi.Input<string>;
  /** Runtime stage base (distroless): `RUNTIME_IMAGE`. @default the Dockerfile's own */
  readonly runtime?: pulumi.Input<string>;
  /** The health-check probe image: `PROBE_IMAGE`. @default the Dockerfile's own */
  readonly probe?: pulumi.Input<string>;
}

const arch = (p: Platform): string => p.split("/")[1];

/**
 * Every image's time, for builds that give the same image for the same inputs: BuildKit sets the
 * image's and its history's times from it, and the export clamps every file's mtime to it
 * (`rewrite-timestamp`). A fixed time rather than a commit's: the sources' commit is not an input
 * here (a commit id would rebuild every image on every commit). 0, like ko's, says plainly that
 * it is no build time.
 */
export const SOURCE_DATE_EPOCH = "0";

/** The push: to the registry, each file's mtime clamped to SOURCE_DATE_EPOCH. */
const REPRODUCIBLE_PUSH = "type=registry,rewrite-timestamp=true";

const registryCache = (ref: pulumi.Input<string>) => ({
  cacheFrom: [{ registry: { ref } }],
  cacheTo: [
    {
      registry: {
        ref,
        mode: dockerbuild.CacheMode.Max,
        imageManifest: true,
        ociMediaTypes: true,
      },
    },
  ],
});

function stageArgs(s: StageImages): Record<string, pulumi.Input<string>> {
  return {
    BUILDER_IMAGE: s.builder,
    ...(s.runtime ? { RUNTIME_IMAGE: s.runtime } : {}),
    ...(s.probe ? { PROBE_IMAGE: s.probe } : {}),
  };
}

/**
 * A two-stage distroless image: one docker-build Image per platform, pushed with registry cache,
 * joined by an Index into one multi-arch manifest list.
 */
export class DistrolessImage extends pulumi.ComponentResource {
  /** The index, `<repository>:<tag>@sha256:...`: deploy by this, never by the tag alone. */
  public readonly ref: pulumi.Output<string>;
  /** Each platform's image digest. */
  public readonly digests: pulumi.Output<Record<string, string>>;
  /** The index's tag in the repository. */
  public readonly tag: string;
  /** With a signing key: each platform's SBOM as attached (its digest, packages, size, hash). */
  public readonly sboms?: pulumi.Output<Record<string, SbomRecord>>;

  constructor(name: string, args: DistrolessImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lucid:images:DistrolessImage", name, {}, opts);
    const platforms = args.platforms ?? ["linux/amd64", "linux/arm64"];
    // One platform after the other: their arch-independent layers (a COPY of the same files)
    // are the same blobs, and two pushes of one blob at once race in the registry (distribution
    // 2.8 then refuses the manifest: "blob unknown"). Services still build side by side.
    const perPlatform: dockerbuild.Image[] = [];
    for (const p of platforms) perPlatform.push(this.buildFor(name, p, args, perPlatform.at(-1)));
    const index = this.joinPlatforms(name, perPlatform, args);
    this.ref = index.ref;
    this.digests = pulumi
      .all(perPlatform.map((i) => i.digest))
      .apply((ds) => Object.fromEntries(platforms.map((p, n) => [p, ds[n]])));
    this.tag = args.tag;
    if (args.signingKey) {
      this.sboms = new ImageSignature(
        name,
        {
          repository: args.repository,
          ref: this.ref,
          digests: this.digests,
          key: args.signingKey,
          registryAuth: args.registryAuth,
        },
        { parent: this },
      ).sboms;
    }
    this.registerOutputs({ ref: this.ref, digests: this.digests, sboms: this.sboms });
  }

  private buildFor(
    name: string,
    platform: Platform,
    args: DistrolessImageArgs,
    after?: dockerbuild.Image,
  ): dockerbuild.Image {
    const tag = pulumi.interpolate`${args.repository}:${args.tag}-${arch(platform)}`;
    return new dockerbuild.Image(
      `${name}-${platform.replace("/", "-")}`,
      {
        context: {
          location: args.context,
          named: Object.fromEntries(
            Object.entries(args.namedContexts ?? {}).map(([k, location]) => [k, { location }]),
          ),
        },
        dockerfile: { location: `${args.context}/Dockerfile` },
        platforms: [platform as dockerbuild.Platform],
        buildArgs: {
          ...stageArgs(args.stages),
          ...(args.buildArgs ?? {}),
          ...(args.platformBuildArgs?.(platform) ?? {}),
          SOURCE_DATE_EPOCH,
        },
        builder: args.builder ? { name: args.builder } : undefined,
        labels: args.labels,
        tags: [tag],
        push: false, // the export below pushes, with its timestamps rewritten
        exports: [{ raw: REPRODUCIBLE_PUSH }],
        registries: args.registryAuth ? [args.registryAuth] : undefined,
        ...(args.registryCache
          ? registryCache(
              pulumi.interpolate`${args.repository}:cache-${args.tag}-${arch(platform)}`,
            )
          : {}),
      },
      // A pushed digest is never deleted by Pulumi: docker-build 0.0.22 deletes the old digest
      // after a replace, and a rebuild of unchanged sources has the same digest as before.
      { parent: this, retainOnDelete: true, dependsOn: after ? [after] : [] },
    );
  }

  private joinPlatforms(
    name: string,
    images: dockerbuild.Image[],
    args: DistrolessImageArgs,
  ): dockerbuild.Index {
    return new dockerbuild.Index(
      name,
      {
        sources: images.map((i) => i.ref),
        tag: pulumi.interpolate`${args.repository}:${args.tag}`,
        push: true,
        registry: args.registryAuth,
      },
      { parent: this, retainOnDelete: true },
    );
  }
}
