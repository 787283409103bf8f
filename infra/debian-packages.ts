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
 * The runtime bases' packages, exactly as infra/bases/runtime/packages.sh names them (assemble.sh
 * downloads these and no dependency of theirs), and the ca-certificates whose bundle it copies;
 * `a|b`: the first the release has; `?`: one some releases have none of.
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
    // the release's Python (packages.sh: the one python3-minimal depends on)
    "python3.13-minimal|python3.11-minimal",
    "libpython3.13-minimal|libpython3.11-minimal",
    "libpython3.13-stdlib|libpython3.11-stdlib",
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
    "libmpdec3|libmpdec4?", // bookworm has neither (its Python brings its own)
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

/**
 * The probe's build stage: Go, from the release, for the build machine's platform (the stage runs
 * there), so every platform's probe takes Go's versions on both.
 */
export const PROBE_PACKAGES: readonly string[] = ["golang-go"];

export interface PackageOptions {
  /** false: the roots alone, for a build that downloads exactly them. @default true */
  dependencies?: boolean;
  /** true: the versions on every supported arch, for a stage on the build machine's platform. */
  everyArch?: boolean;
}

/** The build arg: `name version` lines of what `roots` bring on this platform, sorted. */
export type PackageArgs = (
  roots: readonly string[],
  opts?: PackageOptions,
) => (platform: Platform) => { DEBIAN_PACKAGES: pulumi.Output<string> };

const ARCHES = ["amd64", "arm64"];

/** One reading of the release's suites per run, for every image and platform. */
export function debianPackageArgs(release: string, mirrors: Mirrors, home: string): PackageArgs {
  const indices = new DebianIndices(release, mirrors, path.join(home, "debian-indices"));
  const of = (arch: string, roots: readonly string[], opts: PackageOptions) =>
    indices.versions(arch, roots, opts.dependencies ?? true);
  return (roots, opts = {}) =>
    (platform) => {
      const lines = opts.everyArch
        ? Promise.all(ARCHES.map((a) => of(a, roots, opts))).then((ls) =>
            ARCHES.map((a, i) => `# ${a}\n${ls[i]}`).join("\n"),
          )
        : of(platform.split("/")[1], roots, opts);
      return {
        DEBIAN_PACKAGES: pulumi.output(
          lines.catch((err: unknown) => {
            throw new Error(
              `lucid:bases.mirror: reading Debian ${release}'s package indices failed: ` +
                (err instanceof Error ? err.message : String(err)),
            );
          }),
        ),
      };
    };
}
