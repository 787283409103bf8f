import { stringify } from "yaml";

/** A health check, exec form (no shell), its timings in seconds. */
export interface HealthCheck {
  /** argv, run without a shell. */
  test: string[];
  /** Seconds between checks. */
  interval: number;
  /** Seconds a fresh container may take before a failing check counts. */
  startPeriod: number;
  /** Seconds one check may take. */
  timeout: number;
  /** Failed checks in a row that make the container unhealthy. */
  retries: number;
}

/** A port published on the Pi: `host` (on `address` alone, or every address of the Pi) to `container`. */
export interface Published {
  host: number;
  container: number;
  address?: string;
}

/** One service as the compose file runs it. Knows nothing of Lucid. */
export interface ComposeService {
  name: string;
  /** Pinned by digest: `repo@sha256:...`. */
  image: string;
  platform: string;
  health: HealthCheck;
  volumes: Record<string, string>;
  networks: string[];
  publish: Published[];
  limits: { memory: string; cpus: number; pids: number };
  /** Services that must be started first. */
  dependsOn?: string[];
  /**
   * Names of its secret variables. The compose file gives each as `NAME=${LUCID_ENV_...}`
   * (envVarOf), and the rollout hands compose the values as its own environment, read from the
   * release's `environment` file: compose interpolates them once, and no dotenv parser (each
   * generation has its own, each rewriting quotes, `#`, `$` and spaces) ever reads a value.
   */
  environment?: string[];
  /** Provider 4's shape, read back from older state: an env file beside the compose file. */
  envFile?: string;
}

export interface ComposeSpec {
  services: ComposeService[];
  /** Networks with no route off the host (`internal: true`). */
  internalNetworks: string[];
}

/** Secret environment, by service then variable name: each service's env file holds its own. */
export type ServiceEnv = Record<string, Record<string, string>>;

/** The file of a release holding its secret variables, `LUCID_ENV_...=<value>` a line, mode 600. */
export const ENVIRONMENT_FILE = "environment";

/** The variable that carries a service's secret `name` from the rollout to compose. */
export const envVarOf = (service: string, name: string): string =>
  `LUCID_ENV_${service.replace(/[^A-Za-z0-9]/g, "_")}__${name}`;

/**
 * The release's `environment` file: a line per service and variable, the value raw (one line:
 * the config check refuses CR, LF and NUL, and so does this).
 */
export function environmentFile(env: ServiceEnv): string {
  return Object.entries(env)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([svc, vars]) =>
      Object.entries(vars)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => {
          if (/[\r\n\0]/.test(value))
            throw new Error(`environment of ${svc}: ${name} must be one line (no CR, LF or NUL)`);
          return `${envVarOf(svc, name)}=${value}\n`;
        }),
    )
    .join("");
}

const DIGEST_REF = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

/**
 * The compose file (format 2.4: docker-compose 1.29 takes it, and so does Compose v2; no
 * top-level `name:`, which 1.29 refuses). Every service is pinned by digest, read-only, without
 * capabilities or new privileges, limited, health-checked without a shell, restarted unless
 * stopped. Pure: the same input gives the same bytes whatever the order of its services (state
 * gives them back sorted), so its hash names a release.
 */
export function renderCompose(spec: ComposeSpec): string {
  for (const s of spec.services) {
    if (!DIGEST_REF.test(s.image))
      throw new Error(`service ${s.name}: image must be pinned by digest, got ${s.image}`);
  }
  const services = [...spec.services].sort((a, b) => a.name.localeCompare(b.name));
  const vars = services.flatMap((s) => (s.environment ?? []).map((n) => envVarOf(s.name, n)));
  const twice = vars.find((v, i) => vars.indexOf(v) !== i);
  if (twice) throw new Error(`two services' variables would both travel as ${twice}`);
  const volumes = [...new Set(services.flatMap((s) => Object.keys(s.volumes)))].sort();
  const networks = [...new Set(services.flatMap((s) => s.networks))].sort();
  const doc = {
    version: "2.4",
    services: Object.fromEntries(services.map((s) => [s.name, service(s)])),
    networks: Object.fromEntries(
      networks.map((n) => [n, spec.internalNetworks.includes(n) ? { internal: true } : {}]),
    ),
    volumes: Object.fromEntries(volumes.map((v) => [v, {}])),
  };
  return stringify(doc, { lineWidth: 0 });
}

function service(s: ComposeService) {
  return {
    image: s.image,
    platform: s.platform,
    restart: "unless-stopped",
    read_only: true,
    tmpfs: ["/tmp:size=16m,mode=1777"],
    cap_drop: ["ALL"],
    security_opt: ["no-new-privileges:true"],
    user: "65532:65532",
    mem_limit: s.limits.memory,
    cpus: s.limits.cpus,
    pids_limit: s.limits.pids,
    healthcheck: {
      test: ["CMD", ...s.health.test],
      interval: `${s.health.interval}s`,
      timeout: `${s.health.timeout}s`,
      retries: s.health.retries,
      start_period: `${s.health.startPeriod}s`,
    },
    ...(s.publish.length
      ? {
          ports: s.publish.map(
            (p) => `${p.address ? `${p.address}:` : ""}${p.host}:${p.container}`,
          ),
        }
      : {}),
    ...(Object.keys(s.volumes).length
      ? {
          volumes: Object.entries(s.volumes)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([v, mount]) => `${v}:${mount}`),
        }
      : {}),
    networks: [...s.networks],
    ...(s.dependsOn?.length ? { depends_on: [...s.dependsOn] } : {}),
    ...(s.environment?.length
      ? { environment: [...s.environment].sort().map((n) => `${n}=\${${envVarOf(s.name, n)}}`) }
      : {}),
    ...(s.envFile ? { env_file: [s.envFile] } : {}),
    logging: { driver: "json-file", options: { "max-size": "5m", "max-file": "2" } },
  };
}
