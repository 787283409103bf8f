/** Pure helpers for image references (`host[:port]/path:tag@sha256:digest`). */

const DIGEST = /@sha256:[0-9a-f]{64}$/;

/** True for a reference pinned by digest. */
export const isPinned = (ref: string): boolean => DIGEST.test(ref);

/** The reference without its digest: `name:tag` of `name:tag@sha256:…`. */
export const withoutDigest = (ref: string): string => ref.replace(DIGEST, "");

/**
 * The same image as another host reaches the registry (`registry.pull`), e.g. through a mirror
 * or another address of the same registry.
 */
export function viaRegistry(ref: string, pushedTo: string, pulledFrom: string): string {
  if (!ref.startsWith(`${pushedTo}/`)) {
    throw new Error(`image ${ref} is not in registry ${pushedTo}`);
  }
  return `${pulledFrom}${ref.slice(pushedTo.length)}`;
}

/** The digest a pinned reference names (`sha256:…`); an unpinned one is refused. */
export function digestOf(ref: string): string {
  if (!isPinned(ref)) throw new Error(`image ${ref} is not pinned by digest`);
  return ref.slice(ref.lastIndexOf("@") + 1);
}

/** The image of another digest in the same repository: a platform's, from its index's ref. */
export function atDigest(ref: string, digest: string): string {
  const name = withoutDigest(ref);
  const colon = name.lastIndexOf(":");
  return `${colon > name.lastIndexOf("/") ? name.slice(0, colon) : name}@${digest}`;
}

/**
 * `repo@sha256:...` from `repo:tag@sha256:...`: the digest alone names the image, and Engine 20.10
 * refuses `docker run` of a reference that carries both ("Cannot overwrite digest").
 */
export function byDigest(ref: string): string {
  const at = ref.indexOf("@");
  if (at < 0 || !isPinned(ref)) throw new Error(`image ${ref} is not pinned by digest`);
  const name = ref.slice(0, at);
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  return `${colon > slash ? name.slice(0, colon) : name}${ref.slice(at)}`;
}
