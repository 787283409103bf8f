import * as pulumi from "@pulumi/pulumi";
import { checkoutCode } from "./checkout-code";
import type { RegistryAuth } from "./distroless-image";
import { digestOf } from "./image-ref";
import type { RegistryLogin, SbomRecord, SignedState } from "./signing-remote";

/** Bump when what a signature holds changes: every image is then signed again. */
const PROVIDER_VERSION = "1";
/**
 * Bump when ImageSignature's provider code changes and nothing signed does: state keeps the code
 * of the last update, so the next `up` stores the new code (an update that signs nothing). "2":
 * the refresh that asks the registry (read).
 */
const CODE_VERSION = "2";
/** The key's provider's version (state keeps the code of the last update). */
const KEY_PROVIDER_VERSION = "1";

/** The signing work: the running checkout's components/signing-remote (see checkoutCode). */
const remote = () => checkoutCode<typeof import("./signing-remote")>("signing-remote");

interface KeyInputs {
  /** lucid:signingKey and its password when given; empty: the stack makes a key. */
  privateKey: string;
  password: string;
  providerVersion: string;
}
interface KeyOutputs extends KeyInputs {
  publicKey: string;
  /** Whether the key was given (lucid:signingKey) rather than made by the stack. */
  given: boolean;
}

/** The provider behind SigningKey; exported so diff is tested directly. */
export const signingKeyProvider: pulumi.dynamic.ResourceProvider = {
  // Another key: a given one or its password that changes (read again, which proves the password),
  // one given where the stack made its own, or none given where one was (the stack then makes its
  // own). The stack's own key stays while none is given.
  async diff(_id: string, olds: KeyOutputs, news: KeyInputs) {
    const changed =
      news.privateKey !== ""
        ? news.privateKey !== olds.privateKey || news.password !== olds.password
        : olds.given === true;
    return {
      changes: changed,
      replaces: changed ? ["privateKey"] : [],
      deleteBeforeReplace: false,
    };
  },

  async create(inputs: KeyInputs) {
    const r = await remote();
    const given = inputs.privateKey !== "";
    const pair = given
      ? { ...inputs, publicKey: await r.publicKeyOf(inputs.privateKey, inputs.password) }
      : await r.generateKeyPair();
    const { createHash } = await import("crypto");
    const id = createHash("sha256").update(pair.publicKey).digest("hex").slice(0, 16);
    return { id, outs: { ...pair, providerVersion: inputs.providerVersion, given } };
  },
};

/**
 * The key images are signed with: lucid:signingKey (a cosign key, with lucid:signingKeyPassword)
 * when given; else one the stack makes with cosign and keeps in state as a secret. Its public key
 * is what `cosign verify --key` takes.
 */
export class SigningKey extends pulumi.dynamic.Resource {
  declare public readonly privateKey: pulumi.Output<string>;
  declare public readonly password: pulumi.Output<string>;
  declare public readonly publicKey: pulumi.Output<string>;

  constructor(
    name: string,
    args: { privateKey?: pulumi.Input<string>; password?: pulumi.Input<string> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      signingKeyProvider,
      name,
      {
        privateKey: pulumi.secret(args.privateKey ?? ""),
        password: pulumi.secret(args.password ?? ""),
        providerVersion: KEY_PROVIDER_VERSION,
        publicKey: undefined,
        given: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["privateKey", "password"] }),
      "lucid",
      "SigningKey",
    );
  }
}

interface SignatureInputs {
  repository: string;
  index: string;
  platforms: Record<string, string>;
  privateKey: string;
  password: string;
  publicKey: string;
  registryAddress: string;
  registryUser: string;
  registryPassword: string;
  providerVersion: string;
  /** CODE_VERSION; absent in the state of code before it. */
  codeVersion?: string;
}
export interface SignatureOutputs extends SignatureInputs {
  sboms: Record<string, SbomRecord>;
}

/** Inputs whose change means signing again (the credentials are not: they only reach it). */
const SIGNED: readonly (keyof SignatureInputs)[] = [
  "repository",
  "index",
  "platforms",
  "publicKey",
  "providerVersion",
];

const loginOf = (i: SignatureInputs): RegistryLogin | undefined =>
  i.registryUser
    ? { address: i.registryAddress, username: i.registryUser, password: i.registryPassword }
    : undefined;

/** Whether NEWS asks for a signature OLDS did not make (new digests, key, place or code). */
const resigns = (olds: SignatureInputs, news: SignatureInputs) =>
  SIGNED.some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));

/** What a previous run signed that this one need not sign again: same key, place and code. */
export function stillSigned(olds: SignatureOutputs, news: SignatureInputs) {
  const same = (["repository", "publicKey", "providerVersion"] as const).every(
    (k) => olds[k] === news[k],
  );
  return same ? (olds.sboms ?? {}) : {};
}

/**
 * The state as the registry has it (refresh): a signature that is gone leaves what it signed out,
 * the index's digest emptied or the platform (and its SBOM record) dropped, so the next `up` sees
 * that image as not signed and signs it again, and it alone.
 */
export function asFound(props: SignatureOutputs, found: SignedState): SignatureOutputs {
  const kept = (p: string) => found.platforms.includes(p);
  const only = <T>(byPlatform: Record<string, T> = {}) =>
    Object.fromEntries(Object.entries(byPlatform).filter(([p]) => kept(p)));
  return {
    ...props,
    index: found.index ? props.index : "",
    platforms: only(props.platforms),
    sboms: only(props.sboms),
  };
}

/** The provider behind ImageSignature; exported so diff and read are tested directly. */
export const imageSignatureProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: SignatureOutputs, news: SignatureInputs) {
    // new credentials, or new code to store: an update that signs nothing
    const rotated = (
      ["privateKey", "password", "registryUser", "registryPassword", "codeVersion"] as const
    ).some((k) => olds[k] !== news[k]);
    return { changes: resigns(olds, news) || rotated, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs: SignatureInputs) {
    const sboms = await (await remote()).signImage({ ...inputs, registryAuth: loginOf(inputs) });
    return { id: `${inputs.repository}@${inputs.index}`, outs: { ...inputs, sboms } };
  },

  async update(_id: string, olds: SignatureOutputs, news: SignatureInputs) {
    // credentials or code only
    if (!resigns(olds, news)) return { outs: { ...news, sboms: olds.sboms } };
    const sboms = await (
      await remote()
    ).signImage({ ...news, registryAuth: loginOf(news) }, stillSigned(olds, news));
    return { outs: { ...news, sboms } };
  },
  // refresh: is each signature still in the registry? (verified with the public key alone)
  async read(id: string, props: SignatureOutputs) {
    const found = await (
      await remote()
    ).signedInRegistry({ ...props, registryAuth: loginOf(props) });
    return { id, props: asFound(props, found) };
  },
  // delete: signatures stay in the registry beside the images they sign (those are kept too).
};

export interface ImageSignatureArgs {
  /** Registry host and repository of the image. */
  readonly repository: pulumi.Input<string>;
  /** The index, by digest (`<repository>[:tag]@sha256:...`). */
  readonly ref: pulumi.Input<string>;
  /** Each platform's image digest. */
  readonly digests: pulumi.Input<Record<string, string>>;
  readonly key: SigningKey;
  /** Login for the registry; the password a secret. */
  readonly registryAuth?: RegistryAuth;
}

/**
 * An image signed in its registry: the index and every platform's image by cosign, each
 * platform's SBOM (SPDX, by Syft) attached as a signed attestation. Made again only for a digest
 * it has not signed, so a no-op `up` signs nothing.
 */
export class ImageSignature extends pulumi.dynamic.Resource {
  /** Per platform: the SBOM attached (its image's digest, packages, size and hash). */
  declare public readonly sboms: pulumi.Output<Record<string, SbomRecord>>;

  constructor(name: string, args: ImageSignatureArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      imageSignatureProvider,
      name,
      {
        repository: args.repository,
        index: pulumi.output(args.ref).apply(digestOf),
        platforms: args.digests,
        privateKey: args.key.privateKey,
        password: args.key.password,
        publicKey: args.key.publicKey,
        registryAddress: args.registryAuth?.address ?? "",
        registryUser: args.registryAuth?.username ?? "",
        registryPassword: pulumi.secret(args.registryAuth?.password ?? ""),
        providerVersion: PROVIDER_VERSION,
        codeVersion: CODE_VERSION,
        sboms: undefined,
      },
      pulumi.mergeOptions(opts, {
        additionalSecretOutputs: ["privateKey", "password", "registryPassword"],
      }),
      "lucid",
      "ImageSignature",
    );
  }
}
