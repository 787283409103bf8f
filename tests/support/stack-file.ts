import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");

/** A committed stack file's `lucid:` config, as raw values keyed without the namespace. */
export function stackFileConfig(stack: string): {
  raw: Record<string, unknown>;
  secret: Set<string>;
} {
  const doc = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  const raw: Record<string, unknown> = {};
  const secret = new Set<string>();
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    if (!k.startsWith("lucid:")) continue;
    const key = k.slice("lucid:".length);
    const isSecret = typeof v === "object" && v !== null && "secure" in v;
    raw[key] = isSecret ? "<encrypted>" : v;
    if (isSecret) secret.add(key);
  }
  return { raw, secret };
}
