import * as pulumi from "@pulumi/pulumi";
import { DistrolessImage } from "../components/distroless-image";
import { byDigest, viaRegistry } from "../components/image-ref";
import { PiCommand } from "../components/pi-command";
import { dockerPull, dockerRun, script } from "../components/ssh/commands";
import type { StackConfig } from "../stacks/config";
import { runtimeBases } from "./bases";
import { SERVICES } from "./services";
import { version as VERSION } from "../package.json";

/** The buildx builder the bootstrap registers (a remote BuildKit; docker-build refuses the legacy one). */
export const BUILDER = "lucid";

/** A build context, relative to the project (state must not hold this machine's paths). */
const imageContext = (dir: string): string => `infra/images/${dir}`;

/** OCI labels. No revision label: a commit id would change every image on every commit. */
const labels = (title: string) => ({
  "org.opencontainers.image.title": title,
  "org.opencontainers.image.source": "https://github.com/pickme/lucid-infra",
  "org.opencontainers.image.version": VERSION,
  "org.opencontainers.image.vendor": "Lucid",
});

/**
 * The Lucid graph: runtime bases and the probe -> the five service images -> the Pi. The rollout
 * of the compose set comes with issue 4; until then the Pi runs the arch-probe slice.
 */
export function defineLucid(cfg: StackConfig) {
  const repository = `${cfg.registry.push}/${cfg.registry.repository}`;
  const common = { repository, platforms: cfg.platforms, builder: BUILDER };
  const runtime = runtimeBases(cfg, common);
  const probe = new DistrolessImage("lucid-probe", {
    ...common,
    context: imageContext("common/probe"),
    tag: "lucid-probe",
    stages: { builder: cfg.bases.builder },
    labels: labels("lucid-probe"),
  });
  const images = Object.fromEntries(
    SERVICES.map((s) => [
      s.name,
      new DistrolessImage(s.name, {
        ...common,
        context: imageContext(s.name),
        tag: s.name,
        stages: {
          builder: cfg.bases.builder,
          runtime: runtime[s.base],
          probe: probe.ref.apply(byDigest),
        },
        namedContexts: { common: imageContext("common") },
        labels: labels(s.name),
      }),
    ]),
  );
  const slice = archProbeOnPi(cfg, common);
  return {
    images: pulumi.all(
      Object.fromEntries(
        Object.entries(images).map(([n, i]) => [n, { ref: i.ref, digests: i.digests }]),
      ),
    ),
    ...slice,
  };
}

/** The toolchain's first slice: a small image pulled and run on the Pi over SSH (host key pinned). */
function archProbeOnPi(
  cfg: StackConfig,
  common: { repository: string; platforms: StackConfig["platforms"]; builder: string },
) {
  const probe = new DistrolessImage("arch-probe", {
    ...common,
    context: imageContext("arch-probe"),
    tag: "arch-probe",
    stages: { builder: cfg.bases.builder },
    labels: labels("arch-probe"),
  });
  const onPi = probe.ref.apply((ref) =>
    byDigest(viaRegistry(ref, cfg.registry.push, cfg.registry.pull)),
  );
  const run = new PiCommand("arch-probe-on-pi", {
    connection: { ...cfg.pi, privateKey: cfg.sshPrivateKey },
    command: onPi.apply((ref) =>
      script([dockerPull({ ref, platform: cfg.pi.platform }), dockerRun({ ref })]),
    ),
  });
  return {
    archProbeRef: probe.ref,
    archProbeDigests: probe.digests,
    /** What the image printed on the Pi: the Pi's machine, e.g. aarch64. */
    piMachine: run.stdout.apply((out) => out.split("\n").pop() ?? ""),
  };
}
