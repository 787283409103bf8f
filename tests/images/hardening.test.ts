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
import { recordedPackages, usrMerged } from "../support/dpkg-status";
import { filesIn, isElf, unmetElfNeeds } from "../support/elf";
import { lucidHome } from "../../stacks/workspace";

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

/** Built here from source, not from a Debian package (Syft names it by its Go build info). */
const OWN_BINARIES = ["/usr/local/bin/lucid-probe"];

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

  test("records in status.d the Debian package of every ELF file it holds", () => {
    const { root } = get(name, platform);
    const recorded = recordedPackages(root);
    expect(recorded.length).toBeGreaterThan(0);
    const arch = platform.split("/")[1];
    const odd = recorded
      .filter(
        (p) =>
          !p.version ||
          p.status !== "install ok installed" ||
          ![arch, "all"].includes(p.architecture),
      )
      .map((p) => `${p.name} ${p.version} ${p.architecture} (${p.status})`);
    expect(odd).toEqual([]);
    const owned = new Set(recorded.flatMap((p) => p.files));
    const elfs = filesIn(root).filter((f) => isElf(root, f));
    expect(elfs.length).toBeGreaterThan(0);
    const unowned = elfs.filter((f) => !OWN_BINARIES.includes(f) && !owned.has(usrMerged(f)));
    expect(unowned).toEqual([]);
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

/** Syft's JSON: the packages it found, their files (a Debian package's) and where it found them. */
interface SyftJson {
  artifacts: {
    name: string;
    version: string;
    type: string;
    locations: { path: string }[];
    metadata?: { files?: { path: string }[] };
  }[];
}

// What a scanner sees: Syft reads status.d as it reads Google's distroless images (and a Go
// binary's build info for the probe). Its Debian packages are the ones status.d records, and
// every ELF file of the image is a file of one of the packages it found.
describe.each(cases)("Syft's inventory of %s (%s, %s)", (name, platform, debian) => {
  test("lists the recorded packages, and a package for every ELF file", () => {
    const { root } = inspected.get(`${name} ${platform} ${debian}`)!;
    const syft = path.join(lucidHome(), "bin", "syft");
    const sbom = JSON.parse(
      execFileSync(syft, ["scan", `dir:${root}`, "--output", "json", "--quiet"], {
        encoding: "utf8",
        maxBuffer: 512 << 20,
        env: { ...process.env, SYFT_CHECK_FOR_APP_UPDATE: "false" },
      }),
    ) as SyftJson;
    const debs = sbom.artifacts.filter((a) => a.type === "deb");
    expect(debs.map((a) => `${a.name} ${a.version}`).sort()).toEqual(
      recordedPackages(root)
        .map((p) => `${p.name} ${p.version}`)
        .sort(),
    );
    const claimed = new Set(
      sbom.artifacts.flatMap((a) => [
        ...(a.metadata?.files ?? []).map((f) => usrMerged(f.path)),
        ...(a.type === "deb" ? [] : a.locations.map((l) => usrMerged(l.path))),
      ]),
    );
    const elfs = filesIn(root).filter((f) => isElf(root, f));
    expect(elfs.length).toBeGreaterThan(0);
    expect(elfs.filter((f) => !claimed.has(usrMerged(f)))).toEqual([]);
  });
});

/**
 * This machine's apt candidate of each package: the newest its lists (release, -updates,
 * -security) have. One apt-cache for all (a process each took a minute).
 */
function candidatesOf(names: string[]): Map<string, string> {
  const found = new Map<string, string>();
  let current = "";
  for (const line of execFileSync("apt-cache", ["policy", ...names], { encoding: "utf8" }).split(
    "\n",
  )) {
    current = /^(\S+):$/.exec(line)?.[1] ?? current;
    const c = /^ {2}Candidate: (\S+)/.exec(line)?.[1];
    if (c && c !== "(none)") found.set(current, c);
  }
  return found;
}
const candidate = (pkg: string): string => candidatesOf([pkg]).get(pkg) ?? "";
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

  // The same, for every package an image records (status.d): none older than this machine's
  // candidate. A binNMU (`+b1`) is one architecture's rebuild of the same source: left out of the
  // comparison, so an arm64 package is not "behind" an amd64 candidate rebuilt on its own.
  test("every package the images of this machine's release record is its suites' newest", () => {
    const noBinNmu = (v: string) => v.replace(/\+b\d+$/, "");
    const mine = [...inspected].filter(([key]) => key.endsWith(` ${host}`));
    const names = new Set(
      mine.flatMap(([, { root }]) => recordedPackages(root).map((p) => p.name)),
    );
    const candidates = candidatesOf([...names]);
    const behind: string[] = [];
    let checked = 0;
    for (const [key, { root }] of mine) {
      for (const p of recordedPackages(root)) {
        const want = candidates.get(p.name) ?? "";
        checked++;
        if (!want || !notOlder(noBinNmu(p.version), noBinNmu(want)))
          behind.push(
            `${key}: ${p.name} ${p.version} < ${want || "(not in this machine's lists)"}`,
          );
      }
    }
    expect(checked).toBeGreaterThan(SERVICES.length * 2 * 10);
    expect(behind).toEqual([]);
  });
});
