import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { z } from "zod";
import type { ServiceEnv } from "../components/compose";
import { basePinProblems } from "./base-pins";

// The SDK marks isConfigSecret @internal, yet it is how Config itself tells secret keys apart.
const { isConfigSecret } = runtimeConfig as unknown as { isConfigSecret(key: string): boolean };

/** The config namespace of this project: keys read `lucid:<key>` in Pulumi.<stack>.yaml. */
export const NAMESPACE = "lucid";

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "must be host or host:port, without a scheme");

const platform = z.enum(["linux/amd64", "linux/arm64"]);

const sshHostKey = z
  .string()
  .regex(
    /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/,
    "must be a public host key: '<type> <base64>' (as in ssh-keyscan output, without the host)",
  );

export const registrySchema = z
  .object({
    push: hostPort.describe("Where images are pushed from the build machine, e.g. docker.io"),
    pull: hostPort.describe("The same registry as the Pi reaches it; defaults to push").optional(),
    repository: z
      .string()
      .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "must be a lower-case repository path")
      .describe("Repository inside the registry; each service is a tag, e.g. pickme/lucid"),
    username: z
      .string()
      .min(1)
      .optional()
      .describe("Registry login for push and pull; its password is lucid:registryPassword"),
    buildCache: z
      .boolean()
      .default(false)
      .describe(
        "Also keep every build stage's layers in the registry (<repository>:cache-<image>-<arch>) " +
          "and build from them: for builders that lose their own cache; ~2 GB for the set",
      ),
  })
  .strict();

export const piSchema = z
  .object({
    host: z.string().min(1).describe("Address of the Pi"),
    port: z.number().int().min(1).max(65535).default(22).describe("SSH port of the Pi"),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*$/, "must be a login name")
      .describe("Deploy user"),
    hostKey: sshHostKey.describe("The Pi's pinned SSH host key; any other key is refused"),
    platform: platform.default("linux/arm64").describe("The Pi's own platform"),
    project: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, "must be a compose project name (lower case)")
      .default("lucid")
      .describe("Compose project on the Pi: prefix of its containers, networks and volumes"),
    gatewayAddress: z
      .string()
      .regex(
        /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/,
        "must be an IPv4 address of the Pi, e.g. its LAN address",
      )
      .optional()
      .describe("The Pi's address the gateway is published on; default every address"),
    gatewayPort: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(8080)
      .describe("Port the gateway is published on"),
    dir: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]+$/, "must be an absolute path")
      .optional()
      .describe("Releases directory on the Pi; default /home/<user>/<project>: a stack's own"),
    healthTimeout: z
      .number()
      .int()
      .min(10)
      .max(3600)
      .default(300)
      .describe("Seconds the set may take to become healthy before the rollout is rolled back"),
    keepReleases: z
      .number()
      .int()
      .min(2)
      .max(100)
      .default(5)
      .describe(
        "Releases kept on the Pi (current and previous at least); older ones go, with the images only they used",
      ),
  })
  .strict();

const imageRef = z
  .string()
  .regex(
    /^[^\s@]+(@sha256:[0-9a-f]{64})?$/,
    "must be an image reference (name[:tag][@sha256:<64 hex>])",
  );

export const DEBIAN_MIRROR = "http://deb.debian.org/debian";
export const DEBIAN_SECURITY_MIRROR = "http://deb.debian.org/debian-security";

const mirrorUrl = (example: string) =>
  z
    .string()
    .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, `must be an http:// or https:// URL, e.g. ${example}`)
    .default(example);

export const basesSchema = z
  .object({
    debian: z
      .enum(["bookworm", "trixie"])
      .default("bookworm")
      .describe(
        "Debian release of the builder and runtime stages, together (same libc and Python)",
      ),
    builder: imageRef.describe(
      "Builder stage base: Debian of that release, e.g. debian:bookworm-slim",
    ),
    runtime: z
      .union([z.literal("local"), z.object({ base: imageRef, python: imageRef }).strict()])
      .default("local")
      .describe(
        "Runtime stage bases: 'local' assembles them here from Debian packages; or upstream refs " +
          "such as gcr.io/distroless/base-debian12 and gcr.io/distroless/python3-debian12",
      ),
    mirror: z
      .object({
        debian: mirrorUrl(DEBIAN_MIRROR).describe("the release and its -updates"),
        security: mirrorUrl(DEBIAN_SECURITY_MIRROR).describe("its -security"),
      })
      .strict()
      .default({ debian: DEBIAN_MIRROR, security: DEBIAN_SECURITY_MIRROR })
      .describe(
        "The Debian mirror the builder base's apt sources name: its package indices decide " +
          "which images a Debian update rebuilds",
      ),
  })
  .strict();

/** Everything a stack says, except secrets (those stay Outputs). */
export const stackSchema = z
  .object({
    registry: registrySchema,
    platforms: z
      .array(platform)
      .min(1)
      .refine((ps) => new Set(ps).size === ps.length, "must not repeat a platform")
      .default(["linux/amd64", "linux/arm64"])
      .describe("Platforms every image is built for"),
    bases: basesSchema,
    builder: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a buildx builder's name (docker buildx ls)")
      .default("lucid")
      .describe(
        "The buildx builder of the images: a docker-container builder (Docker Desktop's, " +
          "`docker buildx create`) or a remote one; lucid is the one scripts/buildkit.sh makes",
      ),
    pi: piSchema,
    rollout: z
      .boolean()
      .default(true)
      .describe(
        "false: build and push only, no rollout (a build machine's stack, the image tests)",
      ),
    sshPrivateKey: z
      .literal("<secret>")
      .optional()
      .describe("The deploy key (a Pulumi secret); required when rollout is on"),
    registryPassword: z
      .literal("<secret>")
      .optional()
      .describe("The registry password or token (a Pulumi secret); with registry.username"),
    apiToken: z
      .literal("<secret>")
      .optional()
      .describe(
        "The API's bearer token (a Pulumi secret, 32-256 of A-Z a-z 0-9 - . _ ~ + /); " +
          "without it the stack makes one (output apiToken)",
      ),
    apiTokenRotation: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("Change it (e.g. add 1) for a new made token; the old one stops at the rollout"),
    serviceEnv: z
      .literal("<secret>")
      .optional()
      .describe(
        "Environment for the services (a Pulumi secret): {<service>: {<NAME>: <value>}}, " +
          "written on the Pi in the release's `environment` file, mode 600",
      ),
    signing: z
      .boolean()
      .default(true)
      .describe(
        "Sign every pushed image (its index and each platform) with cosign, each platform's " +
          "SBOM (SPDX, by Syft) attached as a signed attestation; needs cosign and syft on PATH",
      ),
    signingKey: z
      .literal("<secret>")
      .optional()
      .describe(
        "The cosign private key images are signed with (a Pulumi secret: the cosign.key " +
          "`cosign generate-key-pair` writes), with lucid:signingKeyPassword; without it the " +
          "stack makes one (output signing.publicKey)",
      ),
    signingKeyPassword: z
      .literal("<secret>")
      .optional()
      .describe("The password of lucid:signingKey (a Pulumi secret)"),
  })
  .strict();

type Parsed = z.infer<typeof stackSchema>;
export type StackSettings = Omit<Parsed, (typeof SECRET_KEYS)[number] | "registry" | "pi"> & {
  registry: Parsed["registry"] & { pull: string };
  pi: Parsed["pi"] & { dir: string };
};
export type StackConfig = StackSettings & {
  sshPrivateKey: pulumi.Output<string>;
  /** Registry login, when the registry wants one; the password stays a secret Output. */
  registryAuth?: { username: string; password: pulumi.Output<string> };
  /** Secret environment per service (empty when none is set). */
  serviceEnv: pulumi.Output<ServiceEnv>;
  /** lucid:apiToken when given; else the stack makes one. */
  apiToken?: pulumi.Output<string>;
  /** lucid:signingKey and its password when given; else the stack makes a key. */
  signingKey?: { privateKey: pulumi.Output<string>; password: pulumi.Output<string> };
};

export type { ServiceEnv };

/** Config keys whose values are credentials: set with --secret, never seen by the schema. */
const SECRET_KEYS = [
  "sshPrivateKey",
  "registryPassword",
  "apiToken",
  "serviceEnv",
  "signingKey",
  "signingKeyPassword",
] as const;

/** Secret keys whose value is text as given: never read as JSON (a password of digits). */
const TEXT_KEYS: readonly string[] = ["apiToken", "signingKey", "signingKeyPassword"];

/** Whether a config key (`lucid:x`, `x`, or a path in it: `serviceEnv.api-server.K`) holds a secret. */
export const isSecretKey = (key: string): boolean =>
  (SECRET_KEYS as readonly string[]).includes(
    key.replace(new RegExp(`^${NAMESPACE}:`), "").split(/[.[]/)[0],
  );

/** The variable api-server reads its bearer token from; the stack sets it (lucid:apiToken). */
export const API_TOKEN_ENV = "LUCID_API_TOKEN";

/**
 * lucid:apiToken's shape, checked without printing it: a bearer token's characters (RFC 6750:
 * letters, digits, - . _ ~ + /, then = padding), which also pass through an env file untouched
 * by either Compose generation (no quote, $, # or \); long enough to be a secret.
 */
export function apiTokenProblems(token: unknown): string[] {
  if (typeof token === "string" && /^[A-Za-z0-9._~+/-]{32,256}=*$/.test(token)) return [];
  return [
    `${NAMESPACE}:apiToken: must be 32 to 256 of A-Z a-z 0-9 - . _ ~ + / (then = padding), as a bearer token`,
  ];
}

/**
 * lucid:signingKey's shape, checked without printing it: a key as `cosign generate-key-pair`
 * writes it (encrypted; its password is lucid:signingKeyPassword).
 */
export function signingKeyProblems(key: unknown): string[] {
  const pem =
    /^-----BEGIN ENCRYPTED (SIGSTORE|COSIGN) PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END ENCRYPTED \1 PRIVATE KEY-----\s*$/;
  if (typeof key === "string" && pem.test(key.trim())) return [];
  return [
    `${NAMESPACE}:signingKey: must be a cosign private key (the cosign.key \`cosign generate-key-pair\` writes), ` +
      `set with: pulumi config set --secret ${NAMESPACE}:signingKey < cosign.key`,
  ];
}

/**
 * The shape of lucid:serviceEnv, checked without printing a value: known services, variable
 * names, one-line string values (an env file is line-based).
 */
export function serviceEnvProblems(env: unknown, services: readonly string[]): string[] {
  const key = `${NAMESPACE}:serviceEnv`;
  if (env === null || typeof env !== "object" || Array.isArray(env))
    return [`${key}: must be an object of services`];
  return Object.entries(env as Record<string, unknown>).flatMap(([svc, vars]) => {
    if (!services.includes(svc)) return [`${key}.${svc}: not a service (${services.join(", ")})`];
    if (vars === null || typeof vars !== "object" || Array.isArray(vars))
      return [`${key}.${svc}: must be an object of variables`];
    return Object.entries(vars as Record<string, unknown>).flatMap(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        return [`${key}.${svc}.${name}: not an environment variable name`];
      if (typeof value !== "string" || /[\r\n\0]/.test(value))
        return [`${key}.${svc}.${name}: must be a one-line string`];
      if (svc === "api-server" && name === API_TOKEN_ENV)
        return [`${key}.${svc}.${name}: set by the stack; give the token as lucid:apiToken`];
      return [];
    });
  });
}

/** A config error that names every offending key and never prints a value. */
export class ConfigError extends pulumi.RunError {
  constructor(readonly problems: string[]) {
    super(`invalid stack config:\n  ${problems.join("\n  ")}`);
  }
}

const valueAt = (raw: unknown, p: readonly PropertyKey[]): unknown =>
  p.reduce<unknown>(
    (v, k) =>
      v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined,
    raw,
  );

const describeIssue = (issue: z.core.$ZodIssue, raw: unknown): string => {
  const key = [NAMESPACE, issue.path.map(String).join(".")].filter(Boolean).join(":");
  if (issue.path.length > 0 && valueAt(raw, issue.path) === undefined) {
    return `${key}: required`;
  }
  if (issue.code === "unrecognized_keys") {
    const parent = issue.path.length > 0 ? `${key}.` : `${NAMESPACE}:`;
    return issue.keys.map((k) => `${parent}${k}: unknown key`).join("\n  ");
  }
  return `${key}: ${issue.message}`;
};

/**
 * Keys that another key's value requires: named with every other problem, whatever else is wrong
 * (a refinement of the schema would run only once the rest of it is valid).
 */
function pairedKeyProblems(raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const username = valueAt(raw, ["registry", "username"]);
  if (raw.rollout !== false && !("sshPrivateKey" in raw))
    problems.push(`${NAMESPACE}:sshPrivateKey: required`);
  if (username !== undefined && !("registryPassword" in raw))
    problems.push(`${NAMESPACE}:registryPassword: required`);
  if (username === undefined && "registryPassword" in raw)
    problems.push(`${NAMESPACE}:registry.username: required`);
  if ("signingKey" in raw !== "signingKeyPassword" in raw)
    problems.push(
      `${NAMESPACE}:${"signingKey" in raw ? "signingKeyPassword" : "signingKey"}: required`,
    );
  return problems;
}

/**
 * Validates a stack's raw config (`lucid:` keys without the prefix, values parsed as YAML/JSON).
 * `secretKeys` are the keys that were set with --secret. Pure: throws ConfigError or returns.
 */
export function parseStackConfig(
  raw: Record<string, unknown>,
  secretKeys: ReadonlySet<string>,
  services: readonly string[] = [],
): StackSettings {
  const problems: string[] = [];
  if ("serviceEnv" in raw) problems.push(...serviceEnvProblems(raw.serviceEnv, services));
  if ("apiToken" in raw) problems.push(...apiTokenProblems(raw.apiToken));
  if ("signingKey" in raw) problems.push(...signingKeyProblems(raw.signingKey));
  const masked: Record<string, unknown> = { ...raw };
  for (const key of SECRET_KEYS.filter((k) => k in raw)) {
    if (!secretKeys.has(key))
      problems.push(`${NAMESPACE}:${key}: must be a secret (pulumi config set --secret)`);
    masked[key] = "<secret>"; // the value never reaches the schema: only whether it is there
  }
  const parsed = stackSchema.safeParse(masked);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => describeIssue(i, masked)));
  problems.push(...pairedKeyProblems(masked));
  // named with the rest, whatever else is wrong, once the bases themselves are well formed
  const bases = basesSchema.safeParse(masked.bases);
  if (bases.success) problems.push(...basePinProblems(bases.data));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const settings = Object.fromEntries(
    Object.entries(parsed.data).filter(([k]) => !(SECRET_KEYS as readonly string[]).includes(k)),
  ) as Omit<Parsed, (typeof SECRET_KEYS)[number]>;
  return {
    ...settings,
    registry: { ...settings.registry, pull: settings.registry.pull ?? settings.registry.push },
    pi: {
      ...settings.pi,
      dir: settings.pi.dir ?? `/home/${settings.pi.user}/${settings.pi.project}`,
    },
  };
}

const parseValue = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

/**
 * Validates a stack's config as Pulumi gives it (`lucid:<key>`, its string value, whether it is a
 * secret): the program's check, and the lucid CLI's before it starts a run, so a bad config is
 * named once, whole, before Pulumi runs anything.
 */
export function checkConfig(
  all: Iterable<readonly [key: string, value: string, secret: boolean]>,
  services: readonly string[] = [],
): StackSettings {
  const prefix = `${NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  const secret = new Set<string>();
  for (const [k, v, isSecret] of all) {
    if (!k.startsWith(prefix)) continue;
    const key = k.slice(prefix.length);
    raw[key] = TEXT_KEYS.includes(key) ? v : parseValue(v); // a token of digits stays a string
    if (isSecret) secret.add(key);
  }
  return parseStackConfig(raw, secret, services);
}

/**
 * Reads and validates the current stack's config; call once, before any resource exists.
 * `services` are the names lucid:serviceEnv may use.
 */
export function loadConfig(services: readonly string[]): StackConfig {
  const all = Object.entries(pulumi.runtime.allConfig()).map(
    ([key, value]) => [key, value, isConfigSecret(key)] as const,
  );
  const settings = checkConfig(all, services);
  const config = new pulumi.Config(NAMESPACE);
  const sshPrivateKey = settings.rollout
    ? config.requireSecret("sshPrivateKey")
    : pulumi.secret("");
  const username = settings.registry.username;
  const registryAuth = username
    ? { username, password: config.requireSecret("registryPassword") }
    : undefined;
  const has = (key: string) => all.some(([k]) => k === `${NAMESPACE}:${key}`);
  const serviceEnv = has("serviceEnv")
    ? config.requireSecretObject<ServiceEnv>("serviceEnv")
    : pulumi.secret<ServiceEnv>({});
  const apiToken = has("apiToken") ? config.requireSecret("apiToken") : undefined;
  const signingKey = has("signingKey")
    ? {
        privateKey: config.requireSecret("signingKey"),
        password: config.requireSecret("signingKeyPassword"),
      }
    : undefined;
  return { ...settings, sshPrivateKey, registryAuth, serviceEnv, apiToken, signingKey };
}
