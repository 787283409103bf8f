import * as pulumi from "@pulumi/pulumi";

interface Inputs {
  /** Changing it makes a new token (the old one stops working at the next rollout). */
  rotation: number;
}
interface Outputs extends Inputs {
  token: string;
}

/**
 * The provider behind ApiToken; exported so diff and create are tested directly. Self-contained
 * (it needs only node's crypto): a dynamic provider's code is serialized into state.
 */
export const apiTokenProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: Outputs, news: Inputs) {
    const rotated = olds.rotation !== news.rotation;
    return { changes: rotated, replaces: rotated ? ["rotation"] : [], deleteBeforeReplace: false };
  },

  async create(inputs: Inputs) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- serialized with the provider
    const { randomBytes } = require("crypto") as typeof import("crypto");
    // 256 bits, base64url: header-safe, no padding
    const token = randomBytes(32).toString("base64url");
    return { id: randomBytes(8).toString("hex"), outs: { rotation: inputs.rotation, token } };
  },
};

/**
 * The API's bearer token, made by the stack when lucid:apiToken gives none: random, kept in
 * state only as a secret, new when lucid:apiTokenRotation changes.
 */
export class ApiToken extends pulumi.dynamic.Resource {
  declare public readonly token: pulumi.Output<string>;

  constructor(name: string, args: { rotation: number }, opts?: pulumi.CustomResourceOptions) {
    super(
      apiTokenProvider,
      name,
      { rotation: args.rotation, token: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      "lucid",
      "ApiToken",
    );
  }
}
