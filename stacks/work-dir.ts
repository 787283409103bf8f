import * as fs from "fs";
import * as path from "path";
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

/**
 * A work directory for a machine-local stack, outside the checkout: Pulumi.yaml copied, the build
 * contexts linked, and Pulumi.<stack>.yaml written from `config`, plus the values at the `pinned`
 * paths (`lucid:pi.hostKey`) and the secrets salt kept from the last run. Nothing else survives,
 * so a key removed from the tracked file is gone here too, and the dev stack's keys never land
 * in the repository.
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
  const next = structuredClone(config);
  for (const p of pinned) {
    const value = getPath(local.config ?? {}, splitPath(p));
    if (value !== undefined) setPath(next, splitPath(p), value);
  }
  const doc: Doc = {
    config: next,
    ...(local.encryptionsalt ? { encryptionsalt: local.encryptionsalt } : {}),
  };
  fs.writeFileSync(file, stringify(doc));
  return dir;
}
