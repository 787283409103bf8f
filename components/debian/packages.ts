// Debian's package indices, read as apt reads them for `install`: the newest version of each
// package across the suites, and the packages a set of packages depends on (Depends and
// Pre-Depends, recursively).
import { compareVersions } from "./version";

export interface IndexEntry {
  version: string;
  /** Each dependency as its alternatives (`a | b`), names only. */
  depends: string[][];
}

/** The newest version of each package, and which real packages provide each virtual one. */
export interface PackageIndex {
  packages: Map<string, IndexEntry>;
  providers: Map<string, string[]>;
}

/** An InRelease's SHA256 list: path -> { sha256, size }. */
export function releaseFiles(inRelease: string): Map<string, { sha256: string; size: number }> {
  const files = new Map<string, { sha256: string; size: number }>();
  let inList = false;
  for (const line of inRelease.split("\n")) {
    if (/^\S/.test(line)) inList = line.startsWith("SHA256:");
    else if (inList) {
      const [sha256, size, file] = line.trim().split(/\s+/);
      if (file && /^[0-9a-f]{64}$/.test(sha256)) files.set(file, { sha256, size: Number(size) });
    }
  }
  return files;
}

/** `a (>= 1) | b:any` -> ["a", "b"]. */
const alternatives = (group: string): string[] =>
  group
    .split("|")
    .map((alt) => alt.trim().split(/[\s(:[]/)[0])
    .filter(Boolean);

const relations = (field: string | undefined): string[][] =>
  field
    ? field
        .split(",")
        .map(alternatives)
        .filter((a) => a.length > 0)
    : [];

/** Adds one Packages file's stanzas to the index; a newer version replaces an older one. */
export function addPackages(index: PackageIndex, text: string): void {
  for (const stanza of text.split(/\n\n+/)) {
    const fields: Record<string, string> = {};
    let last = "";
    for (const line of stanza.split("\n")) {
      if (line.startsWith(" ") || line.startsWith("\t")) {
        if (last) fields[last] += ` ${line.trim()}`;
        continue;
      }
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      last = line.slice(0, colon);
      fields[last] = line.slice(colon + 1).trim();
    }
    const name = fields.Package;
    const version = fields.Version;
    if (!name || !version) continue;
    const have = index.packages.get(name);
    if (have && compareVersions(have.version, version) >= 0) continue;
    const depends = [...relations(fields["Pre-Depends"]), ...relations(fields.Depends)];
    index.packages.set(name, { version, depends });
    for (const virtual of relations(fields.Provides).flat()) {
      const ps = index.providers.get(virtual) ?? [];
      if (!ps.includes(name)) index.providers.set(virtual, [...ps, name].sort());
    }
  }
}

export const emptyIndex = (): PackageIndex => ({ packages: new Map(), providers: new Map() });

/** The first alternative the index has, as a real package or else through a provider. */
function pick(index: PackageIndex, alts: string[]): string | undefined {
  for (const a of alts) if (index.packages.has(a)) return a;
  for (const a of alts) {
    const p = index.providers.get(a)?.[0];
    if (p) return p;
  }
  return undefined;
}

/**
 * The packages `roots` bring, with their dependencies' closure (or, with `dependencies` false,
 * the roots alone, for a build that downloads exactly them): name -> version. A root is a
 * name or `a|b` (the first this release has, as a package or a provider); a root the index lacks
 * is an error naming it, unless it ends in `?` (a package some releases do not have).
 */
export function closure(
  index: PackageIndex,
  roots: readonly string[],
  dependencies = true,
): Map<string, string> {
  const out = new Map<string, string>();
  const todo: string[] = [];
  for (const root of roots) {
    const optional = root.endsWith("?");
    const name = pick(index, alternatives(root.replace(/\?$/, "")));
    if (name) todo.push(name);
    else if (!optional) throw new Error(`no package of '${root}' in the index`);
  }
  while (todo.length) {
    const name = todo.pop() as string;
    if (out.has(name)) continue;
    const entry = index.packages.get(name) as IndexEntry;
    out.set(name, entry.version);
    if (!dependencies) continue;
    for (const alts of entry.depends) {
      const dep = pick(index, alts);
      if (dep && !out.has(dep)) todo.push(dep);
    }
  }
  return out;
}

/** `name version` lines, sorted: a build input that changes when one of them does. */
export const versionLines = (packages: Map<string, string>): string =>
  [...packages]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([n, v]) => `${n} ${v}`)
    .join("\n");
