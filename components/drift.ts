import { parse } from "yaml";

/** One difference between what was rolled out and what the Pi runs. */
export interface DriftItem {
  /** A service name, `release`, a compose file path, or an unexpected container's name. */
  subject: string;
  expected: string;
  found: string;
  /** The service's container must be removed before `up` can put the right one back. */
  recreate?: boolean;
}

/** What the rollout put on the Pi: read from its own inputs. */
export interface Expected {
  project: string;
  release: string;
  /** sha256 (hex) of the compose file the release wrote. */
  composeSha: string;
  /** sha256 (hex) of its environment file; undefined for a release that has none to compare. */
  environmentSha?: string;
  /** service -> image reference, as the compose file pins it */
  services: Record<string, string>;
}

/** One container as `docker inspect` shows it, reduced to what drift compares. */
export interface ContainerView {
  name: string;
  project?: string;
  service?: string;
  /** The reference it was created from (`.Config.Image`). */
  ref: string;
  /** The image it runs (`.Image`). */
  imageId: string;
  state: string;
  exitCode: number;
  health?: string;
}

/** What the Pi showed. */
export interface Observation {
  /** Target of the `current` link, relative to the releases dir's parent; null when absent. */
  current: string | null;
  /** sha256 of the release's compose file on the Pi; null when absent. */
  composeSha: string | null;
  /** sha256 of the release's environment file on the Pi; null when absent. */
  environmentSha: string | null;
  containers: ContainerView[];
  /** image reference -> the image id the Pi has for it; null when it has none. */
  imageIds: Record<string, string | null>;
}

/** The services and images a compose file names. */
export function expectedServices(compose: string): Record<string, string> {
  const doc = parse(compose) as { services?: Record<string, { image?: string }> };
  return Object.fromEntries(
    Object.entries(doc.services ?? {}).map(([name, s]) => [name, String(s.image ?? "")]),
  );
}

const short = (ref: string): string =>
  ref.replace(/@sha256:([0-9a-f]{12})[0-9a-f]{52}$/, "@sha256:$1…");
const shortId = (id: string): string => id.replace(/^sha256:/, "").slice(0, 12);

/** Compose names a service's containers `<project>_<service>_<n>` (1.29) or `<project>-<service>-<n>` (v2). */
const ownsName = (project: string, service: string, name: string): boolean => {
  const [p, s] = [escape(project), escape(service)];
  return new RegExp(`^/?(${p}_${s}_|${p}-${s}-)\\d+$`).test(name);
};
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Every difference between what was rolled out and what the Pi shows, services first. */
export function driftOf(want: Expected, seen: Observation): DriftItem[] {
  const items: DriftItem[] = [];
  const inProject = seen.containers.filter((c) => c.project === want.project);
  for (const [service, ref] of Object.entries(want.services).sort()) {
    const mine = inProject.filter((c) => c.service === service);
    const squatter = seen.containers.find(
      (c) => c.project !== want.project && ownsName(want.project, service, c.name),
    );
    if (mine.length === 0) {
      items.push(
        squatter
          ? {
              subject: service,
              expected: `its compose container from ${short(ref)}`,
              found: `${squatter.name} from ${short(squatter.ref)}, not made by compose`,
              recreate: true,
            }
          : { subject: service, expected: "a running container", found: "no container" },
      );
      continue;
    }
    items.push(...mine.slice(1).map((c) => extra(c, "a second container of the service")));
    items.push(...containerDrift(service, ref, mine[0], seen.imageIds[ref] ?? null));
  }
  for (const c of inProject.filter((c) => !(c.service && c.service in want.services)))
    items.push(extra(c, `service ${c.service ?? "(none)"}`));
  items.push(...releaseDrift(want, seen));
  return items;
}

function containerDrift(
  service: string,
  ref: string,
  c: ContainerView,
  wantId: string | null,
): DriftItem[] {
  if (c.ref !== ref || (wantId !== null && c.imageId !== wantId)) {
    return [
      {
        subject: service,
        expected: `image ${short(ref)}`,
        found: `image ${short(c.ref)} (${shortId(c.imageId)})`,
        recreate: true,
      },
    ];
  }
  if (c.state !== "running") {
    const how = c.state === "exited" ? `exited (code ${c.exitCode})` : c.state;
    return [{ subject: service, expected: "running", found: how }];
  }
  // "starting" is a container on its way (after a restart of the Engine): not drift.
  if (c.health === "unhealthy")
    return [{ subject: service, expected: "healthy", found: "unhealthy" }];
  return [];
}

const extra = (c: ContainerView, what: string): DriftItem => ({
  subject: c.name.replace(/^\//, ""),
  expected: "no such container in the project",
  found: `${c.state} container (${what}, image ${short(c.ref)})`,
});

function releaseDrift(
  { release, composeSha, environmentSha }: Expected,
  seen: Observation,
): DriftItem[] {
  const items: DriftItem[] = [];
  const want = `releases/${release}`;
  if (seen.current !== want) {
    items.push({
      subject: "release",
      expected: `current -> ${want}`,
      found: seen.current === null ? "no current release" : `current -> ${seen.current}`,
    });
  }
  const file = `${want}/docker-compose.yml`;
  if (seen.composeSha === null) {
    items.push({ subject: file, expected: `the file of release ${release}`, found: "missing" });
  } else if (seen.composeSha !== composeSha) {
    items.push({
      subject: file,
      expected: `sha256 ${composeSha.slice(0, 16)}…`,
      found: `sha256 ${seen.composeSha.slice(0, 16)}… (edited on the Pi)`,
    });
  }
  // The environment holds secrets: its drift is said without a value or a hash of one.
  if (environmentSha !== undefined && seen.environmentSha !== environmentSha) {
    items.push({
      subject: `${want}/environment`,
      expected: "the release's secret variables",
      found: seen.environmentSha === null ? "missing" : "other values (edited on the Pi)",
    });
  }
  return items;
}

/** The drift as lines a person reads: which subject, what was expected, what was found. */
export function driftReport(items: readonly DriftItem[]): string {
  if (items.length === 0) return "no drift: the Pi runs what was rolled out";
  const width = Math.max(...items.map((i) => i.subject.length));
  return [
    `drift: ${items.length} difference${items.length === 1 ? "" : "s"} on the Pi`,
    ...items.map((i) => `  ${i.subject.padEnd(width)}  expected ${i.expected}; found ${i.found}`),
  ].join("\n");
}
