import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Debian's docker client (Engine 20.10); the build side's Engine, never the Pi stand-in's. */
const DOCKER = fs.existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

/** The Pi stand-in's Engine, for the helpers that may work on either. */
export const PI_ENGINE = "unix:///run/docker-pi.sock";

/** Runs docker (on `host`'s Engine if given); the exit code and both streams, bounded in time. */
export function dockerResult(
  args: string[],
  timeoutMs = 300_000,
  host?: string,
): { code: number; stdout: string; stderr: string } {
  const env = host ? { ...process.env, DOCKER_HOST: host } : process.env;
  const r = spawnSync(DOCKER, args, { encoding: "utf8", timeout: timeoutMs, env });
  return { code: r.status ?? -1, stdout: (r.stdout ?? "").trim(), stderr: (r.stderr ?? "").trim() };
}

/** Runs docker and returns its stdout; a non-zero exit throws with its stderr, unless allowed. */
export function docker(
  args: string[],
  opts: { allowFail?: boolean; timeoutMs?: number; host?: string } = {},
): string {
  const r = dockerResult(args, opts.timeoutMs, opts.host);
  if (r.code !== 0 && !opts.allowFail) {
    throw new Error(`docker ${args.join(" ")} exited ${r.code}: ${r.stderr.slice(-800)}`);
  }
  return r.stdout;
}

export interface ImageConfig {
  User: string;
  Entrypoint: string[] | null;
  Healthcheck?: {
    Test: string[];
    Interval?: number;
    StartPeriod?: number;
    Timeout?: number;
    Retries?: number;
  };
  Labels: Record<string, string> | null;
}

/** Pulls one platform's image by digest; returns its local reference. */
export function pull(repository: string, digest: string): string {
  const ref = `${repository}@${digest}`;
  docker(["pull", "--quiet", ref]);
  return ref;
}

export const imageConfig = (ref: string): ImageConfig =>
  JSON.parse(docker(["image", "inspect", "--format", "{{json .Config}}", ref])) as ImageConfig;

export const imageSize = (ref: string): number =>
  Number(docker(["image", "inspect", "--format", "{{.Size}}", ref]));

/**
 * The image's filesystem, unpacked into a temp dir, and its tar listing (for modes the unpacking
 * could lose). Made with create + export: no container ever runs for it.
 */
export function exportFilesystem(ref: string): { root: string; listing: string[] } {
  const id = docker(["create", ref]);
  try {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-fs-"));
    const tarFile = path.join(root, "..", `${path.basename(root)}.tar`);
    docker(["export", "--output", tarFile, id]);
    execFileSync("tar", ["-xf", tarFile, "-C", root]);
    const listing = execFileSync("tar", ["-tvf", tarFile], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    })
      .split("\n")
      .filter(Boolean);
    fs.rmSync(tarFile);
    return { root, listing };
  } finally {
    docker(["rm", id], { allowFail: true });
  }
}
