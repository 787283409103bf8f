import * as pulumi from "@pulumi/pulumi";
import {
  renderCompose,
  type ComposeService,
  type ComposeSpec,
  type ServiceEnv,
} from "../components/compose";
import { DistrolessImage } from "../components/distroless-image";
import { SigningKey } from "../components/signing";
import { byDigest, viaRegistry } from "../components/image-ref";
import { ApiToken } from "../components/api-token";
import { PiRollout } from "../components/pi-rollout";
import { composeOf } from "../components/rollout-spec";
import { API_TOKEN_ENV, type StackConfig } from "../stacks/config";
import { runtimeBases } from "./bases";
import { PROBE_PACKAGES, type PackageArgs } from "./debian-packages";
import { sourceRevision } from "./source-revision";
import { SERVICE_NAMES, SERVICES, type ServiceSpec } from "./services";
import { version as VERSION } from "../package.json";

/** A build context, relative to the project (state must not hold this machine's paths). */
const imageContext = (dir: string): string => `infra/images/${dir}`;

/**
 * OCI labels. The revision is the hash of the image's own build contexts, not a commit id: a
 * commit id would rebuild every image on every commit.
 */
const labels = (root: string, title: string, contexts: string[]) => ({
  "org.opencontainers.image.title": title,
  "org.opencontainers.image.source": "https://github.com/pickme/lucid-infra",
  "org.opencontainers.image.version": VERSION,
  "org.opencontainers.image.revision": sourceRevision(root, contexts),
  "org.opencontainers.image.vendor": "Lucid",
});

/** Only tunnel-tools waits for another service: it reads Tor's control cookie. */
const DEPENDS_ON: Record<string, string[]> = { "tunnel-tools": ["tor-proxy"] };
const INTERNAL_NETWORKS = ["backend", "tor"];

/**
 * The Lucid graph, one `up`: runtime bases and the probe -> the five service images -> the
 * compose set on the Pi, rolled out over SSH and health-gated. `root` is the stack's project
 * directory, the one Pulumi runs the providers in: docker-build resolves the (relative) build
 * contexts there, and the labels hash the same files. (A `main:` in Pulumi.yaml would make
 * Pulumi run them in that subdirectory instead; the project sets none.)
 */
export function defineLucid(cfg: StackConfig, packages: PackageArgs, root: string) {
  const key = cfg.signing ? new SigningKey("lucid-signing-key", cfg.signingKey ?? {}) : undefined;
  const { services: images, pushed } = buildImages(cfg, packages, root, key);
  /** The key's public half (for `cosign verify --key`), and each image's SBOMs by tag, platform. */
  const signed = key && {
    publicKey: key.publicKey,
    sboms: pulumi.all(Object.fromEntries(pushed.map((i) => [i.tag, i.sboms!]))),
  };
  const onPi = (s: ServiceSpec) =>
    images[s.name].ref.apply((ref) =>
      byDigest(viaRegistry(ref, cfg.registry.push, cfg.registry.pull)),
    );
  // Each service on its own, its image an Output: a preview shows that one field unknown, and
  // every other service and field as it is.
  // The names of a service's variables are no secret (a preview shows them); their values are.
  const namesOf = (s: ServiceSpec) =>
    pulumi.unsecret(cfg.serviceEnv.apply((e) => envNamesOf(e, s.name)));
  const onPiServices = Object.fromEntries(
    SERVICES.map((s) => [s.name, serviceOnPi(s, onPi(s), namesOf(s), cfg.pi)]),
  );
  const compose = pulumi
    .output(onPiServices)
    .apply((sv) => composeOf({ services: sv, internalNetworks: INTERNAL_NETWORKS }));
  const services = pulumi.all(
    Object.fromEntries(
      SERVICES.map((s) => [s.name, { ref: onPi(s), digests: images[s.name].digests }]),
    ),
  );
  if (!cfg.rollout) return { services, compose, signing: signed };
  const apiToken =
    cfg.apiToken ?? new ApiToken("lucid-api-token", { rotation: cfg.apiTokenRotation }).token;
  // Only api-server's environment waits for the token: a preview of a new one names it alone.
  const envOf = (name: string) =>
    name === "api-server"
      ? pulumi.all([cfg.serviceEnv, apiToken]).apply(([e, token]) => ({
          ...e[name],
          [API_TOKEN_ENV]: token,
        }))
      : cfg.serviceEnv.apply((e) => e[name] ?? {});
  const rollout = new PiRollout("lucid-on-pi", {
    connection: { ...cfg.pi, privateKey: cfg.sshPrivateKey },
    services: onPiServices,
    internalNetworks: INTERNAL_NETWORKS,
    env: Object.fromEntries(SERVICE_NAMES.map((name) => [name, envOf(name)])),
    registryAuth: cfg.registryAuth && { address: cfg.registry.pull, ...cfg.registryAuth },
    settings: {
      project: cfg.pi.project,
      remoteDir: cfg.pi.dir,
      healthTimeout: cfg.pi.healthTimeout,
      keepReleases: cfg.pi.keepReleases,
    },
  });
  return {
    /** Per service: the deployed reference (by digest, as the Pi pulls it) and per-platform digests. */
    services,
    compose,
    signing: signed,
    release: rollout.release,
    gatewayUrl: pulumi.output(`http://${cfg.pi.host}:${cfg.pi.gatewayPort}/`),
    /** The bearer token for the API's signing endpoints (`Authorization: Bearer <token>`). */
    apiToken: pulumi.secret(apiToken),
  };
}

type PiPlacement = Pick<StackConfig["pi"], "gatewayPort" | "gatewayAddress" | "platform">;

/** The Lucid set for these images (service -> ref by digest) on this Pi, with this environment. */
export function lucidSet(
  refs: Record<string, string>,
  pi: PiPlacement,
  env: ServiceEnv = {},
): ComposeSpec {
  return {
    services: SERVICES.map((s) => ({
      name: s.name,
      ...serviceOnPi(s, refs[s.name], envNamesOf(env, s.name), pi),
    })),
    internalNetworks: INTERNAL_NETWORKS,
  };
}

/** The Lucid compose file for these images on this Pi. */
export const lucidCompose = (
  refs: Record<string, string>,
  pi: PiPlacement,
  env: ServiceEnv = {},
): string => renderCompose(lucidSet(refs, pi, env));

/** The names of a service's secret variables: lucid:serviceEnv's, and api-server's token. */
export const envNamesOf = (env: ServiceEnv, service: string): string[] =>
  [
    ...new Set([
      ...Object.keys(env[service] ?? {}),
      ...(service === "api-server" ? [API_TOKEN_ENV] : []),
    ]),
  ].sort();

/**
 * A service of the catalog as this Pi runs it; its image and its variables' names values, or
 * ones still to come.
 */
function serviceOnPi<I, N>(s: ServiceSpec, image: I, environment: N, pi: PiPlacement) {
  return {
    image,
    platform: pi.platform,
    health: s.health,
    volumes: s.volumes,
    networks: s.networks,
    limits: s.limits,
    publish: s.published
      ? [
          {
            host: pi.gatewayPort,
            container: s.published,
            ...(pi.gatewayAddress ? { address: pi.gatewayAddress } : {}),
          },
        ]
      : [],
    ...(DEPENDS_ON[s.name] ? { dependsOn: DEPENDS_ON[s.name] } : {}),
    environment,
  } satisfies Omit<ComposeService, "image" | "name" | "environment"> & { image: I; environment: N };
}

/**
 * The runtime bases, the probe and the five services, for every platform of the stack: the
 * services by name, and every image pushed.
 */
function buildImages(
  cfg: StackConfig,
  packages: PackageArgs,
  root: string,
  signingKey?: SigningKey,
): { services: Record<string, DistrolessImage>; pushed: DistrolessImage[] } {
  const repository = `${cfg.registry.push}/${cfg.registry.repository}`;
  const registryAuth = cfg.registryAuth && { address: cfg.registry.push, ...cfg.registryAuth };
  const common = {
    repository,
    platforms: cfg.platforms,
    builder: cfg.builder, // docker-build refuses the Engine's legacy `docker` driver
    registryAuth,
    registryCache: cfg.registry.buildCache,
    signingKey,
  };
  const runtime = runtimeBases(cfg, common, packages);
  const probe = new DistrolessImage("lucid-probe", {
    ...common,
    platformBuildArgs: packages(PROBE_PACKAGES, { everyArch: true }),
    context: imageContext("common/probe"),
    tag: "lucid-probe",
    stages: { builder: cfg.bases.builder },
    labels: labels(root, "lucid-probe", [imageContext("common/probe")]),
  });
  const services = Object.fromEntries(
    SERVICES.map((s) => [
      s.name,
      new DistrolessImage(s.name, {
        ...common,
        context: imageContext(s.name),
        tag: s.name,
        platformBuildArgs: packages(s.debian),
        stages: {
          builder: cfg.bases.builder,
          runtime: runtime.refs[s.base],
          probe: probe.ref.apply(byDigest),
        },
        namedContexts: { common: imageContext("common") },
        labels: labels(root, s.name, [imageContext(s.name), imageContext("common")]),
      }),
    ]),
  );
  return { services, pushed: [...runtime.images, probe, ...Object.values(services)] };
}
