import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import type { ServiceEnv } from "./compose";
import type { DriftItem } from "./drift";
import { DEFAULT_KEEP_RELEASES } from "./ssh/rollout";

// The provider's code is serialized into state and run by another process: it reaches the SSH
// code through an absolute module path, never through a relative import or a captured closure.
const REMOTE_MODULE: string = require.resolve("./pi-remote");

/** Bump when the provider's behaviour changes: state keeps the code of the last update. */
const PROVIDER_VERSION = "2";

export interface PiConnection {
  /** Address of the Pi. */
  readonly host: pulumi.Input<string>;
  /** SSH port. @default 22 */
  readonly port: pulumi.Input<number>;
  /** Deploy user. */
  readonly user: pulumi.Input<string>;
  /** The pinned public host key (`ssh-ed25519 AAAA...`); a different key is refused. */
  readonly hostKey: pulumi.Input<string>;
  /** The deploy user's private key; keep it a Pulumi secret. */
  readonly privateKey: pulumi.Input<string>;
}

export interface PiRolloutArgs {
  /** How to reach the Pi. */
  readonly connection: PiConnection;
  /** The compose file to run (components/compose.ts renders it). */
  readonly compose: pulumi.Input<string>;
  /**
   * Secret environment by service, written as `<service>.env` (mode 600) beside the compose
   * file; every service named in the compose file gets one, empty if it has no entry here.
   */
  readonly env?: pulumi.Input<ServiceEnv>;
  /** Compose project name. @default "lucid" */
  readonly project?: string;
  /** Releases directory on the Pi. @default "/home/<user>/lucid" */
  readonly remoteDir?: pulumi.Input<string>;
  /** Seconds the set may take to become healthy before the rollout is rolled back. @default 300 */
  readonly healthTimeout?: number;
  /** Releases kept on the Pi; older ones go, and the images only they used. @default 5 */
  readonly keepReleases?: number;
  /** The Pi logs in to the registry it pulls from (the password goes on stdin, kept secret). */
  readonly registryAuth?: {
    address: pulumi.Input<string>;
    username: pulumi.Input<string>;
    password: pulumi.Input<string>;
  };
}

interface Inputs {
  host: string;
  port: number;
  user: string;
  hostKey: string;
  privateKey: string;
  project: string;
  remoteDir: string;
  compose: string;
  env: ServiceEnv;
  release: string;
  healthTimeout: number;
  /** Absent in state written before it existed (5 then). */
  keepReleases?: number;
  /** Registry login on the Pi: empty strings when the registry wants none. */
  registry: string;
  registryUser: string;
  registryPassword: string;
  providerVersion: string;
}

/** The outputs: the inputs, and what the last read of the Pi found different (refresh sets it). */
interface Outputs extends Inputs {
  drift: DriftItem[];
}

/** Inputs whose change means a new rollout (the key is a credential: it may rotate). */
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

const remote = async () => (await import(REMOTE_MODULE)) as typeof import("./pi-remote");

/** The provider behind PiRollout; exported so check/diff are tested directly (mocks never run them). */
export const piRolloutProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Inputs, news: Inputs) {
    const failures = (["host", "user", "hostKey", "privateKey", "compose", "remoteDir"] as const)
      .filter((p) => typeof news[p] !== "string" || news[p] === "")
      .map((property) => ({ property, reason: `${property} is required` }));
    return { inputs: news, failures };
  },

  // Drift found by the last refresh is a change too: the next up heals it.
  async diff(_id: string, olds: Outputs, news: Inputs) {
    const changed = MEANINGFUL.filter((k) => olds[k] !== news[k]);
    const drifted = (olds.drift ?? []).length > 0;
    return { changes: changed.length > 0 || drifted, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs: Inputs) {
    await (await remote()).rollOut(inputs);
    return { id: `${inputs.user}@${inputs.host}:${inputs.remoteDir}`, outs: settled(inputs) };
  },

  async update(_id: string, olds: Outputs, news: Inputs) {
    const recreate = (olds.drift ?? []).filter((d) => d.recreate).map((d) => d.subject);
    await (await remote()).rollOut(news, recreate);
    return { outs: settled(news) };
  },

  // refresh: the Pi read back. An unreachable Pi throws (the refresh fails); it never reads as gone.
  async read(id: string, props: Outputs) {
    const drift = await (await remote()).observeDrift(props);
    return { id, props: { ...props, drift } };
  },

  // The key is in the outputs so delete can connect; the resource marks it a secret output.
  // (So is the registry password: a rollout after a refresh logs in with it.)
  async delete(_id: string, olds: Outputs) {
    await (await remote()).tearDown(olds);
  },
};

/** Outputs right after a rollout: the Pi runs exactly the release. */
const settled = (inputs: Inputs): Outputs => ({ ...inputs, drift: [] });

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
 * failing service's name and logs; volumes never removed.
 */
export class PiRollout extends pulumi.dynamic.Resource {
  /** The release running on the Pi: the compose file's hash. */
  declare public readonly release: pulumi.Output<string>;
  /** What the last refresh found on the Pi that differs from the release; empty after a rollout. */
  declare public readonly drift: pulumi.Output<DriftItem[]>;

  constructor(name: string, args: PiRolloutArgs, opts?: pulumi.CustomResourceOptions) {
    const c = args.connection;
    const project = args.project ?? "lucid";
    const remoteDir = args.remoteDir ?? pulumi.interpolate`/home/${c.user}/lucid`;
    const healthTimeout = args.healthTimeout ?? 300;
    const env = pulumi.secret(args.env ?? {});
    // A hash of the environment is no secret (the release names a directory on the Pi).
    const release = pulumi.unsecret(
      pulumi.all([args.compose, env]).apply(([compose, e]) => releaseOf(compose, e)),
    );
    const inputs = {
      host: c.host,
      port: c.port,
      user: c.user,
      hostKey: c.hostKey,
      privateKey: pulumi.secret(c.privateKey),
      project,
      remoteDir,
      compose: args.compose,
      env,
      release,
      healthTimeout,
      keepReleases: args.keepReleases ?? DEFAULT_KEEP_RELEASES,
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
