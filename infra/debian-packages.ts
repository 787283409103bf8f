// Which Debian packages each image is made from, at the versions its suites have now: a build
// arg of every image (DEBIAN_PACKAGES), declared in the stage that installs them. A Debian update
// of one of them changes the arg, so the next `up` rebuilds that image (BuildKit's cached apt
// layers would otherwise keep the old packages for good) and a preview names the packages; an
// image none of whose packages changed keeps its cache and digest.
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { Platform } from "../components/distroless-image";
import { DebianIndices, type Mirrors } from "../components/debian/mirror";
import type { BaseKind } from "./services";

/**
 * The runtime bases' packages, as infra/bases/runtime/packages.sh (and assemble.sh) install them;
 * `?`: one some releases do not have.
 */
const BASE = [
  "libc6",
  "libssl3t64|libssl3",
  "tzdata",
  "netbase",
  "base-files",
  "media-types",
  "ca-certificates",
];
export const RUNTIME_PACKAGES: Record<BaseKind, readonly string[]> = {
  base: BASE,
  python: [
    ...BASE,
    "python3-minimal",
    "libpython3-stdlib",
    "zlib1g",
    "libexpat1",
    "libffi8",
    "libbz2-1.0",
    "liblzma5",
    "libsqlite3-0",
    "libuuid1",
    "libncursesw6",
    "libtinfo6",
    "libreadline8t64|libreadline8",
    "libmpdec3|libmpdec4?", // bookworm's Python carries its own
    "libcrypt1",
    "libdb5.3t64|libdb5.3",
    "libgdbm6t64|libgdbm6",
    "libnsl2",
    "libtirpc3t64|libtirpc3",
    "libgssapi-krb5-2",
    "libkrb5-3",
    "libk5crypto3",
    "libkrb5support0",
    "libcom-err2",
    "libkeyutils1",
    "libzstd1",
  ],
};

/** The probe's build stage: Go, from the release. */
export const PROBE_PACKAGES: readonly string[] = ["golang-go"];

/** The build arg: `name version` lines of what `roots` bring on this platform, sorted. */
export type PackageArgs = (roots: readonly string[]) => (platform: Platform) => {
  DEBIAN_PACKAGES: pulumi.Output<string>;
};

/** One reading of the release's suites per run, for every image and platform. */
export function debianPackageArgs(release: string, mirrors: Mirrors, home: string): PackageArgs {
  const indices = new DebianIndices(release, mirrors, path.join(home, "debian-indices"));
  return (roots) => (platform) => ({
    DEBIAN_PACKAGES: pulumi.output(
      indices.versions(platform.split("/")[1], roots).catch((err: unknown) => {
        throw new Error(
          `lucid:bases.mirror: reading Debian ${release}'s package indices failed: ` +
            (err instanceof Error ? err.message : String(err)),
        );
      }),
    ),
  });
}
