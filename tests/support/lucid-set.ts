import { SERVICE_NAMES, SERVICES, VOLUMES } from "../../infra/services";
import { docker, dockerResult } from "./docker";

/** A throwaway Lucid set on the build side's Engine: an internal network (no way out), volumes. */
export interface RunningSet {
  prefix: string;
  network: string;
  ip(service: string): string;
  exec(service: string, args: string[]): { code: number; out: string };
  health(service: string): string;
  stop(): void;
}

const HARDENED = [
  "--read-only",
  "--tmpfs",
  "/tmp:size=16m",
  "--cap-drop",
  "ALL",
  "--security-opt",
  "no-new-privileges",
];
// The images' own checks, run sooner than their production interval so a test waits less, and
// given the time an arm64 Python needs under QEMU on a busy 2-core machine (seen: over 10 s).
const FAST_HEALTH = [
  "--health-interval",
  "3s",
  "--health-start-period",
  "120s",
  "--health-timeout",
  "30s",
  "--health-retries",
  "10", // a slow answer under QEMU on a busy machine is not a failing service
];
// QEMU's default arm64 CPU computes pointer authentication with QARMA, in software, at every
// call and return of code built with branch protection (Debian 13's is): trixie's Python ran 8x
// slower (api-server's import: 33 s, 5.8 s with this). The implementation-defined algorithm
// keeps pointer authentication on, only cheaper to emulate. No effect on amd64, nor on a Pi.
const QEMU_FAST_PAUTH = ["--env", "QEMU_CPU=max,pauth-impdef=on"];

/**
 * Starts the five services from the given refs, hardened as on the Pi. The network is internal:
 * no route leads off it, so Tor's attempts to reach its directory fail here, on this machine.
 * (Tor's DisableNetwork would also close its SOCKS port, which is what the tests check.)
 */
export function startSet(prefix: string, refs: Record<string, string>): RunningSet {
  const network = `${prefix}-net`;
  const name = (s: string) => `${prefix}-${s}`;
  docker(["network", "create", "--internal", network]);
  const run = (service: string, extra: string[], args: string[] = []) =>
    docker([
      "run",
      "-d",
      "--name",
      name(service),
      "--network",
      network,
      "--network-alias",
      service,
      ...HARDENED,
      ...FAST_HEALTH,
      ...QEMU_FAST_PAUTH,
      ...extra,
      refs[service],
      ...args,
    ]);
  // each with the volumes the catalog gives it, in its order (tunnel-tools after tor-proxy)
  for (const s of SERVICES)
    run(
      s.name,
      Object.entries(s.volumes).flatMap(([v, mount]) => ["-v", `${prefix}-${v}:${mount}`]),
    );
  return {
    prefix,
    network,
    ip: (s) =>
      docker([
        "inspect",
        "--format",
        `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`,
        name(s),
      ]),
    exec: (s, args) => {
      const r = dockerResult(["exec", name(s), ...args], 180_000); // arm64 Python under QEMU
      return { code: r.code, out: r.stdout || r.stderr };
    },
    health: (s) =>
      docker([
        "inspect",
        "--format",
        "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
        name(s),
      ]),
    stop: () => {
      docker(["rm", "-f", "-v", ...SERVICE_NAMES.map(name)], { allowFail: true });
      docker(["volume", "rm", ...VOLUMES.map((v) => `${prefix}-${v}`)], { allowFail: true });
      docker(["network", "rm", network], { allowFail: true });
    },
  };
}

/** Waits until every service reports healthy: at most `seconds`, polling each second. */
export async function waitHealthy(
  set: RunningSet,
  services: string[],
  seconds: number,
): Promise<Record<string, string>> {
  let states: Record<string, string> = {};
  for (let i = 0; i < seconds; i++) {
    states = Object.fromEntries(services.map((s) => [s, set.health(s)]));
    if (Object.values(states).every((h) => h === "healthy")) return states;
    if (Object.values(states).includes("unhealthy")) return states;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return states;
}
