import type * as pulumi from "@pulumi/pulumi";
import { DistrolessImage, type Platform, type RegistryAuth } from "../components/distroless-image";
import { byDigest } from "../components/image-ref";
import type { SigningKey } from "../components/signing";
import type { StackConfig } from "../stacks/config";
import { RUNTIME_PACKAGES, type PackageArgs } from "./debian-packages";
import type { BaseKind } from "./services";

/**
 * The runtime stage bases, by kind, and the images built for them. `runtime: local` assembles
 * them here from the Debian packages distroless is made of (same release as the builder);
 * otherwise the configured upstream refs are used as they are, and nothing is built.
 */
export function runtimeBases(
  cfg: StackConfig,
  common: {
    repository: string;
    platforms: Platform[];
    builder: string;
    registryAuth?: RegistryAuth;
    signingKey?: SigningKey;
  },
  packages: PackageArgs,
): { refs: Record<BaseKind, pulumi.Input<string>>; images: DistrolessImage[] } {
  if (cfg.bases.runtime !== "local") return { refs: cfg.bases.runtime, images: [] };
  const build = (kind: BaseKind) =>
    new DistrolessImage(`runtime-${kind}`, {
      ...common,
      context: "infra/bases/runtime",
      namedContexts: { common: "infra/images/common" },
      tag: `runtime-${kind}-${cfg.bases.debian}`,
      stages: { builder: cfg.bases.builder },
      buildArgs: { KIND: kind },
      platformBuildArgs: packages(RUNTIME_PACKAGES[kind], { dependencies: false }),
      labels: {
        "org.opencontainers.image.title": `lucid runtime base (${kind}, Debian ${cfg.bases.debian})`,
      },
    });
  const images = { base: build("base"), python: build("python") };
  return {
    refs: { base: images.base.ref.apply(byDigest), python: images.python.ref.apply(byDigest) },
    images: Object.values(images),
  };
}
