import type { ContainerView, Observation } from "../drift";
import { remoteCommand } from "./programs";

/**
 * The command line of observe.sh: what the Pi runs, read-only, in `@` sections; a rollout running
 * there is waited for, `lockWait` seconds at most.
 */
export const observeCommand = (p: {
  remoteDir: string;
  project: string;
  release: string;
  refs: readonly string[];
  lockWait: number;
}): string =>
  remoteCommand(
    "observe",
    {
      LUCID_DIR: p.remoteDir,
      LUCID_PROJECT: p.project,
      LUCID_RELEASE: p.release,
      LUCID_LOCK_WAIT: p.lockWait,
    },
    p.refs,
  );

/** A container as observe.sh's `docker inspect` format gives it: a JSON object a line. */
interface Inspected {
  Name: string;
  Image: string;
  Ref: string;
  /** "" when the container has no such label */
  Project: string;
  Service: string;
  Status: string;
  ExitCode: number;
  Health: string | null;
}

/** Reads the observation program's output; throws on anything it cannot read. */
export function parseObservation(text: string): Observation {
  const sections: Record<string, string[]> = {};
  let at = "";
  for (const line of text.split("\n")) {
    if (/^@[a-z]+$/.test(line)) sections[(at = line.slice(1))] = [];
    else if (at) sections[at].push(line);
  }
  for (const s of ["current", "compose", "environment", "containers", "images"])
    if (!sections[s]) throw new Error(`the Pi's answer has no @${s} section`);
  const one = (s: string): string | null => {
    const v = sections[s].join("").trim();
    return v === "-" || v === "" ? null : v;
  };
  const inspected = sections.containers
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Inspected);
  return {
    current: one("current"),
    composeSha: one("compose"),
    environmentSha: one("environment"),
    containers: inspected.map(toView),
    imageIds: Object.fromEntries(
      sections.images
        .filter((l) => l.trim())
        .map((l) => {
          const [ref, id] = l.trim().split(" ");
          return [ref, id === "-" ? null : id];
        }),
    ),
  };
}

const toView = (c: Inspected): ContainerView => ({
  name: c.Name.replace(/^\//, ""),
  project: c.Project || undefined,
  service: c.Service || undefined,
  ref: c.Ref,
  imageId: c.Image,
  state: c.Status,
  exitCode: c.ExitCode,
  health: c.Health ?? undefined,
});
