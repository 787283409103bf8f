// What the PiRollout provider does on the Pi. The provider loads this module by its absolute
// path at run time (its own code is serialized into state), so everything remote lives here.
import { createHash } from "crypto";
import { driftOf, expectedServices, type DriftItem } from "./drift";
import { ENVIRONMENT_FILE, environmentFile, type ServiceEnv } from "./compose";
import { shellJoin } from "./ssh/commands";
import { LinkLostError, runRemote, type SshTarget } from "./ssh/executor";
import { observeCommand, parseObservation } from "./ssh/observe";
import { lockWait, rolloutCommand, teardownCommand } from "./ssh/rollout";
import { composeOf, fromState, type RolloutSpec, type StoredRollout } from "./rollout-spec";

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

/** Rolls the release out (its files on stdin); bounded past the health gate. */
export async function rollOut(t: RolloutSpec, recreate: readonly string[] = []): Promise<void> {
  if (t.registry && t.registryUser) await logIn(t);
  try {
    await runOnPi(t, rolloutCommand(t, recreate), {
      stdin: releaseFiles(composeOf(t), t.env),
      // the lock's wait, then pull and up (10 min at most), then the health gate
      timeoutMs: (lockWait(t) + 600 + t.healthTimeout) * 1000,
    });
  } catch (err) {
    if (!(err instanceof LinkLostError)) throw err;
    throw new LinkLostError(
      `${err.message}. The rollout of release ${t.release} may have finished there, rolled back, or be running still; it never makes half a release current. \`npm run drift\` reads what the Pi runs now; the next up waits for the Pi's lock and rolls out what differs.`,
    );
  }
}

/**
 * The release's files as the rollout reads them on stdin, one per line: `<name> <base64>`. The
 * compose file, then the release's secret variables (never on a command line).
 */
export function releaseFiles(compose: string, env: ServiceEnv): string {
  const line = (name: string, text: string) => `${name} ${Buffer.from(text).toString("base64")}\n`;
  return [line("docker-compose.yml", compose), line(ENVIRONMENT_FILE, environmentFile(env))].join(
    "",
  );
}

/** The Pi's Engine logs in to the registry; the password goes on stdin, never on a command line. */
async function logIn(t: RolloutSpec): Promise<void> {
  const login = ["docker", "login", "--username", t.registryUser, "--password-stdin"];
  try {
    await runOnPi(t, shellJoin([...login, t.registry]), {
      stdin: t.registryPassword,
      timeoutMs: 60_000,
    });
  } catch (err) {
    throw new Error(
      `the Pi could not log in to registry ${t.registry} as ${t.registryUser}: ${(err as Error).message}`,
    );
  }
}

/** Takes the set down; volumes and releases stay. */
export async function tearDown(stored: StoredRollout): Promise<void> {
  const { spec } = fromState(stored);
  await runOnPi(spec, teardownCommand(spec), { timeoutMs: (lockWait(spec) + 300) * 1000 });
}

/** Reads the Pi back and compares it with the release: the drift, empty when there is none. */
export async function observeDrift(stored: StoredRollout): Promise<DriftItem[]> {
  const { spec: t, compose } = fromState(stored);
  const services = expectedServices(compose);
  const command = observeCommand({
    remoteDir: t.remoteDir,
    project: t.project,
    release: t.release,
    refs: Object.values(services),
  });
  let seen;
  try {
    seen = parseObservation(await runOnPi(t, command, { timeoutMs: 120_000 }));
  } catch (err) {
    // Never "nothing there": an unreachable Pi is an error, and the refresh stops on it.
    throw new Error(
      `cannot read the Pi back (${t.user}@${t.host}:${t.port}): ${(err as Error).message}`,
    );
  }
  const sha = (text: string) => createHash("sha256").update(text).digest("hex");
  // Releases before provider 5 kept env files, and no environment file to compare.
  const envFiles = Number(stored.providerVersion ?? 0) < 5;
  return driftOf(
    {
      project: t.project,
      release: t.release,
      composeSha: sha(compose),
      environmentSha: envFiles ? undefined : sha(environmentFile(t.env)),
      services,
    },
    seen,
  );
}
