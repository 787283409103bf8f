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

/** A stack's raw config with each upstream base pinned to a made-up digest (as `pin-bases` would). */
export function withPinnedBases(raw: Record<string, unknown>): Record<string, unknown> {
  const bases = raw.bases as { builder: string; runtime: "local" | Record<string, string> };
  const pinned = (ref: string) => `${ref}@sha256:${"a".repeat(64)}`;
  const runtime =
    bases.runtime === "local"
      ? "local"
      : Object.fromEntries(Object.entries(bases.runtime).map(([k, ref]) => [k, pinned(ref)]));
  return { ...raw, bases: { ...bases, builder: pinned(bases.builder), runtime } };
}
