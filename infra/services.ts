/**
 * The Lucid catalog: the five services and their contract, as data. The graph, the compose
 * renderer and the tests read it; nothing here builds or deploys.
 */
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
  /** Ports the service listens on inside its networks. */
  ports: number[];
  /** The exec-form health check the image declares (no shell in any image). */
  healthcheck: string[];
  /** State that must survive every rollout: volume name -> mount path (":ro" for read-only). */
  volumes: Record<string, string>;
  /** The networks it joins. */
  networks: NetworkName[];
  /** Ports published on the Pi (host:container); only the gateway has any. */
  publish: string[];
  /** Sized for a Pi, the five together well under 1 GiB. */
  limits: Limits;
  /** Seconds a fresh container may take before its health check counts. */
  startPeriod: number;
  /**
   * Seconds between health checks: short for the static probe (a rollout learns sooner), longer
   * for a check that starts Python (it costs a CPU second or more, under QEMU many).
   */
  healthInterval: number;
}

const probe = "/usr/local/bin/lucid-probe";

export const SERVICES: readonly ServiceSpec[] = [
  {
    name: "tor-proxy",
    base: "base",
    ports: [9050, 9051],
    healthcheck: [probe, "tcp", "127.0.0.1:9050"],
    volumes: { "tor-data": "/var/lib/tor" },
    networks: ["egress", "tor"],
    publish: [],
    limits: { memory: "256m", cpus: 1, pids: 128 },
    startPeriod: 30,
    healthInterval: 5,
  },
  {
    name: "api-server",
    base: "python",
    ports: [8000],
    healthcheck: [probe, "http", "http://127.0.0.1:8000/health"],
    volumes: { "api-state": "/var/lib/lucid-api" },
    networks: ["backend"],
    publish: [],
    limits: { memory: "256m", cpus: 1, pids: 64 },
    startPeriod: 60,
    healthInterval: 5,
  },
  {
    name: "api-gateway",
    base: "base",
    ports: [8080],
    healthcheck: [probe, "http", "http://127.0.0.1:8080/health"],
    volumes: {},
    networks: ["edge", "backend", "tor"],
    publish: ["8080:8080"],
    limits: { memory: "64m", cpus: 0.5, pids: 32 },
    startPeriod: 10,
    healthInterval: 5,
  },
  {
    name: "tunnel-tools",
    base: "python",
    ports: [],
    healthcheck: ["/usr/bin/python3", "-m", "lucid_tunnel", "health"],
    volumes: { "tunnel-state": "/var/lib/lucid-tunnel", "tor-data": "/var/lib/tor:ro" },
    networks: ["tor"],
    publish: [],
    limits: { memory: "192m", cpus: 0.5, pids: 32 },
    startPeriod: 60,
    healthInterval: 15,
  },
  {
    name: "server-tools",
    base: "python",
    ports: [],
    healthcheck: ["/usr/bin/python3", "-m", "lucid_tools", "self-check"],
    volumes: { "tools-data": "/var/lib/lucid-tools" },
    networks: ["tor", "backend"],
    publish: [],
    limits: { memory: "192m", cpus: 0.5, pids: 32 },
    startPeriod: 60,
    healthInterval: 15,
  },
];
