// The work behind the signing resources (components/signing.ts), run by their dynamic provider:
// Syft makes each platform's SBOM, cosign attaches it as an attestation and signs the index and
// every platform. Key-based and offline: an empty signing config (no Fulcio, no transparency log,
// no timestamp authority) and an empty trusted root, so cosign asks nothing but the registry.
// Secrets reach the tools as environment only (COSIGN_PRIVATE_KEY, COSIGN_PASSWORD, and the
// registry login in a DOCKER_CONFIG of its own, mode 600), never on a command line.
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { commandResult } from "./command-result";

/** A registry login; the password a secret. */
export interface RegistryLogin {
  address: string;
  username: string;
  password: string;
}

/** One image to sign: its index and each platform's image, by digest, in one repository. */
export interface SignRequest {
  /** Registry host and repository, e.g. 10.250.0.1:5000/lucid. */
  repository: string;
  /** The index (manifest list) digest. */
  index: string;
  /** Each platform's image digest. */
  platforms: Record<string, string>;
  /** cosign's encrypted private key (`cosign generate-key-pair`) and its password: secrets. */
  privateKey: string;
  password: string;
  registryAuth?: RegistryLogin;
}

/** An image's SBOM as attached: what Syft found and the document's size and hash. */
export interface SbomRecord {
  /** The platform image it describes (the attestation's subject). */
  digest: string;
  /** SPDX packages, the image itself not counted. */
  packages: number;
  bytes: number;
  sha256: string;
}

/** A key pair as cosign makes it: the private key encrypted with the password. */
export interface KeyPair {
  privateKey: string;
  password: string;
  publicKey: string;
}

const SIGNING_CONFIG = { mediaType: "application/vnd.dev.sigstore.signingconfig.v0.2+json" };
const TRUSTED_ROOT = { mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1" };

/** Bound of one tool run: a scan reads every layer of an image from the registry. */
const TOOL_TIMEOUT_MS = 300_000;

/** The empty signing config and trusted root, written where cosign reads them (`offlineFlags`). */
export function writeOfflineFiles(dir: string): void {
  fs.writeFileSync(path.join(dir, "signing-config.json"), JSON.stringify(SIGNING_CONFIG));
  fs.writeFileSync(path.join(dir, "trusted-root.json"), JSON.stringify(TRUSTED_ROOT));
}

/** cosign's flags for that: nothing online, before or after signing. */
export const offlineFlags = (dir: string): string[] => [
  "--signing-config",
  path.join(dir, "signing-config.json"),
  "--trusted-root",
  path.join(dir, "trusted-root.json"),
];

/** The key a docker config files a registry's login under: Docker Hub's is its v1 URL. */
export const authKeyOf = (address: string): string =>
  ["docker.io", "index.docker.io", "registry-1.docker.io"].includes(address)
    ? "https://index.docker.io/v1/"
    : address;

/** A docker config holding only this login (cosign and Syft read DOCKER_CONFIG), mode 600. */
export function writeDockerConfig(dir: string, login: RegistryLogin): void {
  const auth = Buffer.from(`${login.username}:${login.password}`).toString("base64");
  const auths = { [authKeyOf(login.address)]: { auth } };
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ auths }), { mode: 0o600 });
}

/**
 * Runs TOOL with ARGS and extra ENV, bounded; resolves with its stdout. A failure names the tool
 * and the last lines it wrote (never the environment, which holds the secrets).
 */
export async function runTool(
  tool: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = TOOL_TIMEOUT_MS,
): Promise<string> {
  const r = await commandResult(tool, args, timeoutMs, { ...process.env, ...env });
  if (r.status === 0) return r.stdout;
  if (r.error && r.error.code !== "ETIMEDOUT")
    throw new Error(`${tool} could not be run (${r.error.message}): is it on PATH?`);
  const why = r.status === null ? `was stopped after ${timeoutMs / 1000} s` : `exited ${r.status}`;
  const tail = r.stderr.trim().split("\n").slice(-5).join("\n  ");
  throw new Error(`${tool} ${args[0]} ${args.at(-1)} ${why}:\n  ${tail}`);
}

/**
 * Readies DIR for cosign and Syft asking the registry: the offline files, and the login when the
 * stack has one of its own (without, the user's `docker login`). Returns the environment for it.
 */
function registryAccess(dir: string, login?: RegistryLogin): Record<string, string> {
  writeOfflineFiles(dir);
  if (!login) return {};
  writeDockerConfig(dir, login);
  return { DOCKER_CONFIG: dir };
}

/** A fresh private directory for one run's files, removed after FN whatever it does. */
async function inScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-signing-"));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** SPDX packages of a Syft document, the document's own subject (the image) not counted. */
export function spdxPackages(doc: string): number {
  const parsed = JSON.parse(doc) as { packages?: { SPDXID?: string }[] };
  return (parsed.packages ?? []).filter((p) => !p.SPDXID?.startsWith("SPDXRef-DocumentRoot"))
    .length;
}

/**
 * Signs REQUEST's index and the platforms whose digest is not in DONE (a previous run's records,
 * by platform, for the same key and repository), each with its SBOM attached first. Returns every
 * platform's record: DONE's where the image is unchanged, new ones for the rest.
 */
export function signImage(
  request: SignRequest,
  done: Record<string, SbomRecord> = {},
): Promise<Record<string, SbomRecord>> {
  return inScratch(async (dir) => {
    const env = {
      ...registryAccess(dir, request.registryAuth),
      COSIGN_PRIVATE_KEY: request.privateKey,
      COSIGN_PASSWORD: request.password,
      SYFT_CHECK_FOR_APP_UPDATE: "false",
    };
    const cosign = (verb: string, ...args: string[]) =>
      runTool(
        "cosign",
        [verb, "--yes", "--key", "env://COSIGN_PRIVATE_KEY", ...offlineFlags(dir), ...args],
        env,
      );
    const records: Record<string, SbomRecord> = {};
    for (const [platform, digest] of Object.entries(request.platforms)) {
      if (done[platform]?.digest === digest) {
        records[platform] = done[platform];
        continue;
      }
      const image = `${request.repository}@${digest}`;
      const file = path.join(dir, `sbom-${platform.replace("/", "-")}.spdx.json`);
      await runTool("syft", ["scan", `registry:${image}`, "-q", "-o", `spdx-json=${file}`], env);
      const doc = fs.readFileSync(file, "utf8");
      await cosign("attest", "--type", "spdxjson", "--predicate", file, image);
      await cosign("sign", image);
      records[platform] = {
        digest,
        packages: spdxPackages(doc),
        bytes: Buffer.byteLength(doc),
        sha256: createHash("sha256").update(doc).digest("hex"),
      };
    }
    await cosign("sign", `${request.repository}@${request.index}`);
    return records;
  });
}

/** One signed image to look for: its index and platforms, by digest, and the key's public half. */
export interface VerifyRequest {
  repository: string;
  index: string;
  platforms: Record<string, string>;
  publicKey: string;
  registryAuth?: RegistryLogin;
}

/** What the registry holds of a signed image: the index's signature, and the platforms whose
 * signature and SBOM attestation are both there. */
export interface SignedState {
  index: boolean;
  platforms: string[];
}

/** What cosign says of an image that this key did not sign (or attest): nothing found for it. */
export const UNSIGNED = new RegExp(
  [
    "no signatures found",
    "no matching signatures",
    "no matching attestations",
    "none of the attestations matched",
  ].join("|"),
  "i",
);

/**
 * Asks the registry, as a verifier would (`cosign verify`, `cosign verify-attestation --type
 * spdxjson`, with the public key only, offline), what of REQUEST is still signed. An image without
 * a signature by this key counts as unsigned; any other failure (registry down, bad login) throws,
 * so a refresh never mistakes an unreachable registry for lost signatures.
 */
export function signedInRegistry(request: VerifyRequest): Promise<SignedState> {
  return inScratch(async (dir) => {
    const env = registryAccess(dir, request.registryAuth);
    const key = path.join(dir, "key.pub");
    fs.writeFileSync(key, request.publicKey);
    const trustedRoot = path.join(dir, "trusted-root.json");
    const flags = ["--key", key, "--insecure-ignore-tlog=true", "--trusted-root", trustedRoot];
    const has = (verb: string, image: string, ...more: string[]) =>
      runTool("cosign", [verb, ...flags, ...more, image], env)
        .then(() => true)
        .catch((e: Error) => {
          if (UNSIGNED.test(e.message)) return false;
          throw e;
        });
    const at = (digest: string) => `${request.repository}@${digest}`;
    // One ask at a time: the engine refreshes every image at once already. An index of "" was
    // found lost by an earlier refresh: nothing to ask.
    const index = request.index !== "" && (await has("verify", at(request.index)));
    const platforms: string[] = [];
    for (const [platform, digest] of Object.entries(request.platforms ?? {})) {
      if (!(await has("verify", at(digest)))) continue;
      if (await has("verify-attestation", at(digest), "--type", "spdxjson"))
        platforms.push(platform);
    }
    return { index, platforms };
  });
}

/** A new key pair, by cosign itself (its encrypted key format), with a random password. */
export function generateKeyPair(): Promise<KeyPair> {
  return inScratch(async (dir) => {
    const password = randomBytes(32).toString("base64url");
    const prefix = path.join(dir, "lucid");
    await runTool("cosign", ["generate-key-pair", "--output-key-prefix", prefix], {
      COSIGN_PASSWORD: password,
    });
    return {
      privateKey: fs.readFileSync(`${prefix}.key`, "utf8"),
      password,
      publicKey: fs.readFileSync(`${prefix}.pub`, "utf8"),
    };
  });
}

/** The public key of a given private key (lucid:signingKey), as cosign reads it. */
export async function publicKeyOf(privateKey: string, password: string): Promise<string> {
  return runTool("cosign", ["public-key", "--key", "env://COSIGN_PRIVATE_KEY"], {
    COSIGN_PRIVATE_KEY: privateKey,
    COSIGN_PASSWORD: password,
  });
}
