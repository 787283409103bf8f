// Every image, both platforms, inspected as built: the security claims are checked here, on the
// image's own filesystem and config, never taken from prose.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { SERVICES } from "../../infra/services";
import {
  preparedImages,
  REGISTRY,
  RELEASES,
  repositoryFor,
  tripletOf,
} from "../support/built-images";
import { docker, exportFilesystem, imageConfig, pull, type ImageConfig } from "../support/docker";
import { filesIn, unmetElfNeeds } from "../support/elf";

jest.setTimeout(20 * 60_000);

const PLATFORMS = ["linux/amd64", "linux/arm64"];
const SHELLS = [
  "sh",
  "bash",
  "dash",
  "ash",
  "zsh",
  "ksh",
  "mksh",
  "csh",
  "tcsh",
  "fish",
  "busybox",
  "toybox",
];
const PACKAGE_MANAGERS = [
  "apt",
  "apt-get",
  "apt-cache",
  "dpkg",
  "dpkg-deb",
  "apk",
  "rpm",
  "yum",
  "dnf",
  "pip",
  "pip3",
];
const COMPILERS = [
  "gcc",
  "cc",
  "c++",
  "g++",
  "cpp",
  "clang",
  "go",
  "rustc",
  "as",
  "ld",
  "ld.bfd",
  "ld.gold",
];

interface Inspected {
  root: string;
  listing: string[];
  config: ImageConfig;
  names: Set<string>;
}

const inspected = new Map<string, Inspected>();
const cases = RELEASES.flatMap((debian) =>
  SERVICES.flatMap((s) => PLATFORMS.map((p) => [s.name, p, debian] as const)),
);

beforeAll(async () => {
  const built = await preparedImages();
  for (const [name, platform, debian] of cases) {
    const ref = pull(repositoryFor(debian), built[debian][name].digests[platform]);
    const { root, listing } = exportFilesystem(ref);
    const names = new Set(filesIn(root).map((f) => path.posix.basename(f)));
    for (const link of listing.filter((l) => l.startsWith("l")))
      names.add(path.posix.basename(link.split(" -> ")[0].split(/\s+/).pop()!));
    inspected.set(`${name} ${platform} ${debian}`, {
      root,
      listing,
      config: imageConfig(ref),
      names,
    });
  }
});

afterAll(() => {
  for (const i of inspected.values()) fs.rmSync(i.root, { recursive: true, force: true });
});

describe.each(cases)("%s (%s, %s)", (name, platform, debian) => {
  const get = (n: string, p: string) => inspected.get(`${n} ${p} ${debian}`)!;

  test("has no shell", () => {
    expect(SHELLS.filter((s) => get(name, platform).names.has(s))).toEqual([]);
  });

  test("has no package manager", () => {
    expect(PACKAGE_MANAGERS.filter((s) => get(name, platform).names.has(s))).toEqual([]);
    expect(fs.existsSync(path.join(get(name, platform).root, "var/lib/dpkg/status"))).toBe(false);
  });

  test("has no compiler", () => {
    expect(COMPILERS.filter((s) => get(name, platform).names.has(s))).toEqual([]);
  });

  test("has no setuid or setgid file", () => {
    const special = get(name, platform).listing.filter((l) => /^.{3}[sS]|^.{6}[sS]/.test(l));
    expect(special).toEqual([]);
  });

  test("runs as lucid, not root", () => {
    const { config, root } = get(name, platform);
    expect(config.User).toBe("65532:65532");
    const passwd = fs.readFileSync(path.join(root, "etc/passwd"), "utf8");
    expect(passwd).toMatch(/^lucid:x:65532:65532:/m);
  });

  test("every ELF file finds its interpreter and each library it needs", () => {
    expect(unmetElfNeeds(get(name, platform).root, tripletOf(platform))).toEqual([]);
  });

  test("its health check is the catalog's, exec-form; its entrypoint too", () => {
    const { config } = get(name, platform);
    const { health } = SERVICES.find((s) => s.name === name)!;
    const ns = (seconds: number) => seconds * 1e9;
    expect(config.Healthcheck).toEqual({
      Test: ["CMD", ...health.test],
      Interval: ns(health.interval),
      StartPeriod: ns(health.startPeriod),
      Timeout: ns(health.timeout),
      Retries: health.retries,
    });
    expect(config.Entrypoint?.[0]).toMatch(/^\//);
  });

  test("carries OCI labels", () => {
    const labels = get(name, platform).config.Labels ?? {};
    expect(labels["org.opencontainers.image.title"]).toBe(name);
    expect(labels["org.opencontainers.image.source"]).toMatch(/^https:\/\//);
    expect(labels["org.opencontainers.image.version"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(labels["org.opencontainers.image.revision"]).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

/** This machine's apt candidate of PACKAGE: the newest its lists (release, -updates, -security) have. */
const candidate = (pkg: string): string =>
  /Candidate: (\S+)/.exec(execFileSync("apt-cache", ["policy", pkg], { encoding: "utf8" }))?.[1] ??
  "";
const notOlder = (have: string, want: string) =>
  spawnSync("dpkg", ["--compare-versions", have, "ge", want]).status === 0;
/** The first match of `re` in any of the image's files named `name` (a library's version string). */
function versionIn(root: string, name: RegExp, re: RegExp): string | undefined {
  for (const f of filesIn(root).filter((p) => name.test(p))) {
    const m = re.exec(fs.readFileSync(path.join(root, f)).toString("latin1"));
    if (m) return m[1];
  }
  return undefined;
}

describe("Debian's security updates reach the images", () => {
  const host = /^VERSION_CODENAME=(\w+)/m.exec(fs.readFileSync("/etc/os-release", "utf8"))?.[1];

  test.each(RELEASES)(
    "%s: the builder base installs from the release, its -updates and its -security suite",
    (debian) => {
      const ref = `${REGISTRY}/lucid/debian:${debian}`;
      docker(["pull", "--quiet", "--platform", "linux/amd64", ref]);
      const { root } = exportFilesystem(ref);
      try {
        const sources = fs.readFileSync(
          path.join(root, "etc/apt/sources.list.d/debian.sources"),
          "utf8",
        );
        expect(sources.match(/^Suites: .*$/gm)).toEqual([
          `Suites: ${debian} ${debian}-updates`,
          `Suites: ${debian}-security`,
        ]);
        expect(fs.readFileSync(path.join(root, "etc/apt/sources.list"), "utf8")).toBe("");
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
  );

  // Against this machine's own apt lists (its release with -updates and -security, as of the
  // bootstrap's apt-get update): no traffic but to the registry. Libc's version string is
  // Debian's own (`Debian GLIBC 2.36-9+deb12u13`); OpenSSL's is upstream's (3.0.22).
  test("the images of this machine's release carry its newest glibc and OpenSSL", () => {
    expect(RELEASES).toContain(host);
    const libc = candidate("libc6");
    const openssl = /^([\d.]+)/.exec(candidate("libssl3"))?.[1] ?? "";
    expect({ libc, openssl }).toEqual({
      libc: expect.stringMatching(/\d/),
      openssl: expect.stringMatching(/\d/),
    });
    const found: Record<string, { glibc: string; openssl: string }> = {};
    for (const [key, { root }] of inspected) {
      if (!key.endsWith(` ${host}`)) continue;
      const glibc = versionIn(root, /\/libc\.so\.6$/, /Debian GLIBC ([^)\s]+)\)/) ?? "none";
      const ssl = versionIn(root, /\/libcrypto\.so\.3$/, /OpenSSL (\d+\.\d+\.\d+) /) ?? "none";
      found[key] = {
        glibc: glibc !== "none" && notOlder(glibc, libc) ? "current" : glibc,
        openssl: ssl !== "none" && notOlder(ssl, openssl) ? "current" : ssl,
      };
    }
    // every image has a libc, and the current one; those with OpenSSL have the current one
    const stale = Object.entries(found).filter(
      ([, v]) => v.glibc !== "current" || !["current", "none"].includes(v.openssl),
    );
    expect({ libc, openssl, stale }).toEqual({ libc, openssl, stale: [] });
    expect(Object.values(found).filter((v) => v.openssl === "current").length).toBeGreaterThan(0);
  });
});
