// The five services run together, hardened as on the Pi (read-only root, no capabilities,
// no-new-privileges), on an internal network: first each platform's set becomes healthy, then
// the arm64 set (what the Pi runs) does its work.
import * as crypto from "crypto";
import * as http from "http";
import * as net from "net";
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

/** Python that lists the listening TCP and bound UDP sockets of its network namespace (/proc/net). */
const LISTENING = `
import json
def rows(name):
    with open("/proc/net/" + name) as f:
        return [line.split() for line in f.read().splitlines()[1:]]
tables = {n: rows(n) for n in ("tcp", "tcp6", "udp", "udp6")}
print(json.dumps({
    "tcp": [r[1] for n in ("tcp", "tcp6") for r in tables[n] if r[3] == "0A"],
    "udp": [r[1] for n in ("udp", "udp6") for r in tables[n]],
}))
`;

/** 127.0.0.11 as /proc/net writes it. */
const DOCKER_DNS = "0B00007F";

const refsFor = (debian: string, platform: string) =>
  Object.fromEntries(
    NAMES.map((n) => [n, pull(repositoryFor(debian), built[debian][n].digests[platform])]),
  );

/** One bounded HTTP request to a container of ours (its address on our internal network). */
/**
 * A connection that sends half a request's headers and then nothing: `closed` settles when the
 * server drops it. Connecting is bounded (10 s).
 */
function slowConnection(host: string, port: number) {
  return new Promise<{ socket: net.Socket; connected: boolean; closed: Promise<void> }>(
    (resolve) => {
      const socket = net.connect({ host, port });
      const closed = new Promise<void>((done) => socket.on("close", () => done()));
      socket.on("error", () => undefined); // a reset is how the server drops it
      const timer = setTimeout(() => resolve({ socket, connected: false, closed }), 10_000);
      socket.on("connect", () => {
        clearTimeout(timer);
        socket.write("GET /health HTTP/1.1\r\nHost: lucid\r\n");
        resolve({ socket, connected: true, closed });
      });
    },
  );
}

/** GET /health on a connection of its own: the status, or the error's code (ECONNRESET). */
function healthStatus(host: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(`http://${host}:8080/health`, { timeout: 5_000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** One request on a connection of its own; the body as JSON when it parses. */
function request(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies the assertions check
): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        timeout: 10_000,
        agent: false, // a connection of its own: none reused after the gateway let it go
        headers: { ...(data ? { "content-type": "application/json" } : {}), ...headers },
      },
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

const bearer = (set: RunningSet) => ({ authorization: `Bearer ${set.apiToken}` });

/** A command in a container succeeded; else fail with what it printed. */
const ok = (r: { code: number; out: string }) => {
  if (r.code !== 0) throw new Error(`exited ${r.code}: ${r.out}`);
};

const SETS = RELEASES.flatMap((d) => ["linux/amd64", "linux/arm64"].map((p) => [p, d] as const));

// One set at a time, started when its tests begin and removed when they end. All four at once
// kept six Python services and their checks running under QEMU beside the set being tested: on
// two cores beside the other test runner, the shipped checks' 10 s ran out three times in a row
// and both arm64 sets went unhealthy (CI, 2026-12-06).
describe.each(SETS)("the set on %s (%s)", (platform, debian) => {
  // The services' own logic (keys, credentials), each release once: on the build machine's own
  // platform, not again under QEMU.
  const nativeOnly = platform === "linux/amd64" ? test : () => undefined;
  let set: RunningSet;
  beforeAll(() => {
    set = startSet(`lucid-t-${debian}-${platform.split("/")[1]}`, refsFor(debian, platform));
  });
  afterAll(() => set?.stop());
  /** Python in a server-tools container of its own, as `user`, with Tor's sockets mounted. */
  const besideSockets = (args: string[], user = "65532:65532") =>
    dockerResult(
      [
        "run",
        "--rm",
        "--network",
        "none",
        "--user",
        user,
        "-v",
        `${set.prefix}-tor-sockets:/run/lucid-tor:ro`,
        "--entrypoint",
        "/usr/bin/python3",
        refsFor(debian, platform)["server-tools"],
        ...args,
      ],
      60_000,
    );
  /** server-tools' SOCKS check through tor-proxy's socket, as the set's services reach it. */
  const socksFromTools = () =>
    set.exec("server-tools", [
      "/usr/bin/python3",
      "-m",
      "lucid_tools",
      "socks",
      "lucid.invalid:80",
      "--handshake-only",
    ]);

  test("every service starts and passes its health check", async () => {
    expect(await waitHealthy(set, NAMES, 240)).toEqual(
      Object.fromEntries(NAMES.map((n) => [n, "healthy"])),
    );
  });

  test("a request through the gateway reaches the API and comes back signed, and it verifies", async () => {
    const gw = `http://${set.ip("api-gateway")}:8080`;
    const signed = await request("POST", `${gw}/api/sign`, { message: "lucid" }, bearer(set));
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

  test("signing needs the bearer token: missing, wrong or malformed get 401, none of it logged", async () => {
    const gw = `http://${set.ip("api-gateway")}:8080`;
    const sign = (headers: Record<string, string>) =>
      request("POST", `${gw}/api/sign`, { message: "lucid" }, headers);
    const token = set.apiToken;
    const wrong = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`; // one character off
    // by name: a failure must not print the token (nor anything of it)
    const refused: [string, Record<string, string>][] = [
      ["no header", {}],
      ["one character off", { authorization: `Bearer ${wrong}` }],
      ["a prefix of it", { authorization: `Bearer ${token.slice(0, -1)}` }],
      ["one character more", { authorization: `Bearer ${token}x` }],
      ["another scheme", { authorization: `Basic ${token}` }],
      ["no scheme", { authorization: token }],
      ["two spaces", { authorization: `Bearer  ${token}` }],
      ["a scheme alone", { authorization: "Bearer" }],
      ["another header", { "x-api-token": token }],
    ];
    const holds = (text: string, secret: string) => text.includes(secret.slice(0, 12));
    for (const [name, headers] of refused) {
      const r = await sign(headers);
      expect({ case: name, status: r.status }).toEqual({ case: name, status: 401 });
      expect(r.headers["www-authenticate"]).toBe("Bearer");
      expect({ case: name, echoed: holds(JSON.stringify(r.json), token) }).toEqual({
        case: name,
        echoed: false,
      });
    }
    expect((await sign({ authorization: `bearer ${token}` })).status).toBe(200); // RFC 7235: any case
    // open: what holds nothing secret
    expect((await request("GET", `${gw}/api/health`)).status).toBe(200);
    expect((await request("GET", `${gw}/api/version`)).status).toBe(200);
    expect((await request("GET", `${gw}/api/public-key`)).status).toBe(200);
    const verdict = await request("POST", `${gw}/api/verify`, {
      message: "m",
      signature: "AA==",
      publicKey: "AA==",
    });
    expect(verdict.json).toEqual({ valid: false });
    // no endpoint hands out private keys
    expect((await request("POST", `${gw}/api/keypairs`, {}, bearer(set))).status).toBe(404);
    for (const service of ["api-server", "api-gateway"])
      expect([service, holds(set.logs(service), token)]).toEqual([service, false]);
    expect(holds(set.logs("api-server"), wrong)).toBe(false);
  });

  nativeOnly(
    "without a token of 32 characters or more configured, signing fails closed (503)",
    () => {
      const check = (token: string | null) =>
        set.exec("api-server", [
          "/usr/bin/python3",
          "-c",
          `import os, sys
token = ${token === null ? "None" : JSON.stringify(token)}
if token is None: os.environ.pop("LUCID_API_TOKEN", None)
else: os.environ["LUCID_API_TOKEN"] = token
from fastapi import HTTPException
from lucid_api import auth
for header in (None, "Bearer " + os.environ.get("LUCID_API_TOKEN", ""), "Bearer "):
    try:
        auth.require_token(header); print("passed")
    except HTTPException as e:
        print(e.status_code)`,
        ]);
      for (const token of [null, "", "t".repeat(31)]) {
        const r = check(token);
        ok(r);
        expect(r.out.trim().split("\n").slice(-3)).toEqual(["503", "503", "503"]);
      }
      const configured = check("t".repeat(32));
      expect(configured.out.trim().split("\n")).toEqual(["401", "passed", "401"]);
    },
  );

  nativeOnly(
    "the signing key: written whole, mode 600; empty or broken, a clear error and an API that starts (503), not a crash",
    () => {
      const r = set.exec("api-server", [
        "/usr/bin/python3",
        "-c",
        `import json, os, pathlib, subprocess, sys, tempfile
from lucid_api import keys
d = pathlib.Path(tempfile.mkdtemp()); k = d / "signing.key"
out = {}
a = keys.load_or_create(k); b = keys.load_or_create(k)
out["mode"] = oct(k.stat().st_mode & 0o777)
out["same"] = keys.public_b64(a.public_key()) == keys.public_b64(b.public_key())
out["errors"] = []
for bad in (b"", k.read_bytes()[:40]):
    k.write_bytes(bad)
    try:
        keys.load_or_create(k); out["errors"].append("loaded")
    except keys.KeyFileError as e:
        out["errors"].append(str(e))
out["files"] = sorted(os.listdir(d))
# the app itself, with that broken key: it starts, and says why at /health
app = subprocess.run([sys.executable, "-c", "from lucid_api import main; r = main.health(); print(r.status_code, r.body.decode())"],
    env={**os.environ, "LUCID_API_STATE": str(d)}, capture_output=True, text=True)
out["app"] = app.stdout.strip(); out["log"] = app.stderr
print(json.dumps(out))`,
      ]);
      ok(r);
      const out = JSON.parse(r.out.trim().split("\n").at(-1)!) as Record<string, unknown>;
      expect(out).toMatchObject({ mode: "0o600", same: true, files: ["signing.key"] });
      const [empty, cut] = out.errors as string[];
      expect(empty).toMatch(/\/signing\.key is empty .*restore it from a backup, or move it aside/);
      expect(cut).toMatch(/\/signing\.key is not a readable PEM private key/);
      expect(out.app).toMatch(
        /^503 \{"status":"error","error":".*signing\.key is not a readable PEM/,
      );
      expect(out.log).toMatch(/signing\.key is not a readable PEM private key/);
    },
  );

  nativeOnly(
    "the onion key: written whole, mode 600, never over one; empty or broken, an error naming the file",
    () => {
      const r = set.exec("tunnel-tools", [
        "/usr/bin/python3",
        "-c",
        `import base64, json, os, pathlib, tempfile
from lucid_tunnel import __main__ as tunnel
d = pathlib.Path(tempfile.mkdtemp()); k = d / "onion_key"; cfg = {"state": d}
out = {"errors": []}
tunnel._write_private(k, base64.b64encode(os.urandom(64)).decode())
out["mode"] = oct(k.stat().st_mode & 0o777); out["read"] = len(tunnel.onion_key(cfg))
try:
    tunnel._write_private(k, "other"); out["overwrote"] = True
except FileExistsError:
    out["overwrote"] = False
for bad in ("", "bm90IGEga2V5"):
    k.write_text(bad)
    try:
        tunnel.onion_key(cfg); out["errors"].append("read")
    except tunnel.KeyFileError as e:
        out["errors"].append(str(e))
out["files"] = sorted(os.listdir(d))
print(json.dumps(out))`,
      ]);
      ok(r);
      const out = JSON.parse(r.out.trim().split("\n").at(-1)!) as Record<string, unknown>;
      expect(out).toMatchObject({
        mode: "0o600",
        read: 88,
        overwrote: false,
        files: ["onion_key"],
      });
      const [empty, notKey] = out.errors as string[];
      expect(empty).toMatch(/\/onion_key is empty: restore it from a backup, or move it aside/);
      expect(notKey).toMatch(/\/onion_key is not an onion key/);
    },
  );

  test("the gateway sets security headers and limits request size", async () => {
    const gw = `http://${set.ip("api-gateway")}:8080`;
    const health = await request("GET", `${gw}/health`);
    expect(health.status).toBe(200);
    expect(health.headers["x-content-type-options"]).toBe("nosniff");
    expect(health.headers["x-frame-options"]).toBe("DENY");
    expect(health.headers.server).toBe("nginx");
    // 64 KiB of body passes the gateway (the API then refuses a message that long: 422); one
    // byte more does not reach it.
    const body = (bytes: number) => ({ message: "x".repeat(bytes - '{"message":""}'.length) });
    const at = await request("POST", `${gw}/api/sign`, body(64 * 1024), bearer(set));
    expect(at.status).toBe(422);
    const over = await request("POST", `${gw}/api/sign`, body(64 * 1024 + 1), bearer(set));
    expect(over.status).toBe(413);
  });

  // nginx's own logic (100 requests passed to Python under QEMU would test QEMU)
  nativeOnly(
    "the gateway's rate limit: a burst of 40 at once, then 20 a second; 429 beyond",
    async () => {
      const gw = `http://${set.ip("api-gateway")}:8080`;
      // the tests before this one used some of the burst: 2 s at 20 a second give all 40 back
      await new Promise((r) => setTimeout(r, 2_500));
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => request("GET", `${gw}/api/health`)),
      );
      const seconds = (Date.now() - started) / 1000;
      const count = (status: number) => answers.filter((a) => a.status === status).length;
      expect(count(200) + count(429)).toBe(100);
      // 1 + the burst at once, and at most 20 more for each second the requests took to arrive
      expect(count(200)).toBeGreaterThanOrEqual(41);
      expect(count(200)).toBeLessThanOrEqual(41 + Math.ceil(seconds * 20));
      expect(count(429)).toBeGreaterThan(0);
    },
  );

  // One client opening hundreds of connections it never finishes (a slowloris; from Tor they all
  // come from one address too), 120 at a time: every request of another client between the rounds
  // is answered (with 256 connections, nginx reset 27 of 50), and the held ones are dropped once
  // client_header_timeout (5 s) has passed.
  nativeOnly(
    "600 half-sent requests from one client: every other request answered; they are dropped",
    async () => {
      const ip = set.ip("api-gateway");
      const held: Awaited<ReturnType<typeof slowConnection>>[] = [];
      const answers: (number | string)[] = [];
      try {
        for (let round = 0; round < 5; round++) {
          held.push(
            ...(await Promise.all(Array.from({ length: 120 }, () => slowConnection(ip, 8080)))),
          );
          answers.push(...(await Promise.all(Array.from({ length: 10 }, () => healthStatus(ip)))));
        }
        expect(held.filter((h) => h.connected).length).toBe(600);
        expect(answers.filter((a) => a !== 200)).toEqual([]);
        const allClosed = Promise.all(held.map((h) => h.closed)).then(() => true);
        const late = new Promise<boolean>((r) => setTimeout(() => r(false), 8_000));
        expect(await Promise.race([allClosed, late])).toBe(true);
      } finally {
        for (const h of held) h.socket.destroy();
      }
    },
  );

  test("the API reports the machine it runs on", async () => {
    const v = await request("GET", `http://${set.ip("api-gateway")}:8080/api/version`);
    expect(v.json.machine).toBe(platform === "linux/arm64" ? "aarch64" : "x86_64");
    expect(v.json.python).toMatch(PYTHON[debian]);
  });

  // Tor listens on no network address: SOCKS and control are Unix sockets in tor-sockets. Read
  // from tor-proxy's own network namespace (/proc/net), nothing listens on TCP or UDP there: no
  // network, not the set's, not a LAN routed through the Pi, reaches it.
  nativeOnly("tor-proxy has no listening socket on any network: no TCP, no UDP", () => {
    const listening = (service: string) => {
      const r = dockerResult(
        [
          "run",
          "--rm",
          "--network",
          `container:${set.prefix}-${service}`,
          "--entrypoint",
          "/usr/bin/python3",
          refsFor(debian, platform)["server-tools"],
          "-c",
          LISTENING,
        ],
        60_000,
      );
      expect(r.code).toBe(0);
      // but the Engine's: its DNS resolver for the network listens in every container, on 127.0.0.11
      const mine = (list: string[]) => list.filter((a) => !a.startsWith(`${DOCKER_DNS}:`));
      const { tcp, udp } = JSON.parse(r.stdout) as { tcp: string[]; udp: string[] };
      return { tcp: mine(tcp), udp: mine(udp) };
    };
    expect(listening("api-gateway").tcp).toContain("00000000:1F90"); // what a listener looks like
    expect(listening("tor-proxy")).toEqual({ tcp: [], udp: [] });
    // and from the set's network, the ports it had once are closed
    for (const port of ["9050", "9051"]) {
      const r = set.exec("server-tools", [
        "/usr/bin/python3",
        "-m",
        "lucid_tools",
        "tcp",
        `tor-proxy:${port}`,
      ]);
      expect({ code: r.code, error: JSON.parse(r.out).error }).toEqual({
        code: 1,
        error: expect.stringMatching(/ConnectionRefusedError/),
      });
    }
  });

  // The sockets' directory is the policy (mode 700, the services' user): another user on a
  // container that mounts the volume is turned away before Tor sees it.
  nativeOnly("Tor's sockets serve the services' user alone", () => {
    const asUser = (user: string) =>
      besideSockets(["-m", "lucid_tools", "socks", "lucid.invalid:80", "--handshake-only"], user);
    const other = asUser("1000:1000");
    expect(other.code).toBe(1);
    expect(other.stdout + other.stderr).toMatch(/Permission denied/);
    const own = asUser("65532:65532");
    expect({ code: own.code, out: JSON.parse(own.stdout) }).toEqual({
      code: 0,
      out: { proxy: "/run/lucid-tor/socks", greeting: "ok" },
    });
  });

  test("tor-proxy accepts SOCKS connections on its socket", () => {
    const r = socksFromTools();
    ok(r);
    expect(JSON.parse(r.out)).toMatchObject({ proxy: "/run/lucid-tor/socks", greeting: "ok" });
  });

  test("tunnel-tools reads Tor's state through its control socket and publishes an onion service", () => {
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

  // Power lost, or Tor killed: its sockets stay in the volume, and Tor, started again, takes
  // their paths back (it unlinks what is there before it binds): no crash loop, SOCKS served.
  // Last of its set: Tor starts over (tunnel-tools publishes again, on its own time).
  nativeOnly(
    "tor-proxy killed outright and started again: its sockets are served again",
    async () => {
      dockerResult(["kill", "--signal", "KILL", `${set.prefix}-tor-proxy`], 30_000);
      const left = besideSockets([
        "-c",
        "import os; print(' '.join(sorted(os.listdir('/run/lucid-tor'))))",
      ]);
      expect(left.stdout.trim()).toBe("control socks"); // what a power cut leaves
      expect(dockerResult(["start", `${set.prefix}-tor-proxy`], 30_000).code).toBe(0);
      expect(await waitHealthy(set, ["tor-proxy"], 60)).toEqual({ "tor-proxy": "healthy" });
      ok(socksFromTools());
    },
  );

  // Last of its set. `docker stop` and a rollout's recreate send SIGTERM, then SIGKILL once the
  // grace period is over (exit 137): a service that ignores the first holds every stop for it.
  test("every service ends at SIGTERM, as docker stop and a rollout send it: exit 0, none killed", async () => {
    // a running set: each has had the time to set up its handling (Python's imports under QEMU)
    expect(await waitHealthy(set, NAMES, 240)).toEqual(
      Object.fromEntries(NAMES.map((n) => [n, "healthy"])),
    );
    const names = NAMES.map((n) => `${set.prefix}-${n}`);
    const stopped = dockerResult(["stop", "--time", "10", ...names], 120_000);
    expect([stopped.code, stopped.stderr]).toEqual([0, ""]);
    const codes = dockerResult(["inspect", "--format", "{{.State.ExitCode}}", ...names], 30_000);
    const exits = Object.fromEntries(NAMES.map((n, i) => [n, codes.stdout.split("\n")[i]]));
    // One known exception, under emulation alone: Debian 13's uvicorn (0.32) raises the SIGTERM it
    // caught again once it has shut down. PID 1 natively ignores it and exits 0 (amd64: 0.4 s);
    // QEMU, emulating the signal's default action, kills itself, which as PID 1 the kernel
    // ignores, and waits for good in sigsuspend: killed at the grace period. Debian 12's uvicorn
    // raises nothing. Expected as it is, so a change shows.
    const emulated = platform === "linux/arm64" && process.arch !== "arm64";
    const qemuHang = debian === "trixie" && emulated ? ["api-server"] : [];
    expect(exits).toEqual(
      Object.fromEntries(NAMES.map((n) => [n, qemuHang.includes(n) ? "137" : "0"])),
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
