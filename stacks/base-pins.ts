// Upstream bases by digest: a tag (debian:bookworm-slim) names whatever was pushed last, so two
// builds of one commit could start from different Debian trees, and nothing shows it. The stack
// file names each base by digest; `lucid pin-bases` moves the pins to the digests the tags name
// now (and the next preview shows which images that rebuilds).
import { execFileSync } from "child_process";
import { isPinned, withoutDigest } from "../components/image-ref";

/** The config keys of the bases (under lucid:bases), with their refs; `local` runtimes left out. */
export function baseRefs(bases: {
  builder: string;
  runtime: "local" | { base: string; python: string };
}): { key: string; ref: string }[] {
  return [
    { key: "builder", ref: bases.builder },
    ...(bases.runtime === "local"
      ? []
      : [
          { key: "runtime.base", ref: bases.runtime.base },
          { key: "runtime.python", ref: bases.runtime.python },
        ]),
  ];
}

/** The registry host of a reference, as Docker reads it (no host part: Docker Hub). */
export function registryOf(ref: string): string {
  const first = ref.split("/")[0];
  const isHost = ref.includes("/") && (/[.:]/.test(first) || first === "localhost");
  return isHost ? first : "docker.io";
}

/**
 * A registry at an address (10.250.0.1:5000, 127.0.0.1, [::1]) or `localhost` is this machine's
 * or its LAN's own, such as the dev stack's, whose bases the bootstrap pushes: a tag may name
 * them. One reached by a DNS name is upstream.
 */
export function isOwnRegistry(host: string): boolean {
  const name = host.replace(/:\d+$/, "");
  return (
    name === "localhost" || /^\d+\.\d+\.\d+\.\d+$/.test(name) || /^\[[0-9a-f:]+\]$/i.test(name)
  );
}

/** The name part of a reference has a tag (`debian:bookworm-slim`, not `debian` or `host:5000/x`). */
const hasTag = (ref: string): boolean => {
  const name = withoutDigest(ref);
  return name.lastIndexOf(":") > name.lastIndexOf("/");
};

/** Config problems: each upstream base named without a digest, by its key. */
export function basePinProblems(bases: Parameters<typeof baseRefs>[0]): string[] {
  return baseRefs(bases)
    .filter(({ ref }) => !isPinned(ref) && !isOwnRegistry(registryOf(ref)))
    .map(
      ({ key }) =>
        `lucid:bases.${key}: an upstream base must be pinned by digest (name:tag@sha256:<64 hex>); ` +
        "`npm run lucid -- pin-bases --stack <stack>` pins each base to the digest its tag names now",
    );
}

/** The digest a reference's tag names now in its registry (the index, for a multi-arch image). */
export function currentDigest(ref: string): string {
  const tagged = withoutDigest(ref);
  const out = execFileSync(
    "docker",
    ["buildx", "imagetools", "inspect", "--format", "{{json .Manifest}}", tagged],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 },
  );
  const digest = (JSON.parse(out) as { digest?: string }).digest ?? "";
  if (!/^sha256:[0-9a-f]{64}$/.test(digest))
    throw new Error(`${tagged}: no digest in the registry's answer`);
  return digest;
}

/**
 * Each base to pin (the upstream ones, and any pinned already) with its new pin:
 * `name:tag@<the digest the tag names now>`.
 */
export function newPins(
  bases: Parameters<typeof baseRefs>[0],
  digestOf: (ref: string) => string = currentDigest,
): { key: string; from: string; to: string }[] {
  const toPin = baseRefs(bases).filter(
    ({ ref }) => isPinned(ref) || !isOwnRegistry(registryOf(ref)),
  );
  return toPin.map(({ key, ref }) => {
    // A digest alone has no tag to follow: asking for the bare name would be `:latest`, maybe
    // another release than the one pinned. A tag left out when unpinned is `latest`, as Docker
    // reads it, and written out so the pin says what it follows.
    if (isPinned(ref) && !hasTag(ref))
      throw new Error(
        `lucid:bases.${key}: pinned by digest with no tag to follow; name it as name:tag@sha256:<digest> (e.g. debian:bookworm-slim@sha256:…)`,
      );
    const name = withoutDigest(ref);
    const tagged = hasTag(name) ? name : `${name}:latest`;
    return { key, from: ref, to: `${tagged}@${digestOf(tagged)}` };
  });
}
