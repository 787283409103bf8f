import * as pulumi from "@pulumi/pulumi";
import type { SshTarget } from "./ssh/executor";

// The provider's code is serialized into state and run by another process: it reaches the SSH
// code through an absolute module path, never through a relative import or a captured closure.
const RUN_MODULE: string = require.resolve("./pi-command-run");

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

export interface PiCommandArgs {
  /** How to reach the Pi. */
  readonly connection: PiConnection;
  /** The command line the Pi's login shell runs (build it with components/ssh/commands). */
  readonly command: pulumi.Input<string>;
}

interface ProviderInputs {
  host: string;
  port: number;
  user: string;
  hostKey: string;
  privateKey: string;
  command: string;
  providerVersion: string;
}

/** Inputs whose change means the command must run again (the key is a credential: it may rotate). */
const MEANINGFUL: readonly (keyof ProviderInputs)[] = [
  "host",
  "port",
  "user",
  "hostKey",
  "command",
  "providerVersion",
];

/** The provider behind PiCommand; exported so check/diff are tested directly (mocks never run them). */
export const piCommandProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: ProviderInputs, news: ProviderInputs) {
    const failures = (["host", "user", "hostKey", "privateKey", "command"] as const)
      .filter((p) => typeof news[p] !== "string" || news[p] === "")
      .map((property) => ({ property, reason: `${property} is required` }));
    return { inputs: news, failures };
  },

  async diff(_id: string, olds: ProviderInputs, news: ProviderInputs) {
    const changed = MEANINGFUL.filter((k) => olds[k] !== news[k]);
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs: ProviderInputs) {
    const { runOnPi } = (await import(RUN_MODULE)) as typeof import("./pi-command-run");
    const stdout = await runOnPi(inputs, inputs.command);
    return {
      id: `${inputs.user}@${inputs.host}:${inputs.port}`,
      outs: { ...publicOuts(inputs), stdout },
    };
  },

  async update(_id: string, _olds: ProviderInputs, news: ProviderInputs) {
    const { runOnPi } = (await import(RUN_MODULE)) as typeof import("./pi-command-run");
    const stdout = await runOnPi(news, news.command);
    return { outs: { ...publicOuts(news), stdout } };
  },
};

/** What state keeps of the inputs: never the private key. */
function publicOuts(i: ProviderInputs) {
  return {
    host: i.host,
    port: i.port,
    user: i.user,
    hostKey: i.hostKey,
    command: i.command,
    providerVersion: i.providerVersion,
  };
}

/** Runs a command on the Pi over SSH (host key pinned) when its inputs change; exposes stdout. */
export class PiCommand extends pulumi.dynamic.Resource {
  /** What the command printed on its last run. */
  declare public readonly stdout: pulumi.Output<string>;

  constructor(name: string, args: PiCommandArgs, opts?: pulumi.CustomResourceOptions) {
    const c = args.connection;
    const inputs = {
      host: c.host,
      port: c.port,
      user: c.user,
      hostKey: c.hostKey,
      privateKey: pulumi.secret(c.privateKey),
      command: args.command,
      providerVersion: PROVIDER_VERSION,
      stdout: undefined,
    };
    super(
      piCommandProvider,
      name,
      inputs,
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["privateKey"] }),
      "lucid",
      "PiCommand",
    );
  }
}

export type { SshTarget };
