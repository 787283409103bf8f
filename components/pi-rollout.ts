import * as pulumi from "@pulumi/pulumi";
import { createHash, createHmac } from "crypto";
import type { ServiceEnv } from "./compose";
import type { DriftItem } from "./drift";
import {
  composeOf,
  type RolloutSettings,
  type RolloutSpec,
  type ServiceOnPi,
  type StoredRollout,
} from "./rollout-spec";
import type { SshTarget } from "./ssh/executor";
import { checkoutCode } from "./checkout-code";

/** Bump when the provider's behaviour changes: state keeps the code of the last update. */
const PROVIDER_VERSION = "5";

/** A service of the set, each field as it is known (an image may still be building). */
export type ServiceInput = { readonly [K in keyof ServiceOnPi]: pulumi.Input<ServiceOnPi[K]> };

/** How to reach the Pi: the SSH target, each value possibly still to be computed. */
export type PiConnection = { readonly [K in keyof SshTarget]: pulumi.Input<SshTarget[K]> };

export interface PiRolloutArgs {
  /** How to reach the Pi; keep the private key a Pulumi secret. */
  readonly connection: PiConnection;
  /**
   * The set to run, by service (its compose file is rendered from them). Give each field as it
   * is known: a preview shows an image still to be built as that one field unknown.
   */
  readonly services: Record<string, ServiceInput>;
  /** Networks of the set with no route off the Pi. */
  readonly internalNetworks: string[];
  /**
   * Secret environment by service, written to the release's `environment` file (mode 600) and
   * handed to compose as variables its file names (each service's `environment` lists the names).
   * Each service's stays a secret of its own, so a preview names the service whose environment
   * changes.
   */
  readonly env: Record<string, pulumi.Input<Record<string, string>>>;
  /** Where and how the release is placed and gated (defaults: the stack config schema). */
  readonly settings: pulumi.Input<RolloutSettings>;
  /** The Pi logs in to the registry it pulls from (the password goes on stdin, kept secret). */
  readonly registryAuth?: {
    address: pulumi.Input<string>;
    username: pulumi.Input<string>;
    password: pulumi.Input<string>;
  };
}

/**
 * The provider's inputs: the spec, the version of the code that acts on it, and what a preview
 * shows of each service's secret environment (envVersionsOf).
 */
type Inputs = RolloutSpec & { providerVersion: string; envVersions: Record<string, string> };

/** The outputs: the inputs, and what the last read of the Pi found different (refresh sets it). */
interface Outputs extends Inputs {
  drift: DriftItem[];
}

/**
 * Inputs whose change means a new rollout. The credentials are not among them: a rotated one is
 * still a change (state must hold the new one, for refresh and destroy, once the old one is
 * revoked), made by reading the Pi back with it, not by a rollout.
 */
const MEANINGFUL: readonly (keyof Inputs)[] = [
  "host",
  "port",
  "user",
  "hostKey",
  "project",
  "remoteDir",
  "release",
  "providerVersion",
];

/** The SSH code: the running checkout's components/pi-remote (see checkoutCode). */
const remote = () => checkoutCode<typeof import("./pi-remote")>("pi-remote");

/** The provider behind PiRollout; exported so check/diff are tested directly (mocks never run them). */
export const piRolloutProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds: Partial<Inputs>, news: Inputs) {
    const failures: pulumi.dynamic.CheckFailure[] = (
      ["host", "user", "hostKey", "privateKey", "remoteDir", "release"] as const
    )
      .filter((p) => typeof news[p] !== "string" || news[p] === "")
      .map((property) => ({ property, reason: `${property} is required` }));
    if (!news.services || Object.keys(news.services).length === 0)
      failures.push({ property: "services", reason: "services is required" });
    failures.push(...placeChanges(olds, news));
    return { inputs: news, failures };
  },

  // Drift found by the last refresh is a change too: the next up heals it.
  async diff(_id: string, olds: Outputs, news: Inputs) {
    const changed = MEANINGFUL.filter((k) => olds[k] !== news[k]);
    const drifted = (olds.drift ?? []).length > 0;
    const rotated = CREDENTIALS.some((k) => olds[k] !== news[k]);
    return {
      changes: changed.length > 0 || drifted || rotated,
      replaces: [],
      deleteBeforeReplace: false,
    };
  },

  async create(inputs: Inputs) {
    await (await remote()).rollOut(inputs);
    return { id: `${inputs.user}@${inputs.host}:${inputs.remoteDir}`, outs: settled(inputs) };
  },

  async update(_id: string, olds: Outputs, news: Inputs) {
    if (onlyCredentialsChanged(olds, news)) {
      // Rotated: the Pi read back with the new credentials proves them before state forgets the
      // old ones; what it finds is recorded as a refresh would.
      const drift = await (await remote()).observeDrift(news);
      return { outs: { ...news, drift } };
    }
    const recreate = (olds.drift ?? []).filter((d) => d.recreate).map((d) => d.subject);
    await (await remote()).rollOut(news, recreate);
    return { outs: settled(news) };
  },

  // refresh: the Pi read back. An unreachable Pi throws (the refresh fails); it never reads as gone.
  async read(id: string, props: StoredRollout) {
    const drift = await (await remote()).observeDrift(props);
    return { id, props: { ...props, drift } };
  },

  // The key is in the outputs so delete can connect; the resource marks it a secret output.
  // (So is the registry password: a rollout after a refresh logs in with it.)
  async delete(_id: string, olds: StoredRollout) {
    await (await remote()).tearDown(olds);
  },
};

/**
 * A set already on a Pi is not moved by an update: under another project its containers and
 * volumes would be left running beside a new set without them, and in another releases directory
 * a failed first release there would take the whole project down. Refused, with what to do. A new
 * address of the same Pi (its host key unchanged) is no move; nor is a new host key at the same
 * address (the Pi re-imaged).
 */
export function placeChanges(olds: Partial<Inputs>, news: Inputs): pulumi.dynamic.CheckFailure[] {
  if (!olds.host || !olds.hostKey) return []; // nothing placed yet
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const undo = "or set it back";
  const moveBy =
    "`pulumi destroy` this stack first (it takes the set down, keeping every volume), then `up`";
  if (olds.host !== news.host && olds.hostKey !== news.hostKey)
    return [
      {
        property: "host",
        reason: `lucid:pi.host and lucid:pi.hostKey both change (${olds.host} -> ${news.host}): that is another Pi, and the set on ${olds.host} would keep running, forgotten. To move it: ${moveBy}; ${undo}`,
      },
    ];
  if (olds.project !== undefined && olds.project !== news.project)
    failures.push({
      property: "project",
      reason: `lucid:pi.project changes (${olds.project} -> ${news.project}) on the same Pi: project ${olds.project}'s containers would keep running and its volumes (Tor's and the onion keys, the API key, the toolbox's data) would not follow. To move it: ${moveBy} (the new project starts with new volumes); ${undo}`,
    });
  if (olds.remoteDir !== undefined && olds.remoteDir !== news.remoteDir)
    failures.push({
      property: "remoteDir",
      reason: `lucid:pi.dir changes (${olds.remoteDir} -> ${news.remoteDir}) on the same Pi: its releases and \`current\` stay in the old directory, and a failed first release in the new one would take project ${news.project} down. Keep it: set lucid:pi.dir to ${olds.remoteDir}. To move it: ${moveBy}`,
    });
  return failures;
}

/** Credentials: a change is written to state (after a read of the Pi with them), never rolled out. */
const CREDENTIALS = ["privateKey", "registryUser", "registryPassword"] as const;

/** Nothing but credentials changed (and no drift waits to be healed): no rollout is needed. */
export function onlyCredentialsChanged(olds: Outputs, news: Inputs): boolean {
  return MEANINGFUL.every((k) => olds[k] === news[k]) && (olds.drift ?? []).length === 0;
}

/** Outputs right after a rollout: the Pi runs exactly the release. */
const settled = (inputs: Inputs): Outputs => ({ ...inputs, drift: [] });

/**
 * What a preview may show of each service's secret environment, so it names the service whose
 * environment changes: its variable names and a hash of their values keyed with the deploy key
 * (state is no oracle for guessing a value). Services without any are left out.
 */
export function envVersionsOf(env: ServiceEnv, key: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .map(
        ([svc, vars]) =>
          [svc, Object.entries(vars).sort(([a], [b]) => a.localeCompare(b))] as const,
      )
      .filter(([, entries]) => entries.length > 0)
      .map(([svc, entries]) => {
        const mac = createHmac("sha256", key).update(JSON.stringify(entries)).digest("hex");
        return [svc, `${entries.map(([k]) => k).join(",")} #${mac.slice(0, 12)}`];
      }),
  );
}

/**
 * The release name: the hash of its compose file, and of its environment when it has one, so
 * the same set is the same release and a changed secret is a new one.
 */
export function releaseOf(compose: string, env: ServiceEnv = {}) {
  const hash = createHash("sha256").update(compose);
  const vars = Object.entries(env)
    .filter(([, v]) => Object.keys(v).length > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([svc, v]) => [svc, Object.entries(v).sort(([a], [b]) => a.localeCompare(b))]);
  if (vars.length > 0) hash.update("\0").update(JSON.stringify(vars));
  return hash.digest("hex").slice(0, 16);
}

/**
 * The Lucid set on the Pi over SSH (host key pinned): a release directory per compose file, a
 * lock, pull, up, a bounded health gate, rollback to the previous release on failure with the
 * failing service's name and logs; volumes never removed. Its inputs are the set by service, so
 * a preview shows which service's image, settings or environment changes.
 */
export class PiRollout extends pulumi.dynamic.Resource {
  /** The release running on the Pi: the compose file's hash. */
  declare public readonly release: pulumi.Output<string>;
  /** What the last refresh found on the Pi that differs from the release; empty after a rollout. */
  declare public readonly drift: pulumi.Output<DriftItem[]>;

  constructor(name: string, args: PiRolloutArgs, opts?: pulumi.CustomResourceOptions) {
    const c = args.connection;
    const services = pulumi.output(args.services);
    const env = Object.fromEntries(
      Object.entries(args.env).map(([svc, vars]) => [svc, pulumi.secret(vars)]),
    );
    // A hash of the environment is no secret (the release names a directory on the Pi).
    const release = pulumi.unsecret(
      pulumi
        .all([services, pulumi.all(env)])
        .apply(([sv, e]) =>
          releaseOf(composeOf({ services: sv, internalNetworks: args.internalNetworks }), e),
        ),
    );
    const settings = pulumi.output(args.settings);
    const inputs: Record<keyof Inputs | "drift", unknown> = {
      host: c.host,
      port: c.port,
      user: c.user,
      hostKey: c.hostKey,
      privateKey: pulumi.secret(c.privateKey),
      project: settings.project,
      remoteDir: settings.remoteDir,
      healthTimeout: settings.healthTimeout,
      keepReleases: settings.keepReleases,
      services: args.services,
      internalNetworks: args.internalNetworks,
      env,
      envVersions: pulumi.unsecret(
        pulumi
          .all([pulumi.output(c.privateKey), pulumi.all(env)])
          .apply(([key, e]) => envVersionsOf(e, key)),
      ),
      release,
      registry: args.registryAuth?.address ?? "",
      registryUser: args.registryAuth?.username ?? "",
      registryPassword: pulumi.secret(args.registryAuth?.password ?? ""),
      providerVersion: PROVIDER_VERSION,
      drift: undefined,
    };
    super(
      piRolloutProvider,
      name,
      inputs,
      pulumi.mergeOptions(opts, {
        additionalSecretOutputs: ["privateKey", "registryPassword", "env"],
      }),
      "lucid",
      "PiRollout",
    );
  }
}
