import type { ContainerView, Observation } from "../drift";
import { shellQuote } from "./commands";

/**
 * A read-only bash program that shows what the Pi runs: the `current` link, the release's
 * compose file hash, every container of the project (by label, or by a service's container
 * name), and the image id the Pi has for each expected reference. Sections start with `@`.
 * Docker must answer: an Engine that does not is an error, never "no containers".
 */
export function observeScript(p: {
  remoteDir: string;
  project: string;
  release: string;
  refs: readonly string[];
}): string {
  return [
    `dir=${shellQuote(p.remoteDir)}`,
    `project=${shellQuote(p.project)}`,
    `release=${shellQuote(p.release)}`,
    `set -- ${p.refs.map(shellQuote).join(" ")}`, // the expected references, as "$@"
    String.raw`set -euo pipefail
echo @current
readlink "$dir/current" 2>/dev/null || echo -
echo @compose
if [ -f "$dir/releases/$release/docker-compose.yml" ]; then
  sha256sum "$dir/releases/$release/docker-compose.yml" | cut -d' ' -f1
else echo -; fi
labelled="$(docker ps -aq --no-trunc --filter "label=com.docker.compose.project=$project")"
named="$(docker ps -aq --no-trunc --filter "name=^/$project"_)"
ids="$(printf '%s\n%s\n' "$labelled" "$named" | sort -u | grep . || true)"
echo @containers
if [ -n "$ids" ]; then docker inspect $ids; else echo '[]'; fi
echo @images
for ref in "$@"; do
  printf '%s %s\n' "$ref" "$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null || echo -)"
done`,
  ].join("\n");
}

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
