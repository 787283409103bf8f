import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SERVICE_NAMES, SERVICES, VOLUMES } from "../../infra/services";
import { docker, dockerResult } from "./docker";

/**
 * A throwaway Lucid set on the build side's Engine: an internal network (no way out), volumes, the
 * health checks the images ship (the catalog's: hardening.test.ts), none relaxed for the test.
 */
export interface RunningSet {
  prefix: string;
  network: string;
  /** api-server's bearer token (LUCID_API_TOKEN), made for this set. */
  apiToken: string;
  /** Everything a service wrote to its stdout and stderr so far. */
  logs(service: string): string;
  ip(service: string): string;
  exec(service: string, args: string[]): { code: number; out: string };
  health(service: string): string;
  /** The service's last health check: "exit N after S s: output", or "none yet". */
  lastCheck(service: string): string;
  stop(): void;
}

export const HARDENED = [
  "--read-only",
  "--tmpfs",
  "/tmp:size=16m",
  "--cap-drop",
  "ALL",
  "--security-opt",
  "no-new-privileges",
];
// QEMU's default arm64 CPU computes pointer authentication with QARMA, in software, at every
// call and return of code built with branch protection (Debian 13's is): trixie's Python ran 8x
// slower (api-server's import: 33 s, 5.8 s with this). The implementation-defined algorithm
// keeps pointer authentication on, only cheaper to emulate. No effect on amd64, nor on a Pi.
export const QEMU_FAST_PAUTH = ["--env", "QEMU_CPU=max,pauth-impdef=on"];

/**
 * Starts the five services from the given refs, hardened as on the Pi. The network is internal:
 * no route leads off it, so Tor's attempts to reach its directory fail here, on this machine.
 * (Tor's DisableNetwork would also close its SOCKS port, which is what the tests check.)
 */
export function startSet(prefix: string, refs: Record<string, string>): RunningSet {
  const network = `${prefix}-net`;
  const name = (s: string) => `${prefix}-${s}`;
  // As on the Pi: the token in an env file of mode 600, never on a command line.
  const apiToken = crypto.randomBytes(32).toString("base64url");
  const envDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-env-`));
  const envFile = path.join(envDir, "api-server.env");
  fs.writeFileSync(envFile, `LUCID_API_TOKEN=${apiToken}\n`, { mode: 0o600 });
  const remove = () => {
    docker(["rm", "-f", "-v", ...SERVICE_NAMES.map(name)], { allowFail: true });
    docker(["volume", "rm", ...VOLUMES.map((v) => `${prefix}-${v}`)], { allowFail: true });
    docker(["network", "rm", network], { allowFail: true });
  };
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
      ...QEMU_FAST_PAUTH,
      ...extra,
      refs[service],
      ...args,
    ]);
  // What an interrupted run left goes first; a start that fails half way takes its part away.
  remove();
  try {
    docker(["network", "create", "--internal", network]);
    // each with the volumes the catalog gives it, in its order (tunnel-tools after tor-proxy)
    for (const s of SERVICES)
      run(s.name, [
        ...Object.entries(s.volumes).flatMap(([v, mount]) => ["-v", `${prefix}-${v}:${mount}`]),
        ...(s.name === "api-server" ? ["--env-file", envFile] : []),
      ]);
  } catch (err) {
    remove();
    throw err;
  } finally {
    fs.rmSync(envDir, { recursive: true, force: true });
  }
  return {
    prefix,
    network,
    apiToken,
    logs: (s) => {
      const r = dockerResult(["logs", name(s)], 30_000);
      return r.stdout + r.stderr;
    },
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
    health: (s) => {
      const r = dockerResult(
        [
          "inspect",
          "--format",
          "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
          name(s),
        ],
        30_000,
      );
      return r.code === 0 ? r.stdout : `gone: ${r.stderr}`;
    },
    lastCheck: (s) => {
      const r = dockerResult(["inspect", "--format", "{{json .State.Health}}", name(s)], 30_000);
      if (r.code !== 0) return `not inspected: ${r.stderr}`;
      const health: { Log?: { Start: string; End: string; ExitCode: number; Output: string }[] } =
        JSON.parse(r.stdout) ?? {};
      const last = health.Log?.at(-1);
      if (!last) return "none yet";
      const took = (Date.parse(last.End) - Date.parse(last.Start)) / 1000;
      return `exit ${last.ExitCode} after ${took.toFixed(1)} s: ${last.Output.trim().slice(-300)}`;
    },
    stop: remove,
  };
}

/**
 * Waits until every service reports healthy: at most `seconds`, polling each second. A service
 * that is not healthy in the end is given with its last check: its exit code and what it printed
 * (Docker's own words for a check that ran out of time), so a failure says why.
 */
export async function waitHealthy(
  set: RunningSet,
  services: string[],
  seconds: number,
): Promise<Record<string, string>> {
  let states: Record<string, string> = {};
  for (let i = 0; i < seconds; i++) {
    states = Object.fromEntries(services.map((s) => [s, set.health(s)]));
    if (Object.values(states).every((h) => h === "healthy")) return states;
    if (Object.values(states).includes("unhealthy")) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return Object.fromEntries(
    Object.entries(states).map(([s, h]) => [s, h === "healthy" ? h : `${h}: ${set.lastCheck(s)}`]),
  );
}
