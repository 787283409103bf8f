import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** Every regular file under root (symlinks not followed), as paths inside the image. */
export function filesIn(root: string, dir = "/"): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const p = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesIn(root, p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

export function isElf(root: string, file: string): boolean {
  const fd = fs.openSync(path.join(root, file), "r");
  const head = Buffer.alloc(4);
  const n = fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  return n === 4 && head.toString("latin1") === "\x7fELF";
}

/** Resolves an absolute path inside the image, following its symlinks inside the image. */
export function resolveIn(root: string, p: string, depth = 0): string | undefined {
  if (depth > 40) return undefined;
  const parts = p.split("/").filter(Boolean);
  let cur = "/";
  for (let i = 0; i < parts.length; i++) {
    const next = path.posix.join(cur, parts[i]);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(path.join(root, next));
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      const target = fs.readlinkSync(path.join(root, next));
      const abs = target.startsWith("/") ? target : path.posix.join(cur, target);
      const rest = parts.slice(i + 1).join("/");
      return resolveIn(root, rest ? `${abs}/${rest}` : abs, depth + 1);
    }
    cur = next;
  }
  return cur;
}

/** What an ELF file asks of the loader: its interpreter, NEEDED libraries and RUNPATH/RPATH. */
export function elfNeeds(
  root: string,
  file: string,
): { interp?: string; needed: string[]; runpath: string[] } {
  const out = execFileSync("readelf", ["-W", "-d", "-l", path.join(root, file)], {
    encoding: "utf8",
  });
  const interp = /Requesting program interpreter: ([^\]]+)\]/.exec(out)?.[1];
  const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const runpath = [
    ...out.matchAll(/\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[([^\]]+)\]/g),
  ]
    .flatMap((m) => m[1].split(":"))
    .map((d) => d.replace("$ORIGIN", path.posix.dirname(file)));
  return { interp, needed, runpath };
}

/** The library directories a Debian loader searches, for the image's architecture. */
export const searchDirs = (triplet: string) => [
  `/usr/lib/${triplet}`,
  `/lib/${triplet}`,
  "/usr/lib",
  "/lib",
  "/usr/local/lib",
];

/** Each ELF's unmet needs in the image: `file: lib` lines (empty when every need is met). */
export function unmetElfNeeds(root: string, triplet: string): string[] {
  const missing: string[] = [];
  for (const file of filesIn(root).filter((f) => isElf(root, f))) {
    const { interp, needed, runpath } = elfNeeds(root, file);
    if (interp && !resolveIn(root, interp)) missing.push(`${file}: interpreter ${interp}`);
    for (const lib of needed) {
      const dirs = [...runpath, ...searchDirs(triplet)];
      if (!dirs.some((d) => resolveIn(root, path.posix.join(d, lib))))
        missing.push(`${file}: ${lib}`);
    }
  }
  return missing;
}
