// What the PiRollout provider does on the Pi. The provider loads this module by its absolute
// path at run time (its own code is serialized into state), so everything remote lives here.
import { createHash } from "crypto";
import { driftOf, expectedServices, type DriftItem } from "./drift";
import { envFileOf, type ServiceEnv } from "./compose";
import { shellJoin } from "./ssh/commands";
import { runRemote, type SshTarget } from "./ssh/executor";
import { observeScript, parseObservation } from "./ssh/observe";
import { bashC, DEFAULT_KEEP_RELEASES, rolloutScript, teardownScript } from "./ssh/rollout";

/** A rollout as the provider holds it: where, as whom, and what. */
export interface RolloutTarget extends SshTarget {
  project: string;
  remoteDir: string;
  compose: string;
  /** Secret environment by service; absent in state written before it existed. */
  env?: ServiceEnv;
  release: string;
  healthTimeout: number;
  /** Releases kept on the Pi; absent in state written before it existed. */
  keepReleases?: number;
  /** Registry the Pi logs in to before it pulls; "" for none. */
  registry?: string;
  registryUser?: string;
  registryPassword?: string;
}

/**
 * Runs a command line on the Pi, `stdin` fed to it; a non-zero exit becomes an error carrying the
 * command's last output lines (the rollout puts the failing service's name and logs there).
 */
export async function runOnPi(
  target: SshTarget,
  command: string,
  opts: { stdin?: string; timeoutMs?: number } = {},
): Promise<string> {
  const result = await runRemote(target, command, opts);
  if (result.code !== 0) {
    // What the tools said (compose's own errors are on stdout), then the rollout's verdict.
    const tail = [result.stdout, result.stderr]
      .map((s) => s.trim())
      .filter(Boolean)
      .join("\n")
      .split("\n")
      .slice(-30)
      .join("\n");
    throw new Error(`on ${target.user}@${target.host} (exit ${result.code}):\n${tail}`);
  }
  return result.stdout.trim();
}

/** Rolls the release out (compose file on stdin); bounded past the health gate. */
export async function rollOut(t: RolloutTarget, recreate: readonly string[] = []): Promise<void> {
  if (t.registry && t.registryUser) await logIn(t);
  const script = rolloutScript({
    remoteDir: t.remoteDir,
    project: t.project,
    release: t.release,
    healthTimeout: t.healthTimeout,
    keep: t.keepReleases ?? DEFAULT_KEEP_RELEASES,
    recreate,
  });
  await runOnPi(t, shellJoin(bashC(script)), {
    stdin: releaseFiles(t.compose, t.env ?? {}),
    timeoutMs: (t.healthTimeout + 600) * 1000,
  });
}

/**
 * The release's files as the rollout reads them on stdin, one per line: `<name> <base64>`. The
 * compose file, then an env file for every service it names (secrets never on a command line).
 */
export function releaseFiles(compose: string, env: ServiceEnv): string {
  const line = (name: string, text: string) => `${name} ${Buffer.from(text).toString("base64")}\n`;
  const envText = (vars: Record<string, string>) =>
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}\n`)
      .join("");
  return [
    line("docker-compose.yml", compose),
    ...Object.keys(expectedServices(compose)).map((s) => line(envFileOf(s), envText(env[s] ?? {}))),
  ].join("");
}

/** The Pi's Engine logs in to the registry; the password goes on stdin, never on a command line. */
async function logIn(t: RolloutTarget): Promise<void> {
  const login = ["docker", "login", "--username", t.registryUser ?? "", "--password-stdin"];
  try {
    await runOnPi(t, shellJoin([...login, t.registry ?? ""]), {
      stdin: t.registryPassword ?? "",
      timeoutMs: 60_000,
    });
  } catch (err) {
    throw new Error(
      `the Pi could not log in to registry ${t.registry} as ${t.registryUser}: ${(err as Error).message}`,
    );
  }
}

/** Takes the set down; volumes and releases stay. */
export async function tearDown(t: RolloutTarget): Promise<void> {
  const script = teardownScript({ remoteDir: t.remoteDir, project: t.project });
  await runOnPi(t, shellJoin(bashC(script)), { timeoutMs: 300_000 });
}

/** Reads the Pi back and compares it with the release: the drift, empty when there is none. */
export async function observeDrift(t: RolloutTarget): Promise<DriftItem[]> {
  const services = expectedServices(t.compose);
  const script = observeScript({
    remoteDir: t.remoteDir,
    project: t.project,
    release: t.release,
    refs: Object.values(services),
  });
  let seen;
  try {
    seen = parseObservation(await runOnPi(t, shellJoin(bashC(script)), { timeoutMs: 120_000 }));
  } catch (err) {
    // Never "nothing there": an unreachable Pi is an error, and the refresh stops on it.
    throw new Error(
      `cannot read the Pi back (${t.user}@${t.host}:${t.port}): ${(err as Error).message}`,
    );
  }
  const composeSha = createHash("sha256").update(t.compose).digest("hex");
  return driftOf({ project: t.project, release: t.release, composeSha, services }, seen);
}
