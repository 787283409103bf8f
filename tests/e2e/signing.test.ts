// Signed and inventoried images (#15: SBOMs in the registry, signatures), on the real parts: a
// build-only stack pushes the set to the registry that wants a login, signed with the key given
// as lucid:signingKey (made here by cosign, with a password). The real cosign then verifies every
// image by its tag (the index) and each platform's image, and each platform's SBOM attestation;
// the SBOM attached lists the packages the image records. Neither the key nor its password is in
// the state or the run's output. A no-op `up` signs nothing again; an image pushed to a tag by
// hand fails verification; a key that is not the stack's verifies nothing; a signature deleted
// from the registry (a platform's signature and SBOM attestation, the attestation alone, the
// index's signature) is found by refresh and made again by the next up, and nothing else.
// (The key the stack makes itself: the dev stack's and plain-cli's `up`s.)
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import { randomBytes } from "crypto";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { changesOf, e2eStack } from "../support/e2e-stack";
import { docker, exportFilesystem } from "../support/docker";
import { recordedPackages } from "../support/dpkg-status";
import { getManifest } from "../support/registry";
import { digestOf } from "../../components/image-ref";
import { filesHolding, filesUnder } from "../support/secrets";
import { writeDockerConfig, writeOfflineFiles } from "../../components/signing-remote";
import type { SbomRecord } from "../../components/signing-remote";
import { lucidHome } from "../../stacks/workspace";
import { SERVICE_NAMES } from "../../infra/services";

jest.setTimeout(20 * 60_000);

const REGISTRY = "10.250.0.1:5001";
const REPOSITORY = `${REGISTRY}/lucid-signing`;
const PLATFORMS = ["linux/amd64", "linux/arm64"];
/** Every image the stack pushes: the runtime bases, the probe and the five services. */
const TAGS = ["runtime-base-bookworm", "runtime-python-bookworm", "lucid-probe", ...SERVICE_NAMES];
const password = () =>
  fs.readFileSync(path.join(lucidHome(), "registry-auth", "password"), "utf8").trim();

const cosignBin = path.join(lucidHome(), "bin", "cosign");
let ctx: Awaited<ReturnType<typeof e2eStack>>;
let publicKey: string;
let sboms: Record<string, Record<string, SbomRecord>>;
/** cosign's files: the public key, the registry login, the empty trusted root. */
let dir: string;

/** `cosign ARGS` as a user would run it to verify (offline, no transparency log here). */
function cosign(...args: string[]) {
  const [verb, ...rest] = args;
  return spawnSync(
    cosignBin,
    [
      verb,
      "--insecure-ignore-tlog=true",
      "--trusted-root",
      path.join(dir, "trusted-root.json"),
      ...rest,
    ],
    {
      encoding: "utf8",
      timeout: 120_000,
      maxBuffer: 256 << 20,
      env: { ...process.env, DOCKER_CONFIG: dir },
    },
  );
}
const verify = (ref: string, key = path.join(dir, "key.pub")) =>
  cosign("verify", "--key", key, ref);
/** `cosign verify-attestation` of IMAGE's SPDX SBOM with the stack's public key. */
const verifySbom = (image: string) =>
  cosign("verify-attestation", "--key", path.join(dir, "key.pub"), "--type", "spdxjson", image);

/** The key pair given to the stack, made by cosign, and its password. */
const KEY_PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
let givenKey: { private: string; public: string };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-verify-"));
  execFileSync(cosignBin, ["generate-key-pair", "--output-key-prefix", path.join(dir, "given")], {
    env: { ...process.env, COSIGN_PASSWORD: KEY_PASSWORD },
    timeout: 60_000,
  });
  givenKey = {
    private: fs.readFileSync(path.join(dir, "given.key"), "utf8"),
    public: fs.readFileSync(path.join(dir, "given.pub"), "utf8"),
  };
  ctx = await e2eStack("signing", {
    registry: { push: REGISTRY, repository: "lucid-signing", username: "lucid" },
    rollout: false,
    signing: true,
  });
  await ctx.stack.setConfig("lucid:registryPassword", { value: password(), secret: true });
  await ctx.stack.setConfig("lucid:signingKey", { value: givenKey.private, secret: true });
  await ctx.stack.setConfig("lucid:signingKeyPassword", { value: KEY_PASSWORD, secret: true });
  const up = await ctx.stack.up({ onOutput: ctx.onOutput });
  expect(up.summary.result).toBe("succeeded");
  const signing = up.outputs.signing.value as {
    publicKey: string;
    sboms: Record<string, Record<string, SbomRecord>>;
  };
  ({ publicKey, sboms } = signing);
  fs.writeFileSync(path.join(dir, "key.pub"), publicKey);
  writeOfflineFiles(dir);
  writeDockerConfig(dir, { address: REGISTRY, username: "lucid", password: password() });
});
afterAll(() => {
  ctx?.cleanup();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("the public key is an output, and every pushed image has an SBOM per platform", () => {
  expect(publicKey.trim()).toBe(givenKey.public.trim());
  expect(Object.keys(sboms).sort()).toEqual([...TAGS].sort());
  for (const tag of TAGS) {
    expect(Object.keys(sboms[tag]).sort()).toEqual(PLATFORMS);
    for (const p of PLATFORMS) {
      expect(sboms[tag][p].digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(sboms[tag][p].packages).toBeGreaterThan(0);
    }
  }
});

test.each(TAGS)("cosign verifies %s: its tag, each platform, each SBOM attestation", (tag) => {
  const byTag = verify(`${REPOSITORY}:${tag}`);
  expect([byTag.status, byTag.stderr]).toEqual([0, expect.any(String)]);
  for (const p of PLATFORMS) {
    const image = `${REPOSITORY}@${sboms[tag][p].digest}`;
    expect(verify(image).status).toBe(0);
    const att = verifySbom(image);
    expect([att.status, att.stderr.slice(-300)]).toEqual([0, expect.any(String)]);
  }
});

/** The SPDX document attested for IMAGE (the newest, if more than one). */
function attestedSbom(image: string): {
  packages: { name: string; versionInfo?: string; externalRefs?: { referenceLocator: string }[] }[];
} {
  const att = verifySbom(image);
  expect(att.status).toBe(0);
  const envelope = JSON.parse(att.stdout.trim().split("\n").at(-1)!) as { payload: string };
  const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8"));
  return statement.predicate;
}

test.each([
  ["tor-proxy", "linux/amd64"],
  ["api-server", "linux/arm64"],
])(
  "%s's attested SBOM (%s) lists exactly the Debian packages the image records",
  (tag, platform) => {
    const { digest, packages } = sboms[tag][platform];
    const image = `${REPOSITORY}@${digest}`;
    const sbom = attestedSbom(image);
    const debs = sbom.packages
      .filter((p) => p.externalRefs?.some((r) => r.referenceLocator.startsWith("pkg:deb/")))
      .map((p) => `${p.name} ${p.versionInfo}`)
      .sort();
    execFileSync("docker", ["--config", dir, "pull", "--quiet", image], { timeout: 300_000 });
    const { root } = exportFilesystem(image);
    try {
      expect(debs).toEqual(
        recordedPackages(root)
          .map((p) => `${p.name} ${p.version}`)
          .sort(),
      );
      expect(sbom.packages.length - 1).toBe(packages); // the document's own subject not counted
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      docker(["rmi", image]);
    }
  },
);

test("neither the key nor its password is in the state (history, backups) or the run's output", () => {
  const keyLines = givenKey.private.split("\n").slice(1, -2);
  expect(keyLines.length).toBeGreaterThan(2);
  const secrets: Record<string, string> = {
    ...Object.fromEntries(keyLines.map((l, i) => [`signing key line ${i + 1}`, l])),
    "signing key password": KEY_PASSWORD,
    "registry password": password(),
  };
  const state = filesUnder(path.join(ctx.dir, "state"));
  expect(state.filter((f) => f.file.includes("history")).length).toBeGreaterThan(0);
  const log = [{ file: "the run's output", text: ctx.log.join("") }];
  expect(filesHolding([...state, ...log], secrets)).toEqual([]);
});

/**
 * What the registry holds of each signed digest's signatures and attestations: the referrers index
 * cosign keeps at the tag `sha256-<hex>` (every platform's image and every service's index).
 */
async function signatureIndexes(): Promise<Record<string, string>> {
  const login = { username: "lucid", password: password() };
  const services = (await ctx.stack.outputs()).services.value as Record<string, { ref: string }>;
  const digests = [
    ...Object.values(sboms).flatMap((byPlatform) => Object.values(byPlatform).map((r) => r.digest)),
    ...Object.values(services).map((s) => digestOf(s.ref)),
  ];
  const found: Record<string, string> = {};
  for (const d of digests) {
    const tag = d.replace(":", "-");
    const r = await getManifest(REGISTRY, "lucid-signing", tag, login);
    expect([tag, r.status]).toEqual([tag, 200]);
    found[tag] = JSON.stringify(r.body);
  }
  return found;
}

test("a no-op up signs nothing again: no change, every signature as it was", async () => {
  const before = await signatureIndexes();
  expect(Object.keys(before)).toHaveLength(TAGS.length * PLATFORMS.length + SERVICE_NAMES.length);
  const up = await ctx.stack.up({ onOutput: ctx.onOutput });
  expect(changesOf(up.summary)).toEqual({});
  expect(await signatureIndexes()).toEqual(before);
});

test("a key that is not the stack's verifies nothing", () => {
  const other = path.join(dir, "other");
  execFileSync(cosignBin, ["generate-key-pair", "--output-key-prefix", other], {
    env: { ...process.env, COSIGN_PASSWORD: "x" },
    timeout: 60_000,
  });
  const r = verify(`${REPOSITORY}:api-server`, `${other}.pub`);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/no matching (signatures|attestations)/);
});

/**
 * A manifest request to REFERENCE of the repository as `docker push` or a registry's garbage
 * collection would send it (basic auth, the CA): its status and the digest the registry names.
 */
function manifestCall(
  method: "GET" | "PUT" | "DELETE",
  reference: string,
  manifest?: { mediaType: string },
): Promise<{ status: number; digest: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        method,
        host: REGISTRY.split(":")[0],
        port: Number(REGISTRY.split(":")[1]),
        path: `/v2/lucid-signing/manifests/${reference}`,
        ca: fs.readFileSync(path.join(lucidHome(), "registry", "tls", "ca.crt")),
        headers: {
          Authorization: `Basic ${Buffer.from(`lucid:${password()}`).toString("base64")}`,
          Accept:
            "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json",
          ...(manifest ? { "Content-Type": manifest.mediaType } : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            digest: String(res.headers["docker-content-digest"] ?? ""),
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("registry did not answer within 10 s")));
    req.on("error", reject);
    req.end(manifest ? JSON.stringify(manifest) : undefined);
  });
}

/** Each ImageSignature in the state, by its image's name: its signed index and platforms. */
async function signedState(): Promise<Record<string, { index: string; platforms: string[] }>> {
  const { deployment } = await ctx.stack.exportStack();
  const resources = (deployment.resources ?? []) as {
    urn: string;
    outputs?: { index?: string; platforms?: Record<string, string> };
  }[];
  return Object.fromEntries(
    resources
      .filter((r) => r.urn.includes("ImageSignature"))
      .map((r) => [
        r.urn.split("::").at(-1),
        {
          index: r.outputs?.index ?? "",
          platforms: Object.keys(r.outputs?.platforms ?? {}).sort(),
        },
      ]),
  );
}

/** What cosign keeps for the image DIGEST: the referrers index at its tag sha256-<hex>. */
const referrersOf = (digest: string) => digest.replace(":", "-");

// Signatures lost three ways at once, each as a registry restored from an old backup or a hand
// deletion leaves it, and one refresh and one up for all three (each refresh asks cosign about
// every image):
// - tor-proxy's arm64 image: all cosign keeps for it (its signature and SBOM attestation, one
//   referrers index at the tag sha256-<hex>);
// - tunnel-tools' amd64 image: its SBOM attestation alone, taken out of that index;
// - api-gateway's index: its signature (its own referrers index).
test("signatures lost from the registry three ways: refresh finds each, the next up makes each again", async () => {
  const torDigest = sboms["tor-proxy"]["linux/arm64"].digest;
  const torProxy = `${REPOSITORY}@${torDigest}`;
  const held = await manifestCall("GET", referrersOf(torDigest));
  expect([held.status, held.digest]).toEqual([200, expect.stringMatching(/^sha256:/)]);
  expect((await manifestCall("DELETE", held.digest)).status).toBe(202);
  const lost = verify(torProxy);
  expect(lost.stderr).toMatch(/no signatures found/);
  expect(lost.status).not.toBe(0);

  const tunnelDigest = sboms["tunnel-tools"]["linux/amd64"].digest;
  const tunnelTools = `${REPOSITORY}@${tunnelDigest}`;
  const login = { username: "lucid", password: password() };
  const { body } = await getManifest(REGISTRY, "lucid-signing", referrersOf(tunnelDigest), login);
  const spdx = (m: { annotations?: Record<string, string> }) =>
    m.annotations?.["dev.sigstore.bundle.predicateType"] === "https://spdx.dev/Document";
  const manifests = body.manifests as { annotations?: Record<string, string> }[];
  expect(manifests.filter(spdx).length).toBeGreaterThan(0);
  const kept = { ...body, manifests: manifests.filter((m) => !spdx(m)) };
  expect((await manifestCall("PUT", referrersOf(tunnelDigest), kept as never)).status).toBe(201);
  expect(verify(tunnelTools).status).toBe(0);
  expect(verifySbom(tunnelTools).status).not.toBe(0);

  const gatewayTag = `${REPOSITORY}:api-gateway`;
  const index = (await manifestCall("GET", "api-gateway")).digest;
  const indexHeld = await manifestCall("GET", referrersOf(index));
  expect(indexHeld.status).toBe(200);
  expect((await manifestCall("DELETE", indexHeld.digest)).status).toBe(202);
  expect(verify(gatewayTag).stderr).toMatch(/no signatures found/);
  expect(verify(`${REPOSITORY}@${sboms["api-gateway"]["linux/arm64"].digest}`).status).toBe(0);

  const before = await signedState();
  expect(before["tor-proxy"].platforms).toEqual(PLATFORMS);
  expect(before["api-gateway"].index).toBe(index);
  const refresh = await ctx.stack.refresh({ onOutput: ctx.onOutput });
  expect(changesOf(refresh.summary)).toEqual({ update: 3 });
  // the state now says what the registry holds, and nothing else changed
  expect(await signedState()).toEqual({
    ...before,
    "tor-proxy": { ...before["tor-proxy"], platforms: ["linux/amd64"] },
    "tunnel-tools": { ...before["tunnel-tools"], platforms: ["linux/arm64"] },
    "api-gateway": { ...before["api-gateway"], index: "" },
  });

  const up = await ctx.stack.up({ onOutput: ctx.onOutput });
  expect(changesOf(up.summary)).toEqual({ update: 3 });
  expect(await signedState()).toEqual(before);
  for (const image of [torProxy, tunnelTools]) {
    expect(verify(image).status).toBe(0);
    const att = verifySbom(image);
    expect([att.status, att.stderr.slice(-300)]).toEqual([0, expect.any(String)]);
  }
  expect(verify(`${REPOSITORY}:tor-proxy`).status).toBe(0);
  expect(verify(gatewayTag).status).toBe(0);
});

test("an image pushed to a tag by hand fails verification", async () => {
  const tag = `${REPOSITORY}:api-server`;
  expect(verify(tag).status).toBe(0);
  // The same platforms' images under a new index (one annotation more): what a push over the
  // tag from another build looks like to a verifier, a digest the stack never signed.
  const login = { username: "lucid", password: password() };
  const { body } = await getManifest(REGISTRY, "lucid-signing", "api-server", login);
  const byHand = { ...body, annotations: { "org.opencontainers.image.description": "by hand" } };
  expect((await manifestCall("PUT", "api-server", byHand as never)).status).toBe(201);
  const r = verify(tag);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/no signatures found/);
});
