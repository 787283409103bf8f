import { SERVICE_NAMES } from "../../infra/services";
import { dockerResult, PI_ENGINE } from "./docker";

/** docker on the Pi stand-in's own Engine (its socket on this machine), bounded in time. */
export function piDocker(args: string[], timeoutMs = 120_000): string {
  const r = dockerResult(args, timeoutMs, PI_ENGINE);
  if (r.code !== 0) throw new Error(`Pi: docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A container's environment as Docker gave it to the process: NAME -> value. */
export function piContainerEnv(container: string): Record<string, string> {
  const lines = JSON.parse(
    piDocker(["inspect", "-f", "{{json .Config.Env}}", container]),
  ) as string[];
  return Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/**
 * The project's containers on the Pi: service -> { id, image, health, arch }. A container removed
 * while it is read (a rollout recreating it) is left out.
 */
export function piContainers(project: string) {
  const ids = piDocker(["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`])
    .split("\n")
    .filter(Boolean);
  const rows = ids.flatMap((id) => {
    try {
      const [service, image, health] = piDocker([
        "inspect",
        "--format",
        '{{index .Config.Labels "com.docker.compose.service"}} {{.Image}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}',
        id,
      ]).split(" ");
      const arch = piDocker(["image", "inspect", "--format", "{{.Architecture}}", image]);
      return [[service, { id, image, health, arch }] as const];
    } catch (err) {
      if (/No such (object|image)/.test(String(err))) return [];
      throw err;
    }
  });
  return Object.fromEntries(rows);
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

/** service -> container id of the project on the Pi. */
export const piIds = (project: string): Record<string, string> =>
  Object.fromEntries(Object.entries(piContainers(project)).map(([s, c]) => [s, c.id]));

/** Waits (bounded) until every service of the project is healthy; returns service -> health. */
export async function waitAllHealthy(project: string, seconds: number) {
  let health: Record<string, string> = {};
  for (let i = 0; i < seconds / 2; i++) {
    health = Object.fromEntries(
      Object.entries(piContainers(project)).map(([s, c]) => [s, c.health]),
    );
    if (
      Object.keys(health).length === SERVICE_NAMES.length &&
      Object.values(health).every((h) => h === "healthy")
    )
      break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  return health;
}

// Every directory and file: its path, mode and owner, and a file's bytes. Tor rewrites its own
// bookkeeping (state, lock, caches) and a new control cookie whenever it starts: of those, the
// bytes are not data, but the file's being there, its mode and owner are (its passing temporary
// files not even that). A link's target is hashed; a socket (Tor's, in tor-sockets) has no bytes.
const HASH_VOLUMES = [
  "import fnmatch,hashlib,os,stat",
  "skip=['state','lock','control_auth_cookie','cached-*','sr-state']",
  "passing=['*.tmp','*.new']",
  "def meta(h,p):",
  " s=os.lstat(p); h.update(('%s %o %d %d\\n' % (p,s.st_mode,s.st_uid,s.st_gid)).encode()); return s",
  "for v in sorted(os.listdir('/v')):",
  " h=hashlib.sha256()",
  " for r,d,f in sorted(os.walk('/v/'+v)):",
  "  d.sort(); meta(h,r)",
  "  for n in sorted(f):",
  "   tor=v.endswith('_tor-data'); p=os.path.join(r,n)",
  "   if tor and any(fnmatch.fnmatch(n,s) for s in passing): continue",
  "   m=meta(h,p).st_mode",
  "   if stat.S_ISLNK(m): h.update(os.readlink(p).encode())",
  "   if not stat.S_ISREG(m): continue",
  "   if tor and any(fnmatch.fnmatch(n,s) for s in skip): continue",
  "   h.update(open(p,'rb').read())",
  " print(v, h.hexdigest())",
].join("\n");

/**
 * A hash of each of the project's volumes: every directory and file with its mode and owner, and
 * every file's bytes (Tor's keys, the onion service's key and hostname, the API's key, the
 * toolbox's data; of Tor's run bookkeeping, not the bytes), read on the Pi by an
 * image of the set (`tools`, which has Python), mounted read-only: volume -> sha256.
 */
export function volumeHashes(project: string, tools: string): Record<string, string> {
  const mounts = piVolumes(project).flatMap((v) => ["-v", `${v}:/v/${v}:ro`]);
  const out = piDocker([
    "run",
    "--rm",
    "--network",
    "none",
    "--entrypoint",
    "/usr/bin/python3",
    ...mounts,
    tools,
    "-c",
    HASH_VOLUMES,
  ]);
  return Object.fromEntries(out.split("\n").map((l) => l.split(" ") as [string, string]));
}
