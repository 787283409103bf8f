// The signing work and its providers, with a fake `cosign` and `syft` on PATH that record each
// call (arguments, the environment names they got, the login they were given): which images are
// scanned, attested and signed, that nothing is asked of the network but the registry, and that
// no secret is ever an argument. (The real tools: tests/e2e/signing.test.ts.)
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  asFound,
  imageSignatureProvider,
  signingKeyProvider,
  stillSigned,
  type SignatureOutputs,
} from "../../components/signing";
import {
  authKeyOf,
  runTool,
  signImage,
  spdxPackages,
  writeDockerConfig,
} from "../../components/signing-remote";
import { digestOf } from "../../components/image-ref";
import { signingToolProblems } from "../../stacks/signing-tools";

// The providers find their work in the running checkout (the real lookup: the e2e suites); here,
// the module itself.
jest.mock("../../components/checkout-code", () => ({
  checkoutCode: async (name: string) => jest.requireActual(`../../components/${name}`),
}));

const SECRETS = { privateKey: "PRIVATE-s3cr3t-KEY", password: "pw-s3cr3t", registry: "reg-s3cr3t" };
const D = (c: string) => `sha256:${c.repeat(64)}`;
const REQUEST = {
  repository: "10.250.0.1:5001/lucid",
  index: D("0"),
  platforms: { "linux/amd64": D("a"), "linux/arm64": D("b") },
  privateKey: SECRETS.privateKey,
  password: SECRETS.password,
  registryAuth: { address: "10.250.0.1:5001", username: "lucid", password: SECRETS.registry },
};

let bin: string;
let calls: string;
const PATH = process.env.PATH;

/** A fake tool: one JSON line per call; syft writes an SPDX document where -o asks. */
const FAKE = `#!/usr/bin/env node
const fs = require("fs");
const args = process.argv.slice(2);
const config = process.env.DOCKER_CONFIG ? JSON.parse(fs.readFileSync(process.env.DOCKER_CONFIG + "/config.json", "utf8")) : null;
fs.appendFileSync(process.env.FAKE_CALLS, JSON.stringify({
  tool: require("path").basename(process.argv[1]), args,
  key: process.env.COSIGN_PRIVATE_KEY, password: process.env.COSIGN_PASSWORD,
  update: process.env.SYFT_CHECK_FOR_APP_UPDATE, auths: config && config.auths,
}) + "\\n");
const out = args.find((a) => a.startsWith("spdx-json="));
if (out) fs.writeFileSync(out.slice(10), JSON.stringify({ packages: [
  { SPDXID: "SPDXRef-DocumentRoot-Image-x" }, { SPDXID: "SPDXRef-Package-deb-libc6" }, { SPDXID: "SPDXRef-Package-deb-tor" } ] }));
if (process.env.FAKE_FAIL && args[0] === process.env.FAKE_FAIL) { console.error("boom: " + args[0]); process.exit(3); }
if ((process.env.FAKE_UNSIGNED || "").split(",").includes(args[0] + " " + args.at(-1))) {
  console.error(args[0] === "verify" ? "Error: no signatures found" : "Error: no matching attestations: ...");
  process.exit(1);
}
`;

beforeAll(() => {
  bin = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-fake-signing-"));
  for (const tool of ["cosign", "syft"])
    fs.writeFileSync(path.join(bin, tool), FAKE, { mode: 0o755 });
  process.env.PATH = `${bin}${path.delimiter}${PATH}`;
});
beforeEach(() => {
  calls = path.join(bin, `calls-${Date.now()}-${Math.random()}`);
  process.env.FAKE_CALLS = calls;
  delete process.env.FAKE_FAIL;
  delete process.env.FAKE_UNSIGNED;
});
afterAll(() => {
  process.env.PATH = PATH;
  fs.rmSync(bin, { recursive: true, force: true });
});

type Call = {
  tool: string;
  args: string[];
  key?: string;
  password?: string;
  update?: string;
  auths: Record<string, { auth: string }> | null;
};
const callsMade = (): Call[] =>
  fs.existsSync(calls)
    ? fs
        .readFileSync(calls, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Call)
    : [];
/** Each call as `tool verb target`. */
const summary = () => callsMade().map((c) => `${c.tool} ${c.args[0]} ${c.args.at(-1)}`);

describe("signImage", () => {
  test("each platform: SBOM made, attested, signed; then the index signed", async () => {
    const records = await signImage(REQUEST);
    const at = (d: string) => `10.250.0.1:5001/lucid@${d}`;
    expect(summary()).toEqual([
      expect.stringMatching(new RegExp(`^syft scan spdx-json=.*sbom-linux-amd64\\.spdx\\.json$`)),
      `cosign attest ${at(D("a"))}`,
      `cosign sign ${at(D("a"))}`,
      expect.stringMatching(/^syft scan spdx-json=.*sbom-linux-arm64/),
      `cosign attest ${at(D("b"))}`,
      `cosign sign ${at(D("b"))}`,
      `cosign sign ${at(D("0"))}`,
    ]);
    expect(callsMade()[0].args).toContain(`registry:${at(D("a"))}`);
    expect(records["linux/amd64"]).toEqual({
      digest: D("a"),
      packages: 2,
      bytes: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(Object.keys(records)).toEqual(["linux/amd64", "linux/arm64"]);
  });

  test("secrets reach the tools as environment only: never an argument; the login in DOCKER_CONFIG", async () => {
    await signImage(REQUEST);
    const made = callsMade();
    expect(made.length).toBeGreaterThan(0);
    for (const c of made) {
      for (const s of Object.values(SECRETS)) expect(c.args.join(" ")).not.toContain(s);
      expect(c.key).toBe(SECRETS.privateKey);
      expect(c.password).toBe(SECRETS.password);
      expect(c.auths).toEqual({
        "10.250.0.1:5001": { auth: Buffer.from(`lucid:${SECRETS.registry}`).toString("base64") },
      });
    }
    // cosign's key by reference to its environment, and nothing online: empty signing config and trusted root
    for (const c of made.filter((m) => m.tool === "cosign")) {
      expect(c.args).toEqual(
        expect.arrayContaining(["--key", "env://COSIGN_PRIVATE_KEY", "--yes"]),
      );
      expect(c.args[c.args.indexOf("--signing-config") + 1]).toMatch(/signing-config\.json$/);
      expect(c.args[c.args.indexOf("--trusted-root") + 1]).toMatch(/trusted-root\.json$/);
    }
    for (const c of made.filter((m) => m.tool === "syft")) expect(c.update).toBe("false");
  });

  test("without a login of the stack's own, the user's docker login is used (no DOCKER_CONFIG of ours)", async () => {
    const { registryAuth: _, ...anonymous } = REQUEST;
    const before = process.env.DOCKER_CONFIG;
    delete process.env.DOCKER_CONFIG;
    try {
      await signImage(anonymous);
    } finally {
      if (before !== undefined) process.env.DOCKER_CONFIG = before;
    }
    expect(callsMade().map((c) => c.auths)).toEqual(callsMade().map(() => null));
  });

  test("a Docker Hub login is filed where cosign and Syft look for it; the file is mode 600", () => {
    expect(authKeyOf("docker.io")).toBe("https://index.docker.io/v1/");
    expect(authKeyOf("index.docker.io")).toBe("https://index.docker.io/v1/");
    expect(authKeyOf("10.250.0.1:5001")).toBe("10.250.0.1:5001");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-dockercfg-"));
    try {
      writeDockerConfig(dir, { address: "docker.io", username: "u", password: "p" });
      const file = path.join(dir, "config.json");
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({
        auths: { "https://index.docker.io/v1/": { auth: Buffer.from("u:p").toString("base64") } },
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("its scratch files (the login, the SBOMs) are gone afterwards, also after a failure", async () => {
    const scratch = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("lucid-signing-"));
    const before = scratch();
    await signImage(REQUEST);
    process.env.FAKE_FAIL = "attest";
    await expect(signImage(REQUEST)).rejects.toThrow(
      /cosign attest .* exited 3:\n {2}boom: attest/,
    );
    expect(callsMade().length).toBeGreaterThan(0);
    expect(scratch()).toEqual(before);
  });

  test("a platform signed before at the same digest is not scanned or signed again", async () => {
    const first = await signImage(REQUEST);
    fs.rmSync(calls);
    const next = {
      ...REQUEST,
      index: D("1"),
      platforms: { ...REQUEST.platforms, "linux/arm64": D("c") },
    };
    const records = await signImage(next, first);
    expect(summary()).toEqual([
      expect.stringMatching(/^syft scan spdx-json=.*sbom-linux-arm64/),
      `cosign attest 10.250.0.1:5001/lucid@${D("c")}`,
      `cosign sign 10.250.0.1:5001/lucid@${D("c")}`,
      `cosign sign 10.250.0.1:5001/lucid@${D("1")}`,
    ]);
    expect(records["linux/amd64"]).toBe(first["linux/amd64"]);
    expect(records["linux/arm64"].digest).toBe(D("c"));
  });
});

describe("the providers", () => {
  const outs = {
    ...REQUEST,
    registryAddress: "r",
    registryUser: "u",
    registryPassword: "p",
    publicKey: "PUB",
    providerVersion: "1",
    sboms: {},
  };
  const { registryAuth: _, ...inputs } = outs;

  test("an image's signature: no change when nothing is new; a new digest or key is a change, never a replace", async () => {
    expect(await imageSignatureProvider.diff!("id", outs, inputs)).toMatchObject({
      changes: false,
      replaces: [],
    });
    for (const news of [
      { ...inputs, index: D("9") },
      { ...inputs, platforms: { ...inputs.platforms, "linux/arm64": D("9") } },
      { ...inputs, publicKey: "OTHER" },
      { ...inputs, registryPassword: "rotated" },
    ])
      expect(await imageSignatureProvider.diff!("id", outs, news)).toMatchObject({
        changes: true,
        replaces: [],
      });
  });

  test("what an update keeps: the records of the same key, repository and code; none of another key", () => {
    const sboms = { "linux/amd64": { digest: D("a"), packages: 1, bytes: 1, sha256: "h" } };
    expect(stillSigned({ ...outs, sboms }, { ...inputs, index: D("9") })).toBe(sboms);
    expect(stillSigned({ ...outs, sboms }, { ...inputs, publicKey: "OTHER" })).toEqual({});
    expect(stillSigned({ ...outs, sboms }, { ...inputs, repository: "elsewhere" })).toEqual({});
  });

  test("the signing key: another given key or password is a new key; the stack's own stays until one is given", async () => {
    const diff = (olds: object, news: object) =>
      signingKeyProvider.diff!("id", olds, { providerVersion: "1", ...news });
    const given = { privateKey: "K1", password: "p", publicKey: "PUB", given: true };
    const made = { privateKey: "M", password: "q", publicKey: "PUB2", given: false };
    const replaced = { changes: true, replaces: ["privateKey"] };
    expect(await diff(given, { privateKey: "K1", password: "p" })).toMatchObject({
      changes: false,
    });
    expect(await diff(given, { privateKey: "K2", password: "p" })).toMatchObject(replaced);
    expect(await diff(given, { privateKey: "K1", password: "p2" })).toMatchObject(replaced);
    // lucid:signingKey removed: the stack makes its own, it does not keep signing with the user's
    expect(await diff(given, { privateKey: "", password: "" })).toMatchObject(replaced);
    expect(await diff(made, { privateKey: "", password: "" })).toMatchObject({ changes: false });
    expect(await diff(made, { privateKey: "K1", password: "p" })).toMatchObject(replaced);
  });

  test("state of code without the refresh (no codeVersion): an update that stores the code, signs nothing", async () => {
    const { codeVersion: _v, ...older } = { ...outs, codeVersion: "2" };
    const news = { ...inputs, codeVersion: "2" };
    expect(await imageSignatureProvider.diff!("id", older, news)).toMatchObject({
      changes: true,
      replaces: [],
    });
    const r = await imageSignatureProvider.update!("id", older, news);
    expect(r.outs).toMatchObject({ codeVersion: "2", sboms: outs.sboms });
    expect(callsMade()).toEqual([]);
    expect(
      await imageSignatureProvider.diff!("id", { ...outs, codeVersion: "2" }, news),
    ).toMatchObject({ changes: false });
  });

  test("new registry credentials alone: stored, nothing signed again", async () => {
    const sboms = { "linux/amd64": { digest: D("a"), packages: 1, bytes: 1, sha256: "h" } };
    const r = await imageSignatureProvider.update!(
      "id",
      { ...outs, sboms },
      { ...inputs, registryPassword: "rotated" },
    );
    expect(r.outs).toMatchObject({ registryPassword: "rotated", sboms });
    expect(callsMade()).toEqual([]);
  });

  test("the index is signed by its digest; a ref without one is refused", () => {
    expect(digestOf(`r:5000/lucid:tag@${D("e")}`)).toBe(D("e"));
    expect(() => digestOf("r:5000/lucid:tag")).toThrow(/is not pinned by digest/);
    expect(() => digestOf("r@sha256:short")).toThrow(/is not pinned by digest/);
  });
});

describe("refresh: what the registry still holds, by the public key alone", () => {
  const sbom = (d: string) => ({ digest: d, packages: 2, bytes: 9, sha256: "h" });
  const signed: SignatureOutputs = {
    repository: REQUEST.repository,
    index: D("0"),
    platforms: { "linux/amd64": D("a"), "linux/arm64": D("b") },
    privateKey: SECRETS.privateKey,
    password: SECRETS.password,
    publicKey: "PUBLIC KEY",
    registryAddress: "10.250.0.1:5001",
    registryUser: "lucid",
    registryPassword: SECRETS.registry,
    providerVersion: "1",
    sboms: { "linux/amd64": sbom(D("a")), "linux/arm64": sbom(D("b")) },
  };
  const { sboms: _, ...inputs } = signed;
  const at = (d: string) => `${REQUEST.repository}@${d}`;
  const read = (props = signed) => imageSignatureProvider.read!("id", props);

  test("all there: the state as it was; asked with the public key, offline, no secret but the login", async () => {
    expect(await read()).toEqual({ id: "id", props: signed });
    expect(summary().sort()).toEqual(
      [
        `cosign verify ${at(D("0"))}`,
        `cosign verify ${at(D("a"))}`,
        `cosign verify ${at(D("b"))}`,
        `cosign verify-attestation ${at(D("a"))}`,
        `cosign verify-attestation ${at(D("b"))}`,
      ].sort(),
    );
    for (const c of callsMade()) {
      expect(c.args).toEqual(expect.arrayContaining(["--key", "--insecure-ignore-tlog=true"]));
      expect([c.key, c.password]).toEqual([undefined, undefined]);
      expect(JSON.stringify(c.args)).not.toMatch(/s3cr3t/);
      expect(Object.keys(c.auths ?? {})).toEqual(["10.250.0.1:5001"]);
    }
  });

  test("a platform's signature gone: refresh drops it; the next up signs that platform and the index alone", async () => {
    process.env.FAKE_UNSIGNED = `verify ${at(D("b"))}`;
    const { props } = await read();
    expect(props).toEqual({
      ...signed,
      platforms: { "linux/amd64": D("a") },
      sboms: { "linux/amd64": signed.sboms["linux/amd64"] },
    });
    expect(await imageSignatureProvider.diff!("id", props, inputs)).toMatchObject({
      changes: true,
      replaces: [],
    });
    delete process.env.FAKE_UNSIGNED;
    fs.rmSync(calls, { force: true });
    const { outs } = await imageSignatureProvider.update!("id", props, inputs);
    expect(summary()).toEqual([
      expect.stringMatching(/^syft scan spdx-json=.*sbom-linux-arm64/),
      `cosign attest ${at(D("b"))}`,
      `cosign sign ${at(D("b"))}`,
      `cosign sign ${at(D("0"))}`,
    ]);
    expect(Object.keys(outs.sboms).sort()).toEqual(["linux/amd64", "linux/arm64"]);
  });

  test("an SBOM attestation gone is a platform to sign again too; the index's signature gone, the index alone", async () => {
    process.env.FAKE_UNSIGNED = `verify-attestation ${at(D("a"))},verify ${at(D("0"))}`;
    const { props } = await read();
    expect(props).toEqual(asFound(signed, { index: false, platforms: ["linux/arm64"] }));
    expect(props).toMatchObject({ index: "", platforms: { "linux/arm64": D("b") } });
    expect(Object.keys(props.sboms)).toEqual(["linux/arm64"]);
    // once lost, the next refresh does not ask for an index it no longer names
    fs.rmSync(calls, { force: true });
    await read(props);
    expect(summary().sort()).toEqual(
      [`cosign verify ${at(D("b"))}`, `cosign verify-attestation ${at(D("b"))}`].sort(),
    );
  });

  test("a registry that does not answer fails the refresh: never read as signatures lost", async () => {
    process.env.FAKE_FAIL = "verify";
    await expect(read()).rejects.toThrow(/cosign verify .*boom: verify/s);
  });
});

describe("the tools", () => {
  test("runTool names a tool that is not there", async () => {
    await expect(runTool("lucid-no-such-tool", ["version"], {})).rejects.toThrow(
      /lucid-no-such-tool could not be run .*: is it on PATH\?/,
    );
  });

  test("runTool stops a tool at its bound", async () => {
    await expect(runTool("sleep", ["5"], {}, 200)).rejects.toThrow(
      /sleep 5 5 was stopped after 0.2 s/,
    );
  });

  test("SPDX packages: the document's own subject is not counted", () => {
    expect(
      spdxPackages(
        JSON.stringify({
          packages: [{ SPDXID: "SPDXRef-DocumentRoot-Image-x" }, { SPDXID: "SPDXRef-Package-a" }],
        }),
      ),
    ).toBe(1);
  });

  test("a missing or broken tool is a config problem naming lucid:signing; off, none", async () => {
    const missing = Object.assign(new Error("spawn cosign ENOENT"), { code: "ENOENT" });
    const problems = await signingToolProblems(true, async (tool) =>
      tool === "cosign"
        ? { status: null, stderr: "", error: missing }
        : { status: 1, stderr: "x\nsyft: bad\n" },
    );
    expect(problems).toEqual([
      "lucid:signing: cosign is not on PATH (scripts/bootstrap.sh builds it into ~/.cache/lucid/bin; put that on PATH), or set lucid:signing false",
      "lucid:signing: `syft version` failed (syft: bad), or set lucid:signing false",
    ]);
    expect(
      await signingToolProblems(false, async () => ({ status: null, stderr: "", error: missing })),
    ).toEqual([]);
    expect(await signingToolProblems(true, async () => ({ status: 0, stderr: "" }))).toEqual([]);
  });
});
