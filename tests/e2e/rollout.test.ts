// One `up` from nothing to the Lucid set running healthy on the Pi stand-in (arm64 under QEMU),
// on the real CLI, BuildKit, registry, Engine and sshd; in its own stack, project and port. The
// registry here wants a login (scripts/registry-auth.sh): the build pushes and the Pi pulls with
// the password from a secret config value.
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { devMachineKeys } from "../../stacks/dev-machine";
import { changesOf, e2eStack, onPiStandIn, tearDown } from "../support/e2e-stack";
import {
  piContainerEnv,
  piContainers,
  piDocker,
  piNetworks,
  piVolumes,
  volumeHashes,
  waitAllHealthy,
} from "../support/pi";
import { getManifest } from "../support/registry";
import { curlIn, lanHost, piAddresses, piSubnets } from "../support/lan-host";
import { AWKWARD_ENV } from "../support/awkward-env";
import { filesHolding, filesUnder } from "../support/secrets";
import { lucidHome } from "../../stacks/workspace";
import { SERVICE_NAMES, VOLUMES } from "../../infra/services";

jest.setTimeout(30 * 60_000);

const PROJECT = "lucid-e2e";
const PORT = 18080;
const SERVICES = [...SERVICE_NAMES].sort();
let ctx: Awaited<ReturnType<typeof e2eStack>>;

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 10_000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within 10 s`)));
    req.on("error", reject);
  });
}

/** A bounded JSON POST. */
function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: "POST",
        timeout: 10_000,
        headers: { "content-type": "application/json", ...headers },
      },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within 10 s`)));
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

const AUTH_REGISTRY = "10.250.0.1:5001";
/** A secret for api-server's environment (lucid:serviceEnv). */
const TOKEN = `tok-${randomBytes(12).toString("hex")}`;
const password = () =>
  fs.readFileSync(path.join(lucidHome(), "registry-auth", "password"), "utf8").trim();

beforeAll(async () => {
  const standIn = onPiStandIn(PROJECT, PORT);
  ctx = await e2eStack("e2e", {
    ...standIn,
    pi: { ...standIn.pi, gatewayAddress: "10.250.0.2" }, // the Pi's link address alone
    registry: { push: AUTH_REGISTRY, repository: PROJECT, username: "lucid" },
  });
  await ctx.stack.setConfig("lucid:registryPassword", { value: password(), secret: true });
  const env = { "api-server": { LUCID_E2E_TOKEN: TOKEN, ...AWKWARD_ENV } };
  await ctx.stack.setConfig("lucid:serviceEnv", { value: JSON.stringify(env), secret: true });
});

afterAll(() => tearDown(ctx));

describe("pulumi up of the Lucid set", () => {
  test("from nothing: all five healthy on the Pi, running their arm64 variants", async () => {
    const result = await ctx.stack.up({ onOutput: ctx.onOutput });
    expect(result.summary.result).toBe("succeeded");
    const running = piContainers(PROJECT);
    expect(Object.keys(running).sort()).toEqual(SERVICES);
    for (const s of SERVICES)
      expect([s, running[s].health, running[s].arch]).toEqual([s, "healthy", "arm64"]);
  });

  test("the gateway answers through its published port, and the API behind it", async () => {
    const outputs = await ctx.stack.outputs();
    expect(outputs.gatewayUrl.value).toBe(`http://10.250.0.2:${PORT}/`);
    expect((await get(`${outputs.gatewayUrl.value}health`)).status).toBe(200);
    const version = JSON.parse((await get(`${outputs.gatewayUrl.value}api/version`)).body);
    expect(version.machine).toBe("aarch64");
    // lucid:pi.gatewayAddress: on that address alone; the Pi's others (its loopback) refuse
    const onPi = (url: string) => curlIn(process.env.LUCID_PI_NETNS ?? "lucid-pi", url);
    expect(onPi(`http://10.250.0.2:${PORT}/health`).stdout).toBe("200");
    const loopback = onPi(`http://127.0.0.1:${PORT}/health`);
    expect({ code: loopback.status, http: loopback.stdout }).toEqual({ code: 7, http: "000" }); // refused
  });

  test("signing on the Pi needs the token the stack made: a secret output, 401 without it", async () => {
    const outputs = await ctx.stack.outputs();
    expect(outputs.apiToken.secret).toBe(true);
    const token = outputs.apiToken.value as string;
    expect(/^[A-Za-z0-9_-]{43}$/.test(token)).toBe(true); // a boolean: never print the token
    const sign = `${outputs.gatewayUrl.value}api/sign`;
    expect((await post(sign, { message: "m" })).status).toBe(401);
    expect(
      (await post(sign, { message: "m" }, { authorization: `Bearer ${"x".repeat(43)}` })).status,
    ).toBe(401);
    const signed = await post(sign, { message: "m" }, { authorization: `Bearer ${token}` });
    expect(signed.status).toBe(200);
    expect(JSON.parse(signed.body).message).toBe("m");
  });

  // The attack of issue 14: a LAN machine routes the set's networks through the Pi (one `ip
  // route` each) and tries every service at every address it has. Tor listens on no network
  // address (its SOCKS and control ports are sockets in a volume): a reset, from tor-proxy itself.
  // The internal networks (api-server, tunnel-tools, server-tools, and the gateway's own legs
  // there) drop it. The gateway answers at its published address, and at its address on `edge`:
  // the Pi's Engine (20.10) forwards that one, which Engines from 28 on drop.
  test("from a LAN host routing the set's networks through the Pi, only the gateway answers", () => {
    const lan = lanHost();
    try {
      const subnets = piSubnets(PROJECT);
      expect(Object.keys(subnets).sort()).toEqual(
        ["backend", "edge", "egress", "tor"].map((n) => `${PROJECT}_${n}`),
      );
      lan.route([...Object.values(subnets), "10.250.0.2/32"]);
      const at = (service: string) => piAddresses(piContainers(PROJECT)[service].id);
      const tor = at("tor-proxy");
      const gateway = at("api-gateway");
      const tried: Record<string, string> = {};
      const attempt = (what: string, target: string) => (tried[what] = target);
      for (const [network, address] of Object.entries(tor)) {
        attempt(`tor-proxy SOCKS on ${network}`, `${address}:9050`);
        attempt(`tor-proxy control on ${network}`, `${address}:9051`);
      }
      for (const [network, address] of Object.entries(at("api-server")))
        attempt(`api-server on ${network}`, `${address}:8000`);
      for (const [network, address] of Object.entries(gateway))
        attempt(`api-gateway on ${network}`, `${address}:8080`);
      for (const service of ["tunnel-tools", "server-tools"])
        for (const [network, address] of Object.entries(at(service)))
          attempt(`${service} on ${network}`, `${address}:8080`);
      attempt("the published gateway", `10.250.0.2:${PORT}`);
      const found = lan.reach(Object.values(tried));
      const seen = Object.fromEntries(Object.keys(tried).map((what, k) => [what, found[k]]));
      const egress = `${PROJECT}_egress`;
      const edge = `${PROJECT}_edge`;
      const expected = Object.fromEntries(
        Object.keys(tried).map((what) => {
          if (what === "the published gateway" || what === `api-gateway on ${edge}`)
            return [what, "open"];
          if (what.startsWith("tor-proxy") && what.endsWith(egress)) return [what, "refused"];
          return [what, "no answer"];
        }),
      );
      expect(seen).toEqual(expected);
      expect(lan.get(`http://10.250.0.2:${PORT}/health`)).toBe(200);
    } finally {
      lan.remove();
    }
  });

  // Abuse from one LAN client, on the Pi: 300 half-sent requests (a slowloris) and 100 requests
  // whose body never comes. Another client's /health is answered all along; the gateway drops
  // every held connection on its timeouts, and turns away what one client has in flight past 64.
  test("one LAN client holding hundreds of slow requests: another is served; past 64 in flight, 429", async () => {
    const lan = lanHost();
    try {
      lan.route(["10.250.0.2/32"]);
      const halfSent = lan.slowClient("10.250.0.2", PORT, 300, 30, "headers");
      const noBody = lan.slowClient("10.250.0.2", PORT, 100, 40, "body");
      await new Promise((r) => setTimeout(r, 3_000));
      const answers: number[] = [];
      for (let i = 0; i < 10; i++) {
        answers.push((await get(`http://10.250.0.2:${PORT}/health`)).status);
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(answers).toEqual(Array(10).fill(200));
      const [slow, held] = await Promise.all([halfSent, noBody]);
      expect({ connected: slow.connected, dropped: slow.dropped }).toEqual({
        connected: 300,
        dropped: 300,
      });
      expect({
        connected: held.connected,
        dropped: held.dropped,
        turnedAway: held.statuses["429"],
      }).toEqual({ connected: 100, dropped: 100, turnedAway: 36 });
    } finally {
      lan.remove();
    }
  });

  test("the registry holds a manifest list with both platforms for each service", async () => {
    const login = { username: "lucid", password: password() };
    expect((await getManifest(AUTH_REGISTRY, PROJECT, "api-server")).status).toBe(401);
    for (const s of SERVICES) {
      const { body } = await getManifest(AUTH_REGISTRY, PROJECT, s, login);
      const platforms = body.manifests
        .map((m) => `${m.platform.os}/${m.platform.architecture}`)
        .filter((p) => p !== "unknown/unknown");
      expect([s, platforms.sort()]).toEqual([s, ["linux/amd64", "linux/arm64"]]);
    }
  });

  test("outputs name each service's deployed digest and the release", async () => {
    const outputs = await ctx.stack.outputs();
    const running = piContainers(PROJECT);
    const services = outputs.services.value as Record<string, { ref: string }>;
    expect(Object.keys(services).sort()).toEqual(SERVICES);
    expect(services["api-server"].ref).toMatch(
      /^10\.250\.0\.1:5001\/lucid-e2e@sha256:[0-9a-f]{64}$/,
    );
    expect(outputs.release.value).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.keys(running)).toHaveLength(SERVICE_NAMES.length);
  });

  test("a second up with nothing changed: no resource updated, no container restarted", async () => {
    // A restart keeps a container's id: its start time and restart count tell.
    const lives = () => {
      const running = piContainers(PROJECT);
      return Object.fromEntries(
        SERVICES.map((s) => [
          s,
          `${running[s].id} ${piDocker(["inspect", "-f", "{{.State.StartedAt}} {{.RestartCount}}", running[s].id])}`,
        ]),
      );
    };
    const before = lives();
    const result = await ctx.stack.up({ onOutput: ctx.onOutput });
    expect(changesOf(result.summary)).toEqual({});
    expect(lives()).toEqual(before);
  });

  test("no secret in any state file (history and backups too), the run's output or any file on the Pi, in any encoding", async () => {
    await ctx.stack.refresh({ onOutput: ctx.onOutput }); // a read of the Pi writes state too
    const apiToken = (await ctx.stack.outputs()).apiToken.value as string;
    const keyLines = devMachineKeys().privateKey.split("\n").slice(1, -2);
    expect(keyLines.length).toBeGreaterThan(2);
    const secrets: Record<string, string> = {
      ...Object.fromEntries(keyLines.map((l, i) => [`deploy key line ${i + 1}`, l])),
      "registry password": password(),
      "lucid:serviceEnv value": TOKEN,
      "API token": apiToken,
    };
    const state = filesUnder(path.join(ctx.dir, "state"));
    expect(state.filter((f) => f.file.includes("history")).length).toBeGreaterThan(0);
    expect(state.filter((f) => f.file.includes("backups")).length).toBeGreaterThan(0);
    const onPi = filesUnder(`/home/deploy/${PROJECT}`);
    const envFiles = onPi.filter((f) => f.file.endsWith("/environment"));
    expect(envFiles.length).toBeGreaterThanOrEqual(1);
    const log = [{ file: "the run's output", text: ctx.log.join("") }];
    expect(
      filesHolding([...state, ...log, ...onPi.filter((f) => !envFiles.includes(f))], secrets),
    ).toEqual([]);
    // The releases' environment files hold api-server's two values, and nothing else does.
    const holders = filesHolding(envFiles, secrets).map((h) =>
      h.replace(/.*\/(releases\/[0-9a-f]+|current)\//, ""),
    );
    expect([...new Set(holders)].sort()).toEqual([
      "environment: API token",
      "environment: lucid:serviceEnv value",
    ]);
  });

  test("api-server's secret environment: a 600 file beside the compose file, in its container byte for byte", async () => {
    const release = (await ctx.stack.outputs()).release.value as string;
    const file = `/home/deploy/${PROJECT}/releases/${release}/environment`;
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("600");
    const apiToken = (await ctx.stack.outputs()).apiToken.value as string;
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const has = (name: string, value: string) =>
      lines.includes(`LUCID_ENV_api_server__${name}=${value}`);
    expect([has("LUCID_API_TOKEN", apiToken), has("LUCID_E2E_TOKEN", TOKEN)]).toEqual([true, true]);
    // compose 1.29 gave the container every awkward value as it is (its env-file parser would not)
    const running = piContainers(PROJECT);
    const env = piContainerEnv(running["api-server"].id);
    expect(Object.fromEntries(Object.keys(AWKWARD_ENV).map((k) => [k, env[k]]))).toEqual(
      AWKWARD_ENV,
    );
    expect([env.LUCID_E2E_TOKEN === TOKEN, env.LUCID_API_TOKEN === apiToken]).toEqual([true, true]);
    // the compose file names the variables, never a value
    const compose = fs.readFileSync(
      `/home/deploy/${PROJECT}/releases/${release}/docker-compose.yml`,
      "utf8",
    );
    expect(compose).toContain("- LUCID_E2E_TOKEN=${LUCID_ENV_api_server__LUCID_E2E_TOKEN}");
    expect([compose.includes(TOKEN), compose.includes(apiToken)]).toEqual([false, false]);
    for (const other of SERVICES.filter((s) => s !== "api-server")) {
      const names = Object.keys(piContainerEnv(running[other].id));
      const leaked = names.some((n) => n.startsWith("AWK_") || /^LUCID_(E2E|API)_TOKEN$/.test(n));
      expect([other, leaked]).toEqual([other, false]);
    }
  });

  test("a new lucid:apiTokenRotation: a new token, api-server alone recreated, the old token refused", async () => {
    const before = piContainers(PROJECT);
    const old = (await ctx.stack.outputs()).apiToken.value as string;
    await ctx.stack.setConfig("lucid:apiTokenRotation", { value: "1" });
    const result = await ctx.stack.up({ onOutput: ctx.onOutput });
    expect(changesOf(result.summary)).toEqual({ replace: 1, update: 1 });
    const token = result.outputs.apiToken.value as string;
    expect(token === old).toBe(false);
    const after = piContainers(PROJECT);
    const recreated = SERVICES.filter((s) => after[s].id !== before[s].id);
    expect(recreated).toEqual(["api-server"]);
    const sign = `${result.outputs.gatewayUrl.value}api/sign`;
    expect((await post(sign, { message: "m" }, { authorization: `Bearer ${old}` })).status).toBe(
      401,
    );
    expect((await post(sign, { message: "m" }, { authorization: `Bearer ${token}` })).status).toBe(
      200,
    );
  });

  test("a wrong registry password: the Pi's login fails clearly, nothing changes, none printed", async () => {
    const before = piContainers(PROJECT);
    const services = (await ctx.stack.outputs()).services.value as Record<string, { ref: string }>;
    const tools = services["server-tools"].ref;
    const volumes = volumeHashes(PROJECT, tools);
    const wrong = `wrong-${randomBytes(8).toString("hex")}`;
    await ctx.stack.setConfig("lucid:registryPassword", { value: wrong, secret: true });
    await ctx.stack.setConfig("lucid:pi.gatewayPort", { value: String(PORT + 100) }, true);
    const failed = ctx.stack.up({ onOutput: ctx.onOutput });
    await expect(failed).rejects.toThrow(
      /the Pi could not log in to registry 10\.250\.0\.1:5001 as lucid/,
    );
    const said = String(await failed.catch((e: Error) => e.message)) + ctx.log.join("");
    expect(said.includes(wrong) || said.includes(password())).toBe(false);
    expect(piContainers(PROJECT)).toEqual(before);
    await ctx.stack.setConfig("lucid:registryPassword", { value: password(), secret: true });
    await ctx.stack.setConfig("lucid:pi.gatewayPort", { value: String(PORT) }, true);
    expect(changesOf((await ctx.stack.up({ onOutput: ctx.onOutput })).summary)).toEqual({});
    expect(await waitAllHealthy(PROJECT, 120)).toEqual(
      Object.fromEntries(SERVICES.map((s) => [s, "healthy"])),
    );
    expect(volumeHashes(PROJECT, tools)).toEqual(volumes);
  });

  test("destroy: the containers and networks are gone from the Pi, the volumes kept", async () => {
    await ctx.stack.destroy({ onOutput: ctx.onOutput });
    expect(piContainers(PROJECT)).toEqual({});
    expect(piNetworks(PROJECT)).toEqual([]);
    expect(piVolumes(PROJECT)).toEqual(VOLUMES.map((v) => `${PROJECT}_${v}`));
  });
});
