// Debian's indices as the build input reads them: version order, the suites merged, what a set
// of packages brings; and the mirror reading, against a mirror on loopback (real HTTP, real xz).
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { DebianIndices } from "../../components/debian/mirror";
import {
  addPackages,
  closure,
  emptyIndex,
  releaseFiles,
  versionLines,
} from "../../components/debian/packages";
import { compareVersions } from "../../components/debian/version";
import { RUNTIME_PACKAGES } from "../../infra/debian-packages";
import { SERVICES } from "../../infra/services";
import { PROJECT_DIR } from "../../stacks/workspace";

describe("compareVersions, as dpkg --compare-versions", () => {
  // [older, newer]: pairs dpkg orders so (checked with dpkg --compare-versions lt on this machine)
  const ordered: [string, string][] = [
    ["1.0", "1.1"],
    ["1.0~rc1", "1.0"],
    ["1.0", "1.0+b1"],
    ["1.0-1", "1.0-2"],
    ["3.0.17-1~deb12u3", "3.0.18-1~deb12u1"],
    ["3.0.22-1~deb12u1", "3.0.22-1~deb12u2"],
    ["2.36-9+deb12u13", "2.36-9+deb12u14"],
    ["9.9", "1:0.1"],
    ["1.2a", "1.2b"],
    ["1.2", "1.2a"],
    ["1.09", "1.10"],
    ["0.4.8.16-1~deb12u1", "0.4.9.11-0+deb12u1"],
    ["1.5.4+dfsg2-5", "1.5.4+dfsg2-5+deb12u1"],
  ];
  test.each(ordered)("%s < %s", (a, b) => {
    expect(compareVersions(a, b)).toBeLessThan(0);
    expect(compareVersions(b, a)).toBeGreaterThan(0);
  });
  test("equal versions, leading zeros and a zero epoch", () => {
    expect(compareVersions("1.01-1", "1.1-1")).toBe(0);
    expect(compareVersions("0:2.0", "2.0")).toBe(0);
  });
  test("the pairs agree with dpkg itself, where there is one", () => {
    if (spawnSync("dpkg", ["--version"]).status !== 0) return;
    for (const [a, b] of ordered)
      expect([a, b, spawnSync("dpkg", ["--compare-versions", a, "lt", b]).status]).toEqual([
        a,
        b,
        0,
      ]);
  });
});

const stanza = (name: string, version: string, extra = "") =>
  `Package: ${name}\nVersion: ${version}\nArchitecture: arm64\n${extra}Description: ${name}\n long text\n`;

const MAIN = [
  stanza("tor", "0.4.9.10-0+deb12u1", "Depends: libc6 (>= 2.34), libssl3 (>= 3.0.0), adduser\n"),
  stanza("libc6", "2.36-9+deb12u13", "Depends: libgcc-s1\n"),
  stanza("libgcc-s1", "12.2.0-14"),
  stanza("libssl3", "3.0.17-1~deb12u3", "Pre-Depends: libc6\n"),
  stanza("adduser", "3.134", "Depends: passwd | shadow-utils,\n debconf (>= 0.5) | debconf-2.0\n"),
  stanza("passwd", "1:4.13+dfsg1-1"),
  stanza("cdebconf", "0.270", "Provides: debconf-2.0\n"),
  stanza("python3-stem", "1.8.1-2.1", "Depends: python3:any\n"),
  stanza("python3", "3.11.2-1+b1"),
].join("\n");
const SECURITY = [
  stanza("tor", "0.4.9.11-0+deb12u1", "Depends: libc6 (>= 2.34), libssl3 (>= 3.0.0), adduser\n"),
  stanza("libssl3", "3.0.16-1~deb12u1", "Pre-Depends: libc6\n"), // older: main's stays
].join("\n");

describe("the suites' indices merged", () => {
  const index = emptyIndex();
  addPackages(index, MAIN);
  addPackages(index, SECURITY);

  test("the newest version of each package wins, whichever suite has it", () => {
    expect(index.packages.get("tor")?.version).toBe("0.4.9.11-0+deb12u1");
    expect(index.packages.get("libssl3")?.version).toBe("3.0.17-1~deb12u3");
  });

  test("a closure follows Depends and Pre-Depends, the first alternative there is, providers", () => {
    expect(versionLines(closure(index, ["tor"])).split("\n")).toEqual([
      "adduser 3.134",
      "cdebconf 0.270", // debconf is not in this index; cdebconf provides debconf-2.0
      "libc6 2.36-9+deb12u13",
      "libgcc-s1 12.2.0-14",
      "libssl3 3.0.17-1~deb12u3",
      "passwd 1:4.13+dfsg1-1",
      "tor 0.4.9.11-0+deb12u1",
    ]);
    expect([...closure(index, ["python3-stem"]).keys()].sort()).toEqual([
      "python3",
      "python3-stem",
    ]);
  });

  test("a root as `a|b` is the first the release has; a root it lacks is an error naming it", () => {
    expect([...closure(index, ["libssl3t64|libssl3"]).keys()].sort()).toEqual([
      "libc6",
      "libgcc-s1",
      "libssl3",
    ]);
    expect(() => closure(index, ["nginx-light|nginx"])).toThrow(
      "no package of 'nginx-light|nginx'",
    );
  });

  test("an InRelease's SHA256 list, by path", () => {
    const text = `Origin: Debian\nMD5Sum:\n 0123 10 main/binary-arm64/Packages.xz\nSHA256:\n ${"a".repeat(64)}   6936 main/binary-arm64/Packages.xz\n ${"b".repeat(64)} 12 main/binary-amd64/Packages.xz\nAcquire-By-Hash: yes\n`;
    expect([...releaseFiles(text)]).toEqual([
      ["main/binary-arm64/Packages.xz", { sha256: "a".repeat(64), size: 6936 }],
      ["main/binary-amd64/Packages.xz", { sha256: "b".repeat(64), size: 12 }],
    ]);
  });
});

/** A mirror on loopback: dists/<suite>/InRelease and main/binary-arm64/Packages.xz, counted. */
class LoopbackMirror {
  readonly files = new Map<string, Buffer>();
  readonly requests: string[] = [];
  /** Paths answered with a 404; paths whose next request gets a 503. */
  readonly missing = new Set<string>();
  readonly busyOnce = new Set<string>();
  private server = http.createServer((req, res) => {
    const url = req.url ?? "";
    this.requests.push(url);
    if (this.busyOnce.delete(url)) return void res.writeHead(503).end();
    const body = this.files.get(url);
    if (!body || this.missing.has(url)) res.writeHead(404).end();
    else res.writeHead(200, { "content-length": body.length }).end(body);
  });
  url = "";

  async start() {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop() {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(r));
  }

  /** Publishes a suite with this Packages text, as xz, and its InRelease naming it. */
  publish(archive: string, suite: string, packages: string) {
    const xz = spawnSync("xz", ["-c"], { input: packages });
    if (xz.status !== 0) throw new Error(`xz: ${xz.stderr}`);
    const sha = crypto.createHash("sha256").update(xz.stdout).digest("hex");
    const dir = `/${archive}/dists/${suite}`;
    this.files.set(`${dir}/main/binary-arm64/Packages.xz`, xz.stdout);
    this.files.set(
      `${dir}/InRelease`,
      Buffer.from(
        `Suite: ${suite}\nSHA256:\n ${sha} ${xz.stdout.length} main/binary-arm64/Packages.xz\n`,
      ),
    );
  }
}

describe("DebianIndices, against a mirror on loopback", () => {
  const mirror = new LoopbackMirror();
  let cache: string;
  const mirrors = () => ({
    debian: `${mirror.url}/debian`,
    security: `${mirror.url}/debian-security/`,
  });
  const fresh = () => new DebianIndices("bookworm", mirrors(), cache);
  const packagesFetched = () => mirror.requests.filter((r) => r.endsWith("Packages.xz")).length;

  beforeAll(() => mirror.start());
  afterAll(() => mirror.stop());
  beforeEach(() => {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-indices-"));
    mirror.requests.length = 0;
    mirror.missing.clear();
    mirror.busyOnce.clear();
    mirror.publish("debian", "bookworm", MAIN);
    mirror.publish("debian", "bookworm-updates", stanza("base-files", "12.4+deb12u13"));
    mirror.publish("debian-security", "bookworm-security", "");
  });
  afterEach(() => fs.rmSync(cache, { recursive: true, force: true }));

  test("the release, -updates and -security, newest first; next run: three InReleases, nothing else", async () => {
    const first = await fresh().versions("arm64", ["tor"]);
    expect(first).toContain("tor 0.4.9.10-0+deb12u1");
    expect(packagesFetched()).toBe(3);
    mirror.requests.length = 0;
    expect(await fresh().versions("arm64", ["tor"])).toBe(first);
    expect(mirror.requests.sort()).toEqual([
      "/debian-security/dists/bookworm-security/InRelease",
      "/debian/dists/bookworm-updates/InRelease",
      "/debian/dists/bookworm/InRelease",
    ]);
  });

  test("a security update changes the versions of the images that use it, not of the others", async () => {
    const tor = await fresh().versions("arm64", ["tor"]);
    const stem = await fresh().versions("arm64", ["python3-stem"]);
    mirror.publish("debian-security", "bookworm-security", SECURITY);
    mirror.requests.length = 0;
    const later = fresh();
    const torNow = await later.versions("arm64", ["tor"]);
    expect(torNow).not.toBe(tor);
    expect(torNow).toContain("tor 0.4.9.11-0+deb12u1");
    expect(torNow.replace("0.4.9.11-0+deb12u1", "0.4.9.10-0+deb12u1")).toBe(tor);
    expect(await later.versions("arm64", ["python3-stem"])).toBe(stem);
    expect(packagesFetched()).toBe(1); // only the suite that changed: the others are kept
  });

  test("a server error is tried again (bounded), and the run goes on", async () => {
    mirror.busyOnce.add("/debian/dists/bookworm/InRelease");
    expect(await fresh().versions("arm64", ["tor"])).toContain("tor 0.4.9.10-0+deb12u1");
    expect(mirror.requests.filter((r) => r === "/debian/dists/bookworm/InRelease")).toHaveLength(2);
  });

  test("a file that is not the one its InRelease names is refused", async () => {
    const p = "/debian-security/dists/bookworm-security/main/binary-arm64/Packages.xz";
    mirror.files.set(p, Buffer.concat([mirror.files.get(p) as Buffer, Buffer.from("x")]));
    await expect(fresh().versions("arm64", ["tor"])).rejects.toThrow(
      "not the file its InRelease names",
    );
  });

  test("an arch or a suite the mirror lacks: a clear error, asked once (a 404 is final)", async () => {
    await expect(fresh().versions("riscv64", ["tor"])).rejects.toThrow(
      "lists no main/binary-riscv64/Packages.xz",
    );
    mirror.missing.add("/debian/dists/bookworm-updates/InRelease");
    mirror.requests.length = 0;
    await expect(fresh().versions("arm64", ["tor"])).rejects.toThrow(
      "/debian/dists/bookworm-updates/InRelease: HTTP 404",
    );
    expect(mirror.requests.filter((r) => r.includes("updates"))).toHaveLength(1);
  });
});

describe("the build input's package lists match what the Dockerfiles install", () => {
  const read = (p: string) => fs.readFileSync(path.join(PROJECT_DIR, p), "utf8");
  test.each(SERVICES.map((s) => [s.name, s.debian] as const))(
    "%s: the packages its builder stage asks apt for are the catalog's",
    (name, roots) => {
      const docker = read(`infra/images/${name}/Dockerfile`);
      const stage = docker.slice(docker.indexOf("AS builder"));
      const asked =
        /RUN unpack (.+)/.exec(stage)?.[1].split(" ") ??
        /apt-get install -y -qq --no-install-recommends (\S+) >/.exec(stage)?.[1].split(" ");
      // tor-proxy names its package; api-gateway picks nginx-light where the release has it
      const named = asked?.map((a) => (a === '"$pkg"' ? "nginx-light|nginx" : a));
      expect(named).toEqual([...roots]);
    },
  );
  test.each([
    ...SERVICES.map((s) => [`infra/images/${s.name}/Dockerfile`, "AS builder"]),
    ["infra/bases/runtime/Dockerfile", "AS assemble"],
    ["infra/images/common/probe/Dockerfile", "AS build"],
  ])("%s declares DEBIAN_PACKAGES in its stage, before any RUN there", (file, stage) => {
    const text = read(file);
    const from = text.indexOf(stage);
    const end = text.indexOf("\nFROM ", from);
    const body = text.slice(from, end < 0 ? undefined : end);
    const arg = body.indexOf("\nARG DEBIAN_PACKAGES\n");
    expect(from).toBeGreaterThan(0);
    expect(arg).toBeGreaterThan(0);
    expect(arg).toBeLessThan(body.indexOf("\nRUN "));
  });
  test("the runtime bases: every package packages.sh and assemble.sh name is a root", () => {
    const names = [
      ...read("infra/bases/runtime/packages.sh")
        .split("\n")
        .filter((l) => !l.trim().startsWith("#"))
        .join("\n")
        .matchAll(
          /\b(lib[a-z0-9.+-]*[0-9][a-z0-9.+-]*|[a-z-]+-files|tzdata|netbase|media-types)\b/g,
        ),
    ].map((m) => m[1]);
    const roots = new Set(RUNTIME_PACKAGES.python.flatMap((r) => r.replace(/\?$/, "").split("|")));
    expect(
      names.filter((n) => !roots.has(n) && !n.startsWith("libpython") && n !== "lib$v-minimal"),
    ).toEqual([]);
    expect(read("infra/bases/runtime/assemble.sh")).toContain("ca-certificates");
    expect(roots.has("ca-certificates")).toBe(true);
  });
});
