import { trackedConfig } from "../../stacks/work-dir";

/** A committed stack file's `lucid:` config, as raw values keyed without the namespace. */
export function stackFileConfig(stack: string): {
  raw: Record<string, unknown>;
  secret: Set<string>;
} {
  const raw: Record<string, unknown> = {};
  const secret = new Set<string>();
  for (const [k, v] of Object.entries(trackedConfig(stack))) {
    if (!k.startsWith("lucid:")) continue;
    const key = k.slice("lucid:".length);
    const isSecret = typeof v === "object" && v !== null && "secure" in v;
    raw[key] = isSecret ? "<encrypted>" : v;
    if (isSecret) secret.add(key);
  }
  return { raw, secret };
}
