import type * as auto from "@pulumi/pulumi/automation";
import type { DriftItem } from "../components/drift";
import { withoutReadback } from "./workspace";

/** The type token of the rollout resource, as the engine reports it. */
const ROLLOUT_TYPE = "pulumi-nodejs:dynamic/lucid:PiRollout";

/**
 * Reads the Pi back through a refresh of the rollout alone and returns what it found different
 * from the release, or null when the stack has rolled nothing out. `write: false` previews the
 * refresh (state left as it was: for scheduled checks); `write: true` records the drift, so the
 * next up heals it. Only the rollout is refreshed: the images' refresh asks the registry, not the
 * Pi, and the engine's `up --refresh` replaced unchanged images (docker-build 0.0.22 then deleted
 * the digests it had just pushed).
 */
export async function refreshDrift(
  stack: auto.Stack,
  opts: { write: boolean; onOutput?: (s: string) => void },
): Promise<DriftItem[] | null> {
  const { deployment } = await stack.exportStack();
  const rollouts = ((deployment?.resources ?? []) as { urn: string; type: string }[])
    .filter((r) => r.type === ROLLOUT_TYPE)
    .map((r) => r.urn);
  if (rollouts.length === 0) return null;
  const found: DriftItem[] = [];
  const onEvent = (e: auto.EngineEvent) => {
    const m = e.resOutputsEvent?.metadata;
    if (m?.type === ROLLOUT_TYPE) found.push(...((m.new?.outputs?.drift as DriftItem[]) ?? []));
  };
  const refreshOpts = { onEvent, onOutput: opts.onOutput, target: rollouts };
  // what it found is in the events: the summary the API would read back after it is not needed
  if (opts.write) await withoutReadback(stack).refresh(refreshOpts);
  else await stack.previewRefresh(refreshOpts);
  return found;
}
