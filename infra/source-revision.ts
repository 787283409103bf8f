import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Every file under dir, as sorted paths relative to root. */
function filesUnder(root: string, dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { withFileTypes: true })
    .flatMap((e) => {
      const rel = path.posix.join(dir, e.name);
      return e.isDirectory() ? filesUnder(root, rel) : e.isFile() ? [rel] : [];
    })
    .sort();
}

/**
 * The revision of an image's sources: a hash of every file (path and bytes) in its build
 * contexts, relative to `root`. Unlike a commit id it changes only when the image's own sources
 * do, so the `org.opencontainers.image.revision` label never forces a rebuild by itself.
 */
export function sourceRevision(root: string, dirs: readonly string[]): string {
  const h = createHash("sha256");
  for (const file of dirs.flatMap((d) => filesUnder(root, d))) {
    h.update(`${file}\0`);
    h.update(fs.readFileSync(path.join(root, file)));
    h.update("\0");
  }
  return `sha256:${h.digest("hex")}`;
}
