/**
 * The Lucid catalog: the five services and their contract, as data. The graph, the compose
 * renderer and the tests read it; nothing here builds or deploys.
 */
export type BaseKind = "base" | "python";

export interface ServiceSpec {
  /** Service name; also the image tag and the build context under infra/images/. */
  name: string;
  /** Which runtime base the image's final stage starts from. */
  base: BaseKind;
  /** Ports the service listens on inside its networks. */
  ports: number[];
  /** The exec-form health check the image declares (no shell in any image). */
  healthcheck: string[];
  /** State that must survive every rollout: volume name -> mount path. */
  volumes: Record<string, string>;
}

const probe = "/usr/local/bin/lucid-probe";

export const SERVICES: readonly ServiceSpec[] = [
  {
    name: "tor-proxy",
    base: "base",
    ports: [9050, 9051],
    healthcheck: [probe, "tcp", "127.0.0.1:9050"],
    volumes: { "tor-data": "/var/lib/tor" },
  },
  {
    name: "api-server",
    base: "python",
    ports: [8000],
    healthcheck: [probe, "http", "http://127.0.0.1:8000/health"],
    volumes: { "api-state": "/var/lib/lucid-api" },
  },
  {
    name: "api-gateway",
    base: "base",
    ports: [8080],
    healthcheck: [probe, "http", "http://127.0.0.1:8080/health"],
    volumes: {},
  },
  {
    name: "tunnel-tools",
    base: "python",
    ports: [],
    healthcheck: ["/usr/bin/python3", "-m", "lucid_tunnel", "health"],
    volumes: { "tunnel-state": "/var/lib/lucid-tunnel" },
  },
  {
    name: "server-tools",
    base: "python",
    ports: [],
    healthcheck: ["/usr/bin/python3", "-m", "lucid_tools", "self-check"],
    volumes: { "tools-data": "/var/lib/lucid-tools" },
  },
];
