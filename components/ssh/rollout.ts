import { randomBytes } from "crypto";
import type { RolloutSpec } from "../rollout-spec";
import { remoteCommand } from "./programs";

/** What the rollout program needs of the spec. */
export type RolloutValues = Pick<
  RolloutSpec,
  "remoteDir" | "project" | "release" | "healthTimeout" | "keepReleases"
>;

/** A rollout attempt's name on the Pi (its directory under runs/): sortable, unique. */
export const newRunId = (release: string, now = new Date()): string =>
  `${now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}-${release.slice(0, 12)}-${randomBytes(3).toString("hex")}`;

/** The environment rollout.sh reads; `runId` names the attempt (newRunId). */
export function rolloutEnv(
  p: RolloutValues,
  runId: string,
  recreate: readonly string[] = [],
): Record<string, string | number> {
  return {
    LUCID_DIR: p.remoteDir,
    LUCID_PROJECT: p.project,
    LUCID_RELEASE: p.release,
    LUCID_RUN_ID: runId,
    LUCID_HEALTH_TIMEOUT: Math.floor(p.healthTimeout),
    LUCID_KEEP: Math.max(2, Math.floor(p.keepReleases)),
    LUCID_LOCK_WAIT: lockWait(p),
    LUCID_FOLLOW_BOUND: followBound(p),
    LUCID_RECREATE: recreate.join(" "),
  };
}

/** The rollout's command line (the release's files go on its stdin: components/pi-remote.ts). */
export const rolloutCommand = (
  p: RolloutValues,
  runId: string,
  recreate: readonly string[] = [],
): string => remoteCommand("rollout", rolloutEnv(p, runId, recreate));

/** Follows rollout `runId` on the Pi again (after a dropped link): its log, then its status. */
export const followCommand = (p: RolloutValues, runId: string): string =>
  remoteCommand("rollout", { ...rolloutEnv(p, runId), LUCID_FOLLOW: 1 });

/** Takes the set down under the rollout's lock; volumes stay (no -v), and so do the releases. */
export const teardownCommand = (
  p: Pick<RolloutSpec, "remoteDir" | "project" | "healthTimeout">,
): string =>
  remoteCommand("teardown", {
    LUCID_DIR: p.remoteDir,
    LUCID_PROJECT: p.project,
    LUCID_LOCK_WAIT: lockWait(p),
  });

/** Seconds to wait for another rollout: its whole health gate, plus its pull and up. */
export const lockWait = (p: Pick<RolloutSpec, "healthTimeout">): number =>
  Math.floor(p.healthTimeout + 120);

/**
 * Seconds a follower of the rollout (rollout.sh) waits for its end: the lock's wait, pull and up
 * (10 min at most), the health gate, and a minute for the rollback.
 */
export const followBound = (p: Pick<RolloutSpec, "healthTimeout">): number =>
  lockWait(p) + 600 + Math.floor(p.healthTimeout) + 60;
