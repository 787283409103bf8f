import * as pulumi from "@pulumi/pulumi";
import { DistrolessImage } from "../components/distroless-image";
import { byDigest, viaRegistry } from "../components/image-ref";
import { PiCommand } from "../components/pi-command";
import { dockerPull, dockerRun, script } from "../components/ssh/commands";
import type { StackConfig } from "../stacks/config";

/** The buildx builder the bootstrap registers (a remote BuildKit; docker-build refuses the legacy one). */
export const BUILDER = "lucid";

/** A service's build context, relative to the project (state must not hold this machine's paths). */
const imageContext = (service: string): string => `infra/images/${service}`;

/**
 * The Lucid graph: images -> Pi. For now the toolchain's first slice: one small image built for
 * every platform, pushed as a manifest list, then pulled and run on the Pi over SSH.
 */
export function defineLucid(cfg: StackConfig) {
  const repository = `${cfg.registry.push}/${cfg.registry.repository}`;
  const probe = new DistrolessImage("arch-probe", {
    context: imageContext("arch-probe"),
    repository,
    tag: "arch-probe",
    platforms: cfg.platforms,
    builderImage: cfg.builderImage,
    builder: BUILDER,
    labels: {
      "org.opencontainers.image.source": "lucid-infra",
      "org.opencontainers.image.title": "arch-probe",
    },
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
  } satisfies Record<string, pulumi.Output<unknown>>;
}
