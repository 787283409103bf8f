// What the PiRollout provider does on the Pi. The provider loads this module by its absolute
// path at run time (its own code is serialized into state), so everything remote lives here.
import { createHash } from "crypto";
import { driftOf, expectedServices, type DriftItem } from "./drift";
import { ENVIRONMENT_FILE, environmentFile, type ServiceEnv } from "./compose";
import { shellJoin } from "./ssh/commands";
import { LinkLostError, runRemote, type RemoteResult, type SshTarget } from "./ssh/executor";
import { observeCommand, parseObservation } from "./ssh/observe";
import {
  followBound,
  followCommand,
  lockWait,
  newRunId,
  rolloutCommand,
  teardownCommand,
} from "./ssh/rollout";
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
  return succeeded(target, await runRemote(target, command, opts));
}

/** The command's stdout when it exited 0; else an error with its last 30 lines of output. */
function succeeded(target: SshTarget, result: RemoteResult): string {
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

/** After a link lost mid-rollout: how long, and how often, the Pi is reached for again. */
export const RECONNECT = { windowMs: 60_000, pauseMs: 5_000, connectTimeoutMs: 15_000 };

/**
 * Rolls the release out (its files on stdin); bounded past the health gate. The rollout runs on
 * the Pi detached from the link (components/ssh/rollout.sh): when the link is lost, the Pi is
 * reached again and the same run followed to its end, so the outcome is the Pi's, not the link's.
 */
export async function rollOut(t: RolloutSpec, recreate: readonly string[] = []): Promise<void> {
  if (t.registry && t.registryUser) await logIn(t);
  const runId = newRunId(t.release);
  // past the Pi's own follower's bound, so that its "still running" is what a slow rollout reports
  const bound = (followBound(t) + 60) * 1000;
  const started = Date.now();
  let result: RemoteResult;
  try {
    result = await runRemote(t, rolloutCommand(t, runId, recreate), {
      stdin: releaseFiles(composeOf(t), t.env),
      timeoutMs: bound,
    });
  } catch (err) {
    if (!(err instanceof LinkLostError) || err.timedOut) throw err;
    result = await followAfterLoss(err, `${t.remoteDir}/runs/${runId}`, () =>
      runRemote(t, followCommand(t, runId), {
        timeoutMs: Math.max(bound - (Date.now() - started), 60_000),
        connectTimeoutMs: RECONNECT.connectTimeoutMs,
      }),
    );
  }
  succeeded(t, result);
}

/**
 * The outcome of a rollout whose link was lost: the Pi reached again (bounded by RECONNECT) and
 * the run followed to its end. When the Pi cannot be reached in time, a LinkLostError that says
 * the outcome is not known yet, and where the Pi keeps it.
 */
export async function followAfterLoss(
  lost: LinkLostError,
  record: string,
  follow: () => Promise<RemoteResult>,
  reconnect: typeof RECONNECT = RECONNECT,
): Promise<RemoteResult> {
  const deadline = Date.now() + reconnect.windowMs;
  let last: Error = lost;
  for (let attempt = 0; attempt < 100 && Date.now() < deadline; attempt++) {
    await new Promise((r) =>
      setTimeout(r, attempt === 0 ? reconnect.pauseMs / 5 : reconnect.pauseMs),
    );
    try {
      return await follow();
    } catch (err) {
      last = err as Error;
    }
  }
  throw new LinkLostError(
    `${lost.message}. The Pi could not be reached again within ${reconnect.windowMs / 1000} s to learn the outcome (${last.message}). The rollout goes on there by itself, to its end: it commits or rolls back, never leaves half a release current; its record is ${record}/log on the Pi. \`npm run drift\` reads what the Pi runs; the next up waits for the rollout and rolls out what differs.`,
  );
}

/**
 * The release's files as the rollout reads them on stdin, one per line: `<name> <base64>`. The
 * compose file, then the release's secret variables (never on a command line), then `.`.
 */
export function releaseFiles(compose: string, env: ServiceEnv): string {
  const line = (name: string, text: string) => `${name} ${Buffer.from(text).toString("base64")}\n`;
  // "." ends the list: a link cut before it is a release that never arrived, never a short one
  return [
    line("docker-compose.yml", compose),
    line(ENVIRONMENT_FILE, environmentFile(env)),
    ".\n",
  ].join("");
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
  const wait = lockWait(t); // a rollout running there is waited for
  const command = observeCommand({
    remoteDir: t.remoteDir,
    project: t.project,
    release: t.release,
    refs: Object.values(services),
    lockWait: wait,
  });
  let seen;
  try {
    seen = parseObservation(await runOnPi(t, command, { timeoutMs: (wait + 120) * 1000 }));
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
