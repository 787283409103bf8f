// The five services run together, hardened as on the Pi (read-only root, no capabilities,
// no-new-privileges), on an internal network: first each platform's set becomes healthy, then
// the arm64 set (what the Pi runs) does its work.
import * as crypto from "crypto";
import * as http from "http";
import * as path from "path";
import { SERVICES } from "../../infra/services";
import { preparedImages, RELEASES, repositoryFor, type Built } from "../support/built-images";
import { lucidHome } from "../../stacks/workspace";
import { dockerResult, pull } from "../support/docker";
import { startSet, waitHealthy, type RunningSet } from "../support/lucid-set";

jest.setTimeout(20 * 60_000);
const NAMES = SERVICES.map((s) => s.name);
const built: Record<string, Built> = {};
const PYTHON: Record<string, RegExp> = { bookworm: /^3\.11\./, trixie: /^3\.13\./ };
const PYTHON_APPS = [
  ["api-server", "lucid_api"],
  ["server-tools", "lucid_tools"],
  ["tunnel-tools", "lucid_tunnel"],
];

/** Python that imports every module of `pkg` under `python3 -v` and prints where each came from. */
const importAll = (pkg: string) => `
import json, subprocess, sys
walk = """import importlib, pkgutil, ${pkg}
for m in pkgutil.walk_packages(${pkg}.__path__, "${pkg}."):
    if not m.name.endswith("__main__"): importlib.import_module(m.name)"""
r = subprocess.run([sys.executable, "-v", "-c", walk], capture_output=True, text=True)
lines = r.stderr.splitlines()
loaded = [l[19:].strip("'") for l in lines if l.startswith("# code object from ")]
print(json.dumps({"code": r.returncode, "loaded": loaded, "err": r.stderr[-800:] if r.returncode else ""}))
`;

const refsFor = (debian: string, platform: string) =>
  Object.fromEntries(
    NAMES.map((n) => [n, pull(repositoryFor(debian), built[debian][n].digests[platform])]),
  );

/** One bounded HTTP request to a container of ours (its address on our internal network). */
function request(
  method: string,
  url: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies the assertions check
): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      { method, timeout: 10_000, headers: data ? { "content-type": "application/json" } : {} },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {
            /* plain text */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within 10 s`)));
    req.on("error", reject);
    req.end(data);
  });
}

beforeAll(async () => Object.assign(built, await preparedImages()));

/** A command in a container succeeded; else fail with what it printed. */
const ok = (r: { code: number; out: string }) => {
  if (r.code !== 0) throw new Error(`exited ${r.code}: ${r.out}`);
};

const SETS = RELEASES.flatMap((d) => ["linux/amd64", "linux/arm64"].map((p) => [p, d] as const));

describe.each(SETS)("the set on %s (%s)", (platform, debian) => {
  let set: RunningSet;
  beforeAll(() => {
    set = startSet(`lucid-t-${debian}-${platform.split("/")[1]}`, refsFor(debian, platform));
  });
  afterAll(() => set?.stop());

  test("every service starts and passes its health check", async () => {
    expect(await waitHealthy(set, NAMES, 240)).toEqual(
      Object.fromEntries(NAMES.map((n) => [n, "healthy"])),
    );
  });

  test("a request through the gateway reaches the API and comes back signed, and it verifies", async () => {
    const gw = `http://${set.ip("api-gateway")}:8080`;
    const signed = await request("POST", `${gw}/api/sign`, { message: "lucid" });
    expect(signed.status).toBe(200);
    const { message, signature, publicKey } = signed.json;
    expect(message).toBe("lucid");
    // Verified here, independently of the server: Ed25519 over the raw 32-byte public key.
    const spki = Buffer.concat([
      Buffer.from("302a300506032b6570032100", "hex"),
      Buffer.from(publicKey, "base64"),
    ]);
    const key = crypto.createPublicKey({ key: spki, format: "der", type: "spki" });
    expect(crypto.verify(null, Buffer.from(message), key, Buffer.from(signature, "base64"))).toBe(
      true,
    );
    const verdict = await request("POST", `${gw}/api/verify`, { message, signature, publicKey });
    expect(verdict.json).toEqual({ valid: true });
    const forged = await request("POST", `${gw}/api/verify`, {
      message: "lucid!",
      signature,
      publicKey,
    });
    expect(forged.json).toEqual({ valid: false });
  });

  test("the gateway sets security headers and limits request size", async () => {
    const gw = `http://${set.ip("api-gateway")}:8080`;
    const health = await request("GET", `${gw}/health`);
    expect(health.status).toBe(200);
    expect(health.headers["x-content-type-options"]).toBe("nosniff");
    expect(health.headers["x-frame-options"]).toBe("DENY");
    expect(health.headers.server).toBe("nginx");
    const big = await request("POST", `${gw}/api/sign`, { message: "x".repeat(100_000) });
    expect(big.status).toBe(413);
  });

  test("the API reports the machine it runs on", async () => {
    const v = await request("GET", `http://${set.ip("api-gateway")}:8080/api/version`);
    expect(v.json.machine).toBe(platform === "linux/arm64" ? "aarch64" : "x86_64");
    expect(v.json.python).toMatch(PYTHON[debian]);
  });

  test("tor-proxy accepts SOCKS connections", () => {
    const r = set.exec("server-tools", [
      "/usr/bin/python3",
      "-m",
      "lucid_tools",
      "socks",
      "lucid.invalid:80",
      "--handshake-only",
    ]);
    ok(r);
    expect(JSON.parse(r.out)).toMatchObject({ proxy: "tor-proxy:9050", greeting: "ok" });
  });

  test("tunnel-tools reads Tor's state through the control port and publishes an onion service", () => {
    const status = set.exec("tunnel-tools", ["/usr/bin/python3", "-m", "lucid_tunnel", "status"]);
    ok(status);
    const report = JSON.parse(status.out);
    expect(report.version).toMatch(/^0\.4\./);
    expect(report.bootstrap).toMatch(/TAG=\w+/); // no way out of the test network: it stays low
    expect(report.progress).toBeLessThan(100);
    const published = set.exec("tunnel-tools", [
      "/usr/bin/python3",
      "-m",
      "lucid_tunnel",
      "publish",
    ]);
    ok(published);
    // `run` (the service's command) published it at start; publishing again is safe and stable.
    expect(JSON.parse(published.out)).toMatchObject({ already: true, target: "api-gateway:8080" });
    expect(JSON.parse(published.out).hostname).toMatch(/^[a-z2-7]{56}\.onion$/);
  });

  // The root is read-only: a module without bytecode would be compiled again at every start and
  // every health check. `python3 -v` names where each module's code came from.
  test.each(PYTHON_APPS)(
    "%s: Python compiles nothing it imports (bytecode for all)",
    (service, pkg) => {
      const r = set.exec(service, ["/usr/bin/python3", "-c", importAll(pkg)]);
      ok(r);
      const { code, loaded, err } = JSON.parse(r.out) as {
        code: number;
        loaded: string[];
        err: string;
      };
      expect({ code, err }).toEqual({ code: 0, err: "" });
      expect(loaded.filter((from) => from.endsWith(".py"))).toEqual([]); // compiled from source
      // and the walk did load the service's code and the standard library, from bytecode
      expect(loaded.filter((from) => from.includes(`/app/${pkg}/`)).length).toBeGreaterThan(0);
      expect(
        loaded.filter((from) => /\/usr\/lib\/python3\.\d+\//.test(from)).length,
      ).toBeGreaterThan(10);
    },
  );

  test("server-tools' checks run against local targets", () => {
    const tools = (...args: string[]) =>
      set.exec("server-tools", ["/usr/bin/python3", "-m", "lucid_tools", ...args]);
    expect(JSON.parse(tools("dns", "api-gateway").out).addresses).toEqual([set.ip("api-gateway")]);
    expect(JSON.parse(tools("tcp", "api-server:8000").out)).toMatchObject({ open: true });
    expect(JSON.parse(tools("http", "http://api-gateway:8080/health").out)).toMatchObject({
      status: 200,
    });
    const mongo = tools("mongo-ping", "--uri", "mongodb://mongo.invalid:27017");
    expect(mongo.code).toBe(1);
    expect(JSON.parse(mongo.out).error).toMatch(
      /ServerSelectionTimeoutError|AutoReconnect|ConfigurationError/,
    );
  });
});

test("server-tools checks TLS against the local registry, trusting its CA", () => {
  const ca = path.join(lucidHome(), "registry", "tls", "ca.crt");
  const ref = pull(
    repositoryFor(RELEASES[0]),
    built[RELEASES[0]]["server-tools"].digests["linux/amd64"],
  );
  // Host network: the registry listens on this machine's end of the Pi link.
  const r = dockerResult([
    "run",
    "--rm",
    "--network",
    "host",
    "-v",
    `${ca}:/ca.crt:ro`,
    "--read-only",
    "--cap-drop",
    "ALL",
    ref,
    "tls",
    "10.250.0.1:5000",
    "--cafile",
    "/ca.crt",
  ]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({
    target: "10.250.0.1:5000",
    subject: { commonName: "lucid-registry" },
  });
});
