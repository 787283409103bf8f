import type { ContainerView, Observation } from "../drift";
import { remoteCommand } from "./programs";

/** The command line of observe.sh: what the Pi runs, read-only, in `@` sections. */
export const observeCommand = (p: {
  remoteDir: string;
  project: string;
  release: string;
  refs: readonly string[];
}): string =>
  remoteCommand(
    "observe",
    { LUCID_DIR: p.remoteDir, LUCID_PROJECT: p.project, LUCID_RELEASE: p.release },
    p.refs,
  );

interface Inspected {
  Name: string;
  Image: string;
  Config: { Image: string; Labels: Record<string, string> | null };
  State: { Status: string; ExitCode: number; Health?: { Status: string } };
}

/** Reads the observation program's output; throws on anything it cannot read. */
export function parseObservation(text: string): Observation {
  const sections: Record<string, string[]> = {};
  let at = "";
  for (const line of text.split("\n")) {
    if (/^@[a-z]+$/.test(line)) sections[(at = line.slice(1))] = [];
    else if (at) sections[at].push(line);
  }
  for (const s of ["current", "compose", "containers", "images"])
    if (!sections[s]) throw new Error(`the Pi's answer has no @${s} section`);
  const one = (s: string): string | null => {
    const v = sections[s].join("").trim();
    return v === "-" || v === "" ? null : v;
  };
  const inspected = JSON.parse(sections.containers.join("\n")) as Inspected[];
  return {
    current: one("current"),
    composeSha: one("compose"),
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

const toView = (c: Inspected): ContainerView => {
  const labels = c.Config.Labels ?? {};
  return {
    name: c.Name.replace(/^\//, ""),
    project: labels["com.docker.compose.project"],
    service: labels["com.docker.compose.service"],
    ref: c.Config.Image,
    imageId: c.Image,
    state: c.State.Status,
    exitCode: c.State.ExitCode,
    health: c.State.Health?.Status,
  };
};
