import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** Pulumi mocks that record every resource; any call is unexpected. Returns the record. */
export function recordResources(opts: { preview?: boolean } = {}): Registered[] {
  const seen: Registered[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        seen.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, unknown> = { ...args.inputs };
        const digest = `sha256:${Buffer.from(args.name).toString("hex").padEnd(64, "0").slice(0, 64)}`;
        if (args.type === "docker-build:index:Image") {
          Object.assign(state, { digest, ref: `${(args.inputs.tags as string[])[0]}@${digest}` });
        }
        if (args.type === "pulumi-nodejs:dynamic/lucid:ApiToken") {
          state.token = `made-token-${String(args.inputs.rotation)}`;
        }
        if (args.type === "pulumi-nodejs:dynamic/lucid:SigningKey") {
          state.publicKey = "PUBLIC-KEY";
        }
        if (args.type === "pulumi-nodejs:dynamic/lucid:ImageSignature") {
          state.sboms = { signed: args.inputs.index };
        }
        if (args.type === "docker-build:index:Index") {
          Object.assign(state, { ref: `${args.inputs.tag}@${digest}` });
        }
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        throw new Error(`Mock not implemented: ${args.token}`);
      },
    },
    "lucid",
    "test",
    opts.preview ?? false,
  );
  return seen;
}

/** Resolves an Output in a test. */
export const valueOf = <T>(o: pulumi.Output<T>): Promise<T> =>
  new Promise((resolve) => o.apply((v) => resolve(v)));
