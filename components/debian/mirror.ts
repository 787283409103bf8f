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
/** Part of a kept resolution's key: a new way of resolving never reads an old result. */
const FORMAT = 2;
/** Kept files not used for this long are removed. */
const KEEP_DAYS = 30;

const sha256 = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");

/**
 * GET with bounded attempts: a time-out, a dropped connection or a server error (5xx, 429) is
 * tried again; any other HTTP error is final.
 */
export async function download(url: string, timeoutMs: number): Promise<Buffer> {
  let last: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, 1000 * (attempt - 1)));
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (res.ok) return Buffer.from(await res.arrayBuffer());
      const err = new Error(`${url}: HTTP ${res.status}`);
      if (res.status < 500 && res.status !== 429) throw Object.assign(err, { final: true });
      last = err;
    } catch (err) {
      if ((err as { final?: boolean }).final) throw err;
      last = err;
    }
  }
  throw new Error(`${url}: ${ATTEMPTS} attempts failed, the last: ${String(last)}`);
}

/** A kept file's contents, touched (kept another KEEP_DAYS); undefined when there is none. */
function readKept(file: string): Buffer | undefined {
  try {
    const body = fs.readFileSync(file);
    const now = new Date();
    fs.utimesSync(file, now, now);
    return body;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined; // or just pruned
    throw err;
  }
}

/** Writes FILE in one step (a rename): another process reading it never sees it half written. */
function keep(file: string, body: Buffer | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
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
    let body = readKept(kept);
    if (!body) {
      body = await download(f.url, PACKAGES_MS);
      if (sha256(body) !== f.sha256) throw new Error(`${f.url}: not the file its InRelease names`);
      keep(kept, body);
      pruneOld(this.cacheDir);
    }
    return new Response(new XzReadableStream(new Blob([body]).stream())).text();
  }

  private index(files: IndexFile[]): Promise<PackageIndex> {
    const key = files.map((f) => f.sha256).join(" ");
    let p = this.indices.get(key);
    if (!p) {
      p = Promise.all(files.map((f) => this.fetchFile(f))).then((texts) => {
        const index = emptyIndex();
        for (const text of texts) addPackages(index, text);
        return index;
      });
      this.indices.set(key, p);
    }
    return p;
  }

  /**
   * `name version` lines of what `roots` bring for `arch`, at the suites' current versions.
   * Kept by the indices' hashes and the roots: an unchanged mirror costs three small GETs.
   */
  async versions(arch: string, roots: readonly string[], dependencies = true): Promise<string> {
    const files = await this.filesFor(arch);
    const hashes = files.map((f) => f.sha256);
    const key = sha256(JSON.stringify({ FORMAT, arch, hashes, roots, dependencies }));
    const kept = path.join(this.cacheDir, "resolved", key);
    const known = readKept(kept);
    if (known) return known.toString("utf8");
    const lines = versionLines(closure(await this.index(files), roots, dependencies));
    keep(kept, lines);
    return lines;
  }
}

/**
 * Removes kept files (indices and resolutions) unused for KEEP_DAYS. Another process may be
 * writing or removing files meanwhile: its temporary files are left alone, and a file gone
 * already is no error.
 */
function pruneOld(dir: string): void {
  const before = Date.now() - KEEP_DAYS * 86_400_000;
  for (const d of [dir, path.join(dir, "resolved")]) {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const f of names.filter((n) => !n.endsWith(".tmp"))) {
      try {
        const st = fs.statSync(path.join(d, f));
        if (st.isFile() && st.mtimeMs < before) fs.rmSync(path.join(d, f), { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
  }
}
