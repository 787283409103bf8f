import * as fs from "fs";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { parse, stringify } from "yaml";
import { PROJECT_DIR } from "./workspace";

type Doc = { config?: Record<string, unknown>; [k: string]: unknown };

/** `lucid:pi.hostKey` -> ["lucid:pi", "hostKey"]: the config key, then the path inside it. */
const splitPath = (p: string): string[] => {
  const [key, ...rest] = p.split(".");
  return [key, ...rest];
};

function getPath(obj: Record<string, unknown>, parts: string[]): unknown {
  return parts.reduce<unknown>(
    (v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined),
    obj,
  );
}

function setPath(obj: Record<string, unknown>, parts: string[], value: unknown): void {
  let node = obj;
  for (const k of parts.slice(0, -1)) {
    if (node[k] === null || typeof node[k] !== "object") node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** A stack file's config (`Pulumi.<stack>.yaml` in `dir`); empty when there is no such file. */
export function stackFileConfig(dir: string, stackName: string): Record<string, unknown> {
  const file = path.join(dir, `Pulumi.${stackName}.yaml`);
  if (!fs.existsSync(file)) return {};
  return ((parse(fs.readFileSync(file, "utf8")) as Doc | null)?.config ?? {}) as Record<
    string,
    unknown
  >;
}

/** A committed stack file's config (`Pulumi.<stack>.yaml` in the checkout). */
export function trackedConfig(stackName: string): Record<string, unknown> {
  const file = path.join(PROJECT_DIR, `Pulumi.${stackName}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`${file}: no such stack file`);
  return stackFileConfig(PROJECT_DIR, stackName);
}

/** Where a work directory keeps the tracked config it last copied: the base of the next merge. */
const trackedBaseFile = (dir: string, stackName: string) =>
  path.join(dir, `.lucid-tracked.${stackName}.json`);

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * A three-way merge of config, leaf by leaf: `base` is what the tracked file held when last
 * copied, `local` what the work directory holds now (a user's `pulumi config set` among it),
 * `tracked` what the tracked file holds now. Unchanged here, a value follows the tracked file (a
 * key it dropped goes); changed here only, it stays; changed on both sides, the local one wins:
 * it is what the user set on this machine. (undefined: no such key.)
 */
export function mergeConfig(base: unknown, local: unknown, tracked: unknown): unknown {
  if (isDeepStrictEqual(local, base)) return tracked;
  if (isDeepStrictEqual(tracked, base)) return local;
  if (!isMap(local) || !isMap(tracked)) return local;
  const from = isMap(base) ? base : {};
  const merged: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(local), ...Object.keys(tracked)])) {
    const v = mergeConfig(from[k], local[k], tracked[k]);
    if (v !== undefined) merged[k] = v;
  }
  return merged;
}

/**
 * A work directory for a machine-local stack, outside the checkout: Pulumi.yaml copied, the build
 * contexts linked, and Pulumi.<stack>.yaml merged from `config` (the tracked file's) and what is
 * there: a value set there with `pulumi config set` stays, every other follows the tracked file
 * (mergeConfig), and the values at the `pinned` paths (`lucid:pi.hostKey`) and the secrets salt
 * are kept. A work directory that has no record of the tracked config it last copied (an older
 * version's) takes the tracked config whole, so the dev stack's keys never land in the repository
 * and none is lost to a stale copy.
 */
export function machineWorkDir(
  dir: string,
  stackName: string,
  config: Record<string, unknown>,
  pinned: readonly string[] = [],
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
  const localConfig = local.config ?? {};
  const baseFile = trackedBaseFile(dir, stackName);
  // no stack file (removed, a new machine): the tracked config whole, not a merge against nothing
  const base: unknown =
    fs.existsSync(baseFile) && fs.existsSync(file)
      ? JSON.parse(fs.readFileSync(baseFile, "utf8"))
      : localConfig;
  const next = (mergeConfig(base, localConfig, structuredClone(config)) ?? {}) as Record<
    string,
    unknown
  >;
  for (const p of pinned) {
    const value = getPath(localConfig, splitPath(p));
    if (value !== undefined) setPath(next, splitPath(p), value);
  }
  const doc: Doc = {
    config: next,
    ...(local.encryptionsalt ? { encryptionsalt: local.encryptionsalt } : {}),
  };
  fs.writeFileSync(file, stringify(doc));
  fs.writeFileSync(baseFile, `${JSON.stringify(config)}\n`);
  return dir;
}
