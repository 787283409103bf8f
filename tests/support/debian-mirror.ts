// A Debian mirror on loopback for a stack's `lucid:bases.mirror`: it passes every request on to
// the real mirror, except the files a test has published itself (a Debian update, made here).
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

const UPSTREAM = "http://deb.debian.org";

export class DebianMirror {
  private readonly published = new Map<string, Buffer>();
  private readonly server = http.createServer((req, res) => {
    const path = req.url ?? "/";
    const own = this.published.get(path);
    if (own) return void res.writeHead(200, { "content-length": own.length }).end(own);
    this.upstream(path).then(
      (body) => res.writeHead(200, { "content-length": body.length }).end(body),
      (err: Error) => res.writeHead(502).end(err.message),
    );
  });
  url = "";

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  /** The real mirror's file, read once for the mirror's life: a file Debian publishes meanwhile
   * must not change what a test's previews compare. */
  private readonly seen = new Map<string, Promise<Buffer>>();
  private upstream(path: string): Promise<Buffer> {
    let body = this.seen.get(path);
    if (!body) {
      body = fetch(`${UPSTREAM}${path}`, { signal: AbortSignal.timeout(120_000) }).then(
        async (res) => {
          if (!res.ok) throw new Error(`${UPSTREAM}${path}: HTTP ${res.status}`);
          return Buffer.from(await res.arrayBuffer());
        },
      );
      this.seen.set(path, body);
    }
    return body;
  }

  /**
   * Publishes, in `suite` (e.g. debian-security/dists/bookworm-security), a new version of
   * `pkg` for each arch: its stanza from the release, the version replaced; the suite's InRelease
   * names the new file (unsigned: the program reads, never trusts, it; apt verifies in builds).
   */
  async publish(suite: string, release: string, pkg: string, version: string, arches: string[]) {
    let inRelease = (await this.upstream(`/${suite}/InRelease`)).toString("utf8");
    for (const arch of arches) {
      const file = `main/binary-${arch}/Packages.xz`;
      const stanza = xz(["-dc"], await this.upstream(`/debian/dists/${release}/${file}`))
        .toString("utf8")
        .split(/\n\n+/)
        .find((s) => s.startsWith(`Package: ${pkg}\n`));
      if (!stanza) throw new Error(`${release} has no ${pkg} for ${arch}`);
      const text = xz(["-dc"], await this.upstream(`/${suite}/${file}`)).toString("utf8");
      const bumped = stanza.replace(/^Version: .*$/m, `Version: ${version}`);
      const body = xz(["-c"], Buffer.from(`${text.replace(/\n*$/, "\n\n")}${bumped}\n`));
      this.published.set(`/${suite}/${file}`, body);
      const sha = crypto.createHash("sha256").update(body).digest("hex");
      inRelease = inRelease.replace(
        new RegExp(`^ [0-9a-f]{64} +\\d+ ${file.replace(/\./g, "\\.")}$`, "m"),
        ` ${sha} ${body.length} ${file}`,
      );
    }
    this.published.set(`/${suite}/InRelease`, Buffer.from(inRelease));
  }

  /** Back to what the real mirror has. */
  unpublish(): void {
    this.published.clear();
  }
}

function xz(args: string[], input: Buffer): Buffer {
  const r = spawnSync("xz", args, { input, maxBuffer: 512 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`xz ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
