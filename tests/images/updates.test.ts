// `lucid updates`, the scheduled check for security rebuilds: each release's built images against
// Debian's current packages (the real mirror, through the builder base's own apt sources).
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { atDigest } from "../../components/image-ref";
import { DebianIndices } from "../../components/debian/mirror";
import { RUNTIME_PACKAGES } from "../../infra/debian-packages";
import { DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR } from "../../stacks/config";
import { pendingUpdates, recordedIn, updatesReport } from "../../stacks/package-updates";
import { lucidHome, PROJECT_DIR } from "../../stacks/workspace";
import { SERVICES } from "../../infra/services";
import { preparedImages, REGISTRY, RELEASES, type Built } from "../support/built-images";
import { docker } from "../support/docker";

jest.setTimeout(10 * 60_000);

let built: Record<string, Built>;
beforeAll(async () => {
  built = await preparedImages();
});

/** The suites this machine's candidate of PACKAGE comes from (`apt-cache policy`). */
function suitesOfCandidate(pkg: string): string[] {
  const policy = execFileSync("apt-cache", ["policy", pkg], { encoding: "utf8" });
  const candidate = /^ {2}Candidate: (\S+)/m.exec(policy)?.[1];
  const lines = policy.split("\n");
  const at = lines.findIndex((l) => /^ (\*{3}| {3}) (\S+) \d+$/.exec(l)?.[2] === candidate);
  if (!candidate || at < 0) throw new Error(`no candidate of ${pkg} in this machine's lists`);
  const suites: string[] = [];
  for (const l of lines.slice(at + 1)) {
    const m = /^ {8}\d+ \S+:\/\/\S+ (\S+)\//.exec(l);
    if (!m) break;
    suites.push(m[1]);
  }
  return suites;
}

/** `lucid updates` of a release's image stack, as its own process. */
function lucidUpdates(debian: string) {
  const dir = path.join(lucidHome(), "stacks", `test-images-${debian}`);
  const r = spawnSync(
    "node",
    [path.join(PROJECT_DIR, "dist", "bin", "lucid.js"), "updates", "--stack", `images-${debian}`],
    {
      encoding: "utf8",
      env: {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${dir}/state`,
        PULUMI_CONFIG_PASSPHRASE: "e2e",
        LUCID_WORK_DIR: dir,
      },
      timeout: 5 * 60_000,
    },
  );
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test.each(RELEASES)("%s: right after the build, every package is current (exit 0)", (debian) => {
  const images = SERVICES.length * 2;
  expect(lucidUpdates(debian)).toEqual({
    code: 0,
    out: `every package of the ${images} images is current in its Debian suites\n`,
  });
});

// A package held back: an image whose status.d says it has an older version than the suites
// (as an image built before a Debian update says it). Two of api-server's packages: today one
// comes from the release's point release (libc6), the other from -security (zlib1g); which is
// which is read from this machine's lists, so the order the report must give is known.
test("a package held back is named with the version its suite has, security first", () => {
  const source = built.bookworm["api-server"];
  const repo = `${REGISTRY}/lucid-test-updates`;
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-held-back-"));
  try {
    const from = atDigest(source.ref, source.digests["linux/amd64"]);
    docker(["pull", "--quiet", "--platform", "linux/amd64", from]);
    const id = docker(["create", "--platform", "linux/amd64", from]).trim();
    docker(["cp", `${id}:/var/lib/dpkg/status.d`, ctx]);
    docker(["rm", id]);
    const held = ["libc6", "zlib1g"];
    const current: Record<string, string> = {};
    for (const name of held) {
      const file = path.join(ctx, "status.d", name);
      const stanza = fs.readFileSync(file, "utf8");
      current[name] = /^Version: (.*)$/m.exec(stanza)![1];
      fs.writeFileSync(file, stanza.replace(/^Version: .*$/m, "Version: 0.1~held-back"));
    }
    fs.writeFileSync(
      path.join(ctx, "Dockerfile"),
      `FROM ${from}\nCOPY status.d/ /var/lib/dpkg/status.d/\n`,
    );
    execFileSync("docker", ["build", "--quiet", "-t", `${repo}:held-back`, ctx], {
      stdio: "ignore",
    });
    execFileSync("docker", ["push", "--quiet", `${repo}:held-back`], { stdio: "ignore" });
    const digest = docker(["inspect", "--format", "{{index .RepoDigests 0}}", `${repo}:held-back`])
      .trim()
      .split("@")[1];
    const images = {
      "api-server": { ref: `${repo}:held-back`, digests: { "linux/amd64": digest } },
    };
    const updates = pendingUpdates(images, `${REGISTRY}/lucid/debian:bookworm`);
    expect(
      updates.map((u) => [u.package, u.installed, u.candidate, u.service, u.platform]).sort(),
    ).toEqual(held.map((n) => [n, "0.1~held-back", current[n], "api-server", "linux/amd64"]));
    // Which of the two is a security update: from this machine's own lists (bookworm, with its
    // -updates and -security), so the expected order is known, not taken from the report.
    const fromSecurity = held.filter((n) =>
      suitesOfCandidate(n).some((s) => s.endsWith("-security")),
    );
    const lines = updatesReport(updates, 1).split("\n");
    expect(lines[0]).toBe(
      `2 package(s) behind their Debian suites, ${fromSecurity.length} of them security updates:`,
    );
    expect(lines.slice(1).map((l) => [l.split(/\s+/)[0], l.split(/\s+/)[3]])).toEqual(
      [...fromSecurity, ...held.filter((n) => !fromSecurity.includes(n)).sort()].map((n) => [
        fromSecurity.includes(n) ? "security" : "update",
        n,
      ]),
    );
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
  }
});

// The build input that brings Debian's updates into the images (DEBIAN_PACKAGES, read from the
// same mirror): it must name every package an image is made of, at the version the image has. A
// package missing from it could be updated by Debian without any image rebuilding; a version
// that differs means the image was not built from the suites' current packages. A service image
// holds its runtime base's packages (the base's input: exactly its packages) and its own stage's
// (the service's input: its packages and their dependencies); each must be in the input of the
// build it came from, so a base package is no excuse for a service's stale copy of it.
describe.each(RELEASES)("%s: the build input DEBIAN_PACKAGES", (debian) => {
  const indices = new DebianIndices(
    debian,
    { debian: DEBIAN_MIRROR, security: DEBIAN_SECURITY_MIRROR },
    path.join(lucidHome(), "debian-indices"),
  );
  const asMap = (lines: string) =>
    new Map(lines.split("\n").map((l) => l.split(" ") as [string, string]));
  test.each(SERVICES.map((s) => [s.name, s] as const))(
    "%s: names every package the image records, at its version (both platforms)",
    async (_name, s) => {
      const image = built[debian][s.name];
      for (const platform of ["linux/amd64", "linux/arm64"]) {
        const arch = platform.split("/")[1];
        const base = asMap(await indices.versions(arch, RUNTIME_PACKAGES[s.base], false));
        const own = asMap(await indices.versions(arch, s.debian));
        const recorded = recordedIn(atDigest(image.ref, image.digests[platform]), platform);
        expect(recorded.length).toBeGreaterThan(5);
        const off = recorded
          .filter((p) => (base.get(p.name) ?? own.get(p.name)) !== p.version)
          .map(
            (p) =>
              `${p.name} ${p.version} (input: ${base.get(p.name) ?? own.get(p.name) ?? "none"})`,
          );
        expect({ platform, off }).toEqual({ platform, off: [] });
      }
    },
  );
});
