import { renderCompose, type ComposeService, type ServiceEnv } from "./compose";
import type { SshTarget } from "./ssh/executor";

/** How a release is placed and gated on the Pi. Every default is the stack config schema's. */
export interface RolloutSettings {
  /** Compose project: the prefix of every container, network and volume. */
  project: string;
  /** Directory of releases on the Pi, e.g. /home/deploy/lucid. */
  remoteDir: string;
  /** Seconds the set may take to become healthy before the rollout is rolled back. */
  healthTimeout: number;
  /** Releases kept on the Pi, current and previous included (at least 2). */
  keepReleases: number;
}

/** A service of the set as the Pi runs it: its compose settings, by name in `services`. */
export type ServiceOnPi = Omit<ComposeService, "name">;

/**
 * One rollout, from the stack's config to the Pi: the PiRollout provider's inputs and state, and
 * what the remote programs are given. The one shape of it.
 */
export interface RolloutSpec extends SshTarget, RolloutSettings {
  /** The set, by service name; the compose file is rendered from it (composeOf). */
  services: Record<string, ServiceOnPi>;
  /** Networks of the set with no route off the Pi. */
  internalNetworks: string[];
  /** Secret environment by service: the release's `environment` file, the compose file's variables. */
  env: ServiceEnv;
  /** Names the release: a hash of its compose file and environment (releaseOf). */
  release: string;
  /** Registry the Pi logs in to before it pulls; "" for none. */
  registry: string;
  registryUser: string;
  registryPassword: string;
}

/** The compose file of a spec: the same bytes in the program and in the provider. */
export const composeOf = (spec: Pick<RolloutSpec, "services" | "internalNetworks">): string =>
  renderCompose({
    services: Object.entries(spec.services).map(([name, s]) => ({ name, ...s })),
    internalNetworks: spec.internalNetworks,
  });

/**
 * A rollout as state holds it: provider version 2 kept the compose file as text and may lack
 * env and keepReleases; fromState reads every version, so nothing else knows old shapes.
 */
export type StoredRollout = Omit<
  RolloutSpec,
  | "services"
  | "internalNetworks"
  | "env"
  | "keepReleases"
  | "registry"
  | "registryUser"
  | "registryPassword"
> &
  Partial<RolloutSpec> & { compose?: string; providerVersion?: string };

/** A stored rollout as the remote side takes it: the spec and its compose file. */
export function fromState(s: StoredRollout): { spec: RolloutSpec; compose: string } {
  const spec: RolloutSpec = {
    ...s,
    services: s.services ?? {},
    internalNetworks: s.internalNetworks ?? [],
    env: s.env ?? {},
    keepReleases: s.keepReleases ?? 5, // what provider version 1 kept
    registry: s.registry ?? "",
    registryUser: s.registryUser ?? "",
    registryPassword: s.registryPassword ?? "",
  };
  return { spec, compose: s.services ? composeOf(spec) : (s.compose ?? "") };
}
