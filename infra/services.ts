/**
 * The Lucid catalog: the five services and their contract, as data. The graph, the compose
 * renderer and the tests read it; nothing here builds or deploys.
 */
import type { HealthCheck } from "../components/compose";

export type BaseKind = "base" | "python";

/** Networks of the set: only `edge` is published; `tor` and `backend` have no way out. */
export type NetworkName = "edge" | "egress" | "backend" | "tor";

/**
 * Resources a service may use on a Pi (the set fits in 1 GiB). Python services get room for a
 * health check beside the service, and for QEMU's overhead on the arm64 stand-in (seen: 96m
 * OOM-killed there).
 */
export interface Limits {
  memory: string;
  cpus: number;
  pids: number;
}

export interface ServiceSpec {
  /** Service name; also the image tag and the build context under infra/images/. */
  name: string;
  /** Which runtime base the image's final stage starts from. */
  base: BaseKind;
  /**
   * The Debian packages its builder stage installs (`a|b`: the first the release has), as its
   * Dockerfile names them: their versions, with all they depend on, are a build input, so a
   * Debian update of one of them rebuilds the image (infra/debian-packages.ts).
   */
  debian: readonly string[];
  /**
   * Its health check: the one home of its timings. The compose file runs it with these; the
   * image's Dockerfile declares the same (tests/unit/health.test.ts holds them equal).
   */
  health: HealthCheck;
  /** State that must survive every rollout: volume name -> mount path (":ro" for read-only). */
  volumes: Record<string, string>;
  /** The networks it joins. */
  networks: NetworkName[];
  /**
   * The port inside the container that the Pi publishes at the stack's `lucid:pi.gatewayPort`;
   * only the gateway has one.
   */
  published?: number;
  /** Sized for a Pi, the five together well under 1 GiB. */
  limits: Limits;
}

const probe = "/usr/local/bin/lucid-probe";

export const SERVICES: readonly ServiceSpec[] = [
  {
    name: "tor-proxy",
    base: "base",
    debian: ["tor"],
    health: {
      test: [probe, "unix", "/run/lucid-tor/socks"],
      interval: 5,
      startPeriod: 30,
      timeout: 10,
      retries: 3,
    },
    // Tor's SOCKS and control sockets in tor-sockets: it listens on no network address
    volumes: { "tor-data": "/var/lib/tor", "tor-sockets": "/run/lucid-tor" },
    networks: ["egress", "tor"],
    limits: { memory: "256m", cpus: 1, pids: 128 },
  },
  {
    name: "api-server",
    base: "python",
    debian: ["python3-fastapi", "python3-uvicorn", "python3-cryptography"],
    health: {
      test: [probe, "http", "http://127.0.0.1:8000/health"],
      interval: 5,
      startPeriod: 60,
      timeout: 10,
      retries: 3,
    },
    volumes: { "api-state": "/var/lib/lucid-api" },
    networks: ["backend"],
    limits: { memory: "256m", cpus: 1, pids: 64 },
  },
  {
    name: "api-gateway",
    base: "base",
    debian: ["nginx-light|nginx"],
    health: {
      test: [probe, "http", "http://127.0.0.1:8080/health"],
      interval: 5,
      startPeriod: 10,
      timeout: 10,
      retries: 3,
    },
    volumes: {},
    networks: ["edge", "backend", "tor"],
    published: 8080,
    limits: { memory: "64m", cpus: 0.5, pids: 32 },
  },
  {
    name: "tunnel-tools",
    base: "python",
    debian: ["python3-stem"],
    health: {
      test: ["/usr/bin/python3", "-m", "lucid_tunnel", "health"],
      interval: 15,
      startPeriod: 60,
      timeout: 10,
      retries: 3,
    },
    volumes: {
      "tunnel-state": "/var/lib/lucid-tunnel",
      "tor-data": "/var/lib/tor:ro",
      "tor-sockets": "/run/lucid-tor:ro",
    },
    networks: ["tor"],
    limits: { memory: "192m", cpus: 0.5, pids: 32 },
  },
  {
    name: "server-tools",
    base: "python",
    debian: ["python3-pymongo"],
    health: {
      test: ["/usr/bin/python3", "-m", "lucid_tools", "self-check"],
      interval: 15,
      startPeriod: 60,
      timeout: 10,
      retries: 3,
    },
    volumes: { "tools-data": "/var/lib/lucid-tools", "tor-sockets": "/run/lucid-tor:ro" },
    networks: ["tor", "backend"],
    limits: { memory: "192m", cpus: 0.5, pids: 32 },
  },
];

/** The services' names, in catalog order. */
export const SERVICE_NAMES: readonly string[] = SERVICES.map((s) => s.name);

/** Every named volume of the set, sorted: the state that must survive everything. */
export const VOLUMES: readonly string[] = [
  ...new Set(SERVICES.flatMap((s) => Object.keys(s.volumes))),
].sort();
