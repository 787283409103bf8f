import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { shellJoin } from "./ssh/commands";
import { bashC, rolloutScript, teardownScript } from "./ssh/rollout";

// The provider's code is serialized into state and run by another process: it reaches the SSH
// code through an absolute module path, never through a relative import or a captured closure.
const REMOTE_MODULE: string = require.resolve("./pi-remote");

/** Bump when the provider's behaviour changes: state keeps the code of the last update. */
const PROVIDER_VERSION = "1";

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
  /** Compose project name. @default "lucid" */
  readonly project?: string;
  /** Releases directory on the Pi. @default "/home/<user>/lucid" */
  readonly remoteDir?: pulumi.Input<string>;
  /** Seconds the set may take to become healthy before the rollout is rolled back. @default 300 */
  readonly healthTimeout?: number;
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
  release: string;
  healthTimeout: number;
  /** The rollout program (bash -c ...), built in the program from components/ssh/rollout. */
  rollout: string;
  /** The teardown program, run on delete. */
  teardown: string;
  providerVersion: string;
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

/** Runs the rollout program on the Pi, the compose file on its stdin; bounded past the health gate. */
async function rollOut(i: Inputs): Promise<void> {
  const { runOnPi } = (await import(REMOTE_MODULE)) as typeof import("./pi-remote");
  await runOnPi(i, i.rollout, { stdin: i.compose, timeoutMs: (i.healthTimeout + 600) * 1000 });
}

/** The provider behind PiRollout; exported so check/diff are tested directly (mocks never run them). */
export const piRolloutProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Inputs, news: Inputs) {
    const failures = (["host", "user", "hostKey", "privateKey", "compose", "remoteDir"] as const)
      .filter((p) => typeof news[p] !== "string" || news[p] === "")
      .map((property) => ({ property, reason: `${property} is required` }));
    return { inputs: news, failures };
  },

  async diff(_id: string, olds: Inputs, news: Inputs) {
    const changed = MEANINGFUL.filter((k) => olds[k] !== news[k]);
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs: Inputs) {
    await rollOut(inputs);
    return { id: `${inputs.user}@${inputs.host}:${inputs.remoteDir}`, outs: inputs };
  },

  async update(_id: string, _olds: Inputs, news: Inputs) {
    await rollOut(news);
    return { outs: news };
  },

  // The key is in the outputs so delete can connect; the resource marks it a secret output.
  async delete(_id: string, olds: Inputs) {
    const { runOnPi } = (await import(REMOTE_MODULE)) as typeof import("./pi-remote");
    await runOnPi(olds, olds.teardown, { timeoutMs: 300_000 });
  },
};

/** The release name: the compose file's own hash, so the same set is the same release. */
export const releaseOf = (compose: string): string =>
  createHash("sha256").update(compose).digest("hex").slice(0, 16);

/**
 * The Lucid set on the Pi over SSH (host key pinned): a release directory per compose file, a
 * lock, pull, up, a bounded health gate, rollback to the previous release on failure with the
 * failing service's name and logs; volumes never removed.
 */
export class PiRollout extends pulumi.dynamic.Resource {
  /** The release running on the Pi: the compose file's hash. */
  declare public readonly release: pulumi.Output<string>;

  constructor(name: string, args: PiRolloutArgs, opts?: pulumi.CustomResourceOptions) {
    const c = args.connection;
    const project = args.project ?? "lucid";
    const remoteDir = args.remoteDir ?? pulumi.interpolate`/home/${c.user}/lucid`;
    const healthTimeout = args.healthTimeout ?? 300;
    const release = pulumi.output(args.compose).apply(releaseOf);
    const inputs = {
      host: c.host,
      port: c.port,
      user: c.user,
      hostKey: c.hostKey,
      privateKey: pulumi.secret(c.privateKey),
      project,
      remoteDir,
      compose: args.compose,
      release,
      healthTimeout,
      rollout: pulumi
        .all([remoteDir, release])
        .apply(([dir, rel]) =>
          shellJoin(
            bashC(rolloutScript({ remoteDir: dir, project, release: rel, healthTimeout, keep: 5 })),
          ),
        ),
      teardown: pulumi
        .output(remoteDir)
        .apply((dir) => shellJoin(bashC(teardownScript({ remoteDir: dir, project })))),
      providerVersion: PROVIDER_VERSION,
    };
    super(
      piRolloutProvider,
      name,
      inputs,
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["privateKey"] }),
      "lucid",
      "PiRollout",
    );
  }
}
