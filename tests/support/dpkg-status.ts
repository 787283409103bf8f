// What an image says it is made of: the distroless package records in /var/lib/dpkg/status.d/
// (a status stanza per package, and its md5sums: the files it shipped), read from an exported
// filesystem.
import * as fs from "fs";
import * as path from "path";

export interface RecordedPackage {
  name: string;
  version: string;
  architecture: string;
  status: string;
  /** The package's files (md5sums: regular files, conffiles aside), as merged /usr places them. */
  files: string[];
}

const STATUS_D = "var/lib/dpkg/status.d";

/** `/lib/x` and `/usr/lib/x` are one file under merged /usr: this names it the second way. */
export const usrMerged = (p: string): string =>
  p.replace(/^\/(bin|sbin|lib|lib32|lib64|libx32)\//, "/usr/$1/");

const field = (stanza: string, name: string): string =>
  new RegExp(`^${name}: (.*)$`, "m").exec(stanza)?.[1] ?? "";

/** The packages an image records; empty when it records none. */
export function recordedPackages(root: string): RecordedPackage[] {
  const dir = path.join(root, STATUS_D);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => !f.endsWith(".md5sums"))
    .sort()
    .map((f) => {
      const stanza = fs.readFileSync(path.join(dir, f), "utf8");
      const sums = path.join(dir, `${f}.md5sums`);
      const files = fs.existsSync(sums)
        ? fs
            .readFileSync(sums, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => usrMerged(`/${l.replace(/^[0-9a-f]{32} +/, "")}`))
        : [];
      return {
        name: field(stanza, "Package"),
        version: field(stanza, "Version"),
        architecture: field(stanza, "Architecture"),
        status: field(stanza, "Status"),
        files,
      };
    });
}
