import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { PROJECT_DIR } from "./workspace";

type Doc = { config?: Record<string, unknown>; [k: string]: unknown };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !("secure" in v);

/** `over` wins; keys only `base` has survive, nested objects merged the same way. */
function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k], v) : v;
  }
  return out;
}

/** A committed stack file's config (`Pulumi.<stack>.yaml` in the checkout). */
export function trackedConfig(stackName: string): Record<string, unknown> {
  const file = path.join(PROJECT_DIR, `Pulumi.${stackName}.yaml`);
  return ((parse(fs.readFileSync(file, "utf8")) as Doc | null)?.config ?? {}) as Record<
    string,
    unknown
  >;
}

/**
 * A work directory for a machine-local stack, outside the checkout: Pulumi.yaml copied, the build
 * contexts linked, and Pulumi.<stack>.yaml written from `config`. What Pulumi added there before
 * (this machine's pinned keys, encrypted secrets, the salt) is kept; `config` wins where both
 * say something. So the dev stack's keys never land in the repository.
 */
export function machineWorkDir(
  dir: string,
  stackName: string,
  config: Record<string, unknown>,
): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const link = path.join(dir, "infra");
  fs.rmSync(link, { force: true, recursive: false });
  fs.symlinkSync(path.join(PROJECT_DIR, "infra"), link);
  const file = path.join(dir, `Pulumi.${stackName}.yaml`);
  const local: Doc = fs.existsSync(file)
    ? ((parse(fs.readFileSync(file, "utf8")) as Doc | null) ?? {})
    : {};
  const merged: Doc = { ...local, config: deepMerge(local.config ?? {}, config) };
  fs.writeFileSync(file, stringify(merged));
  return dir;
}
