import type { RolloutSpec } from "../rollout-spec";
import { remoteCommand } from "./programs";

/** What the rollout program needs of the spec. */
export type RolloutValues = Pick<
  RolloutSpec,
  "remoteDir" | "project" | "release" | "healthTimeout" | "keepReleases"
>;

/** The environment rollout.sh reads. */
export function rolloutEnv(
  p: RolloutValues,
  recreate: readonly string[] = [],
): Record<string, string | number> {
  return {
    LUCID_DIR: p.remoteDir,
    LUCID_PROJECT: p.project,
    LUCID_RELEASE: p.release,
    LUCID_HEALTH_TIMEOUT: Math.floor(p.healthTimeout),
    LUCID_KEEP: Math.max(2, Math.floor(p.keepReleases)),
    LUCID_LOCK_WAIT: lockWait(p),
    LUCID_RECREATE: recreate.join(" "),
  };
}

/** The rollout's command line (the release's files go on its stdin: components/pi-remote.ts). */
export const rolloutCommand = (p: RolloutValues, recreate: readonly string[] = []): string =>
  remoteCommand("rollout", rolloutEnv(p, recreate));

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
