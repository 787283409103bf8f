// A Debian release's current package indices, from its mirror: the release, its -updates and
// its -security suite, as a builder base's apt sources name them. Each suite's InRelease (tens of
// KB) is read on every run; a Packages file is downloaded only when the InRelease names one not
// seen before (kept by its SHA256, checked), and a resolved set of versions is kept by the
// hashes of the files it came from. Not verified here: InRelease's signature. apt verifies it in
// the build; what this reads only decides whether a build runs.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { XzReadableStream } from "xz-decompress";
import {
  addPackages,
  closure,
  emptyIndex,
  releaseFiles,
  versionLines,
  type PackageIndex,
} from "./packages";

export interface Mirrors {
  /** e.g. http://deb.debian.org/debian: the release and its -updates suite */
  debian: string;
  /** e.g. http://deb.debian.org/debian-security */
  security: string;
}

interface IndexFile {
  url: string;
  sha256: string;
}

/** Bounds of one download: attempts, and the time each may take. */
const ATTEMPTS = 3;
const IN_RELEASE_MS = 30_000;
const PACKAGES_MS = 300_000;
/** Kept files not used for this long are removed. */
const KEEP_DAYS = 30;

const sha256 = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");

/** GET with bounded attempts; a time-out or a dropped connection is tried again, an HTTP error is final. */
export async function download(url: string, timeoutMs: number): Promise<Buffer> {
  let last: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw Object.assign(new Error(`${url}: HTTP ${res.status}`), { final: true });
      return Buffer.from(await res.arrayBuffer());
    } catch (err) {
      if ((err as { final?: boolean }).final) throw err;
      last = err;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
  throw new Error(`${url}: ${ATTEMPTS} attempts failed, the last: ${String(last)}`);
}

const suitesOf = (release: string, m: Mirrors) => [
  `${m.debian.replace(/\/+$/, "")}/dists/${release}`,
  `${m.debian.replace(/\/+$/, "")}/dists/${release}-updates`,
  `${m.security.replace(/\/+$/, "")}/dists/${release}-security`,
];

/** A release's indices on a mirror, read once per run, for any number of images and arches. */
export class DebianIndices {
  private inReleases?: Promise<Map<string, ReturnType<typeof releaseFiles>>>;
  private readonly indices = new Map<string, Promise<PackageIndex>>();

  constructor(
    private readonly release: string,
    private readonly mirrors: Mirrors,
    private readonly cacheDir: string,
  ) {}

  /** Each suite's file list, by the suite's URL. */
  private lists() {
    this.inReleases ??= Promise.all(
      suitesOf(this.release, this.mirrors).map(async (suite) => {
        const text = (await download(`${suite}/InRelease`, IN_RELEASE_MS)).toString("utf8");
        return [suite, releaseFiles(text)] as const;
      }),
    ).then((entries) => new Map(entries));
    return this.inReleases;
  }

  /**
   * The Packages files of an arch's main component, one per suite, xz-compressed: the one form
   * every suite serves (deb.debian.org lists the uncompressed file but serves it for no suite but
   * the release, and .gz only for the release).
   */
  private async filesFor(arch: string): Promise<IndexFile[]> {
    const lists = await this.lists();
    return [...lists].map(([suite, files]) => {
      const file = `main/binary-${arch}/Packages.xz`;
      const entry = files.get(file);
      if (!entry)
        throw new Error(`${suite}/InRelease lists no ${file} (is ${arch} on this mirror?)`);
      return { url: `${suite}/${file}`, sha256: entry.sha256 };
    });
  }

  private async fetchFile(f: IndexFile): Promise<string> {
    const kept = path.join(this.cacheDir, f.sha256);
    let body: Buffer;
    if (fs.existsSync(kept)) {
      body = fs.readFileSync(kept);
      const now = new Date();
      fs.utimesSync(kept, now, now);
    } else {
      body = await download(f.url, PACKAGES_MS);
      if (sha256(body) !== f.sha256) throw new Error(`${f.url}: not the file its InRelease names`);
      fs.mkdirSync(this.cacheDir, { recursive: true });
      const tmp = `${kept}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, body);
      fs.renameSync(tmp, kept);
      pruneOld(this.cacheDir);
    }
    return new Response(new XzReadableStream(new Blob([body]).stream())).text();
  }

  private index(files: IndexFile[]): Promise<PackageIndex> {
    const key = files.map((f) => f.sha256).join(" ");
    let p = this.indices.get(key);
    if (!p) {
      p = (async () => {
        const index = emptyIndex();
        for (const f of files) addPackages(index, await this.fetchFile(f));
        return index;
      })();
      this.indices.set(key, p);
    }
    return p;
  }

  /**
   * `name version` lines of what `roots` bring for `arch`, at the suites' current versions.
   * Kept by the indices' hashes and the roots: an unchanged mirror costs three small GETs.
   */
  async versions(arch: string, roots: readonly string[]): Promise<string> {
    const files = await this.filesFor(arch);
    const key = sha256(JSON.stringify({ arch, files: files.map((f) => f.sha256), roots }));
    const kept = path.join(this.cacheDir, "resolved", key);
    if (fs.existsSync(kept)) {
      const now = new Date();
      fs.utimesSync(kept, now, now);
      return fs.readFileSync(kept, "utf8");
    }
    const lines = versionLines(closure(await this.index(files), roots));
    fs.mkdirSync(path.dirname(kept), { recursive: true });
    fs.writeFileSync(`${kept}.${process.pid}.tmp`, lines);
    fs.renameSync(`${kept}.${process.pid}.tmp`, kept);
    return lines;
  }
}

/** Removes kept files (indices and resolutions) unused for KEEP_DAYS. */
function pruneOld(dir: string): void {
  const before = Date.now() - KEEP_DAYS * 86_400_000;
  for (const d of [dir, path.join(dir, "resolved")]) {
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d)) {
      const p = path.join(d, f);
      const st = fs.statSync(p);
      if (st.isFile() && st.mtimeMs < before) fs.rmSync(p, { force: true });
    }
  }
}
