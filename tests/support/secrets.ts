import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";

/**
 * The forms a secret can take in a file: as is, JSON-escaped, and base64 at each of the three
 * offsets it can start at inside a longer encoded text (the part that depends on it alone).
 */
export function encodingsOf(secret: string): string[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1)]);
  for (const shift of [0, 1, 2]) {
    const b64 = Buffer.concat([Buffer.alloc(shift), Buffer.from(secret)]).toString("base64");
    const core = b64.slice(shift === 0 ? 0 : 4, -4);
    if (core.length >= 12) forms.add(core);
  }
  return [...forms];
}

/** Every regular file under `dir` (none when it does not exist), gzip files read unpacked. */
export function filesUnder(dir: string): { file: string; text: string }[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).flatMap((rel) => {
    const file = path.join(dir, rel);
    if (!fs.lstatSync(file).isFile()) return [];
    const raw = fs.readFileSync(file);
    const text = (file.endsWith(".gz") ? zlib.gunzipSync(raw) : raw).toString("utf8");
    return [{ file, text }];
  });
}

/**
 * The files that hold any of the secrets in any of its forms: their paths, never the secret (a
 * failing assertion must not print it). Secrets are named by the caller's labels.
 */
export function filesHolding(
  files: { file: string; text: string }[],
  secrets: Record<string, string>,
): string[] {
  const forms = Object.entries(secrets).map(([label, s]) => [label, encodingsOf(s)] as const);
  return files.flatMap(({ file, text }) =>
    forms.filter(([, f]) => f.some((form) => text.includes(form))).map(([l]) => `${file}: ${l}`),
  );
}
