import { spawnSync } from "child_process";

/** docker on the Pi stand-in's own Engine (its socket on this machine), bounded in time. */
export function piDocker(args: string[], timeoutMs = 120_000): string {
  const r = spawnSync("/usr/bin/docker", args, {
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...process.env, DOCKER_HOST: "unix:///run/docker-pi.sock" },
  });
  if (r.status !== 0) throw new Error(`Pi: docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The project's containers on the Pi: service -> { id, image, health, arch }. */
export function piContainers(project: string) {
  const ids = piDocker(["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`])
    .split("\n")
    .filter(Boolean);
  return Object.fromEntries(
    ids.map((id) => {
      const [service, image, health] = piDocker([
        "inspect",
        "--format",
        '{{index .Config.Labels "com.docker.compose.service"}} {{.Image}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}',
        id,
      ]).split(" ");
      const arch = piDocker(["image", "inspect", "--format", "{{.Architecture}}", image]);
      return [service, { id, image, health, arch }];
    }),
  );
}

/** Names of the project's networks or volumes on the Pi, sorted. */
const piList = (kind: "network" | "volume", project: string) =>
  piDocker([
    kind,
    "ls",
    "--format",
    "{{.Name}}",
    "--filter",
    `label=com.docker.compose.project=${project}`,
  ])
    .split("\n")
    .filter(Boolean)
    .sort();

export const piNetworks = (project: string) => piList("network", project);
export const piVolumes = (project: string) => piList("volume", project);
