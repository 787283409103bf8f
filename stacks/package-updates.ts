// `lucid updates`: the packages of a stack's images that Debian has newer versions of. Each image
// says what it is made of (/var/lib/dpkg/status.d, read without running it); one container of
// the stack's builder base, with the images' own apt sources (the release, -updates, -security),
// says what is current (package-updates.sh).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { atDigest } from "../components/image-ref";
import { PROJECT_DIR } from "./workspace";

/** Per service, as the stack's `services` output has it. */
export type ImageSet = Record<string, { ref: string; digests: Record<string, string> }>;

export interface RecordedPackage {
  name: string;
  version: string;
  architecture: string;
}

export interface PendingUpdate {
  service: string;
  platform: string;
  package: string;
  installed: string;
  /** "(none)": no suite has the package any more. */
  candidate: string;
  /** The suites the candidate comes from, e.g. ["bookworm-security"]. */
  suites: string[];
}

const SCRIPT = path.join(PROJECT_DIR, "stacks", "package-updates.sh");
const STATUS_D = "/var/lib/dpkg/status.d";

/** The stanzas of status.d files: Package, Version, Architecture of each. */
export function parseStatus(text: string): RecordedPackage[] {
  return text
    .split(/\n\s*\n/)
    .map((stanza) => {
      const field = (f: string) => new RegExp(`^${f}: *(.*)$`, "m").exec(stanza)?.[1].trim() ?? "";
      return {
        name: field("Package"),
        version: field("Version"),
        architecture: field("Architecture"),
      };
    })
    .filter((p) => p.name && p.version);
}

/** `name:arch`, or the bare name for an architecture-independent package. */
export const aptName = (p: RecordedPackage): string =>
  !p.architecture || p.architecture === "all" ? p.name : `${p.name}:${p.architecture}`;

/** An image's recorded packages, copied out of a container created (never started) from it. */
export function recordedIn(image: string, platform: string): RecordedPackage[] {
  const docker = (args: string[]) =>
    execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  docker(["pull", "--quiet", "--platform", platform, image]);
  const id = docker(["create", "--platform", platform, image]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-status-"));
  try {
    docker(["cp", `${id}:${STATUS_D}`, dir]);
    const statusDir = path.join(dir, "status.d");
    return fs
      .readdirSync(statusDir)
      .filter((f) => !f.endsWith(".md5sums"))
      .flatMap((f) => parseStatus(fs.readFileSync(path.join(statusDir, f), "utf8")));
  } catch (err) {
    throw new Error(`${image} (${platform}) records no packages in ${STATUS_D}: ${String(err)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    docker(["rm", id]);
  }
}

/** Each line of package-updates.sh: `NAME[:ARCH] VERSION CANDIDATE SUITES`. */
export function parseBehind(out: string): Map<string, Omit<PendingUpdate, "service" | "platform">> {
  const behind = new Map<string, Omit<PendingUpdate, "service" | "platform">>();
  for (const line of out.split("\n").filter(Boolean)) {
    const [pkg, installed, candidate, suites] = line.split(" ");
    behind.set(`${pkg}=${installed}`, {
      package: pkg.split(":")[0],
      installed,
      candidate,
      suites: suites === "-" ? [] : suites.split(","),
    });
  }
  return behind;
}

/** The packages of every image and platform that their suites have a newer version of. */
export function pendingUpdates(images: ImageSet, builder: string): PendingUpdate[] {
  const recorded: { service: string; platform: string; packages: RecordedPackage[] }[] = [];
  for (const [service, { ref, digests }] of Object.entries(images)) {
    for (const [platform, digest] of Object.entries(digests))
      recorded.push({ service, platform, packages: recordedIn(atDigest(ref, digest), platform) });
  }
  const wanted = [
    ...new Set(recorded.flatMap((r) => r.packages.map((p) => `${aptName(p)}=${p.version}`))),
  ].sort();
  const out = execFileSync(
    "docker",
    ["run", "--rm", "-i", "--entrypoint", "sh", builder, "-s", "--", ...wanted],
    { input: fs.readFileSync(SCRIPT), encoding: "utf8", maxBuffer: 16 << 20 },
  );
  const behind = parseBehind(out);
  return recorded.flatMap(({ service, platform, packages }) =>
    packages.flatMap((p) => {
      const b = behind.get(`${aptName(p)}=${p.version}`);
      return b ? [{ service, platform, ...b }] : [];
    }),
  );
}

const isSecurity = (u: PendingUpdate) => u.suites.some((s) => s.endsWith("-security"));

/** The report: security updates first, then by service, platform and package. */
export function updatesReport(updates: PendingUpdate[], imageCount: number): string {
  if (updates.length === 0)
    return `every package of the ${imageCount} images is current in its Debian suites`;
  const sorted = [...updates].sort(
    (a, b) =>
      Number(isSecurity(b)) - Number(isSecurity(a)) ||
      a.service.localeCompare(b.service) ||
      a.platform.localeCompare(b.platform) ||
      a.package.localeCompare(b.package),
  );
  const security = updates.filter(isSecurity).length;
  const lines = sorted.map(
    (u) =>
      `${isSecurity(u) ? "security" : "update  "}  ${u.service} (${u.platform})  ${u.package} ${u.installed} -> ${u.candidate}  [${u.suites.join(", ") || "in no suite"}]`,
  );
  return [
    `${updates.length} package(s) behind their Debian suites, ${security} of them security updates:`,
    ...lines,
  ].join("\n");
}
