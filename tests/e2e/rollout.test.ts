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
import { piContainers, piDocker, piNetworks, piVolumes } from "../support/pi";
import { getManifest } from "../support/registry";
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

const AUTH_REGISTRY = "10.250.0.1:5001";
/** A secret for api-server's environment (lucid:serviceEnv). */
const TOKEN = `tok-${randomBytes(12).toString("hex")}`;
const password = () =>
  fs.readFileSync(path.join(lucidHome(), "registry-auth", "password"), "utf8").trim();

beforeAll(async () => {
  const standIn = onPiStandIn(PROJECT, PORT);
  ctx = await e2eStack("e2e", {
    ...standIn,
    registry: { push: AUTH_REGISTRY, repository: PROJECT, username: "lucid" },
  });
  await ctx.stack.setConfig("lucid:registryPassword", { value: password(), secret: true });
  const env = { "api-server": { LUCID_E2E_TOKEN: TOKEN } };
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
    const before = piContainers(PROJECT);
    const result = await ctx.stack.up({ onOutput: ctx.onOutput });
    expect(changesOf(result.summary)).toEqual({});
    const after = piContainers(PROJECT);
    expect(Object.fromEntries(SERVICES.map((s) => [s, after[s].id]))).toEqual(
      Object.fromEntries(SERVICES.map((s) => [s, before[s].id])),
    );
  });

  test("neither the state, the run's output nor the Pi's release holds the key or password", async () => {
    await ctx.stack.refresh({ onOutput: ctx.onOutput }); // a read of the Pi writes state too
    const checkpoint = path.join(ctx.dir, "state", ".pulumi", "stacks", "lucid", "e2e.json");
    const state = fs.readFileSync(checkpoint, "utf8");
    const secrets = [...devMachineKeys().privateKey.split("\n").slice(1, -2), password(), TOKEN];
    expect(secrets.length).toBeGreaterThan(3);
    const release = (await ctx.stack.outputs()).release.value as string;
    const onPi = fs.readFileSync(
      `/home/deploy/${PROJECT}/releases/${release}/docker-compose.yml`,
      "utf8",
    );
    // Booleans, not toContain: a failure must not print the secret it found.
    for (const text of [state, ctx.log.join(""), onPi])
      expect(secrets.some((l) => text.includes(l))).toBe(false);
  });

  test("api-server's secret environment: a 600 file beside the compose file, in its container", async () => {
    const release = (await ctx.stack.outputs()).release.value as string;
    const file = `/home/deploy/${PROJECT}/releases/${release}/api-server.env`;
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("600");
    expect(fs.readFileSync(file, "utf8") === `LUCID_E2E_TOKEN=${TOKEN}\n`).toBe(true);
    const env = piDocker([
      "inspect",
      "-f",
      "{{json .Config.Env}}",
      piContainers(PROJECT)["api-server"].id,
    ]);
    expect((JSON.parse(env) as string[]).includes(`LUCID_E2E_TOKEN=${TOKEN}`)).toBe(true);
    const others = piDocker([
      "inspect",
      "-f",
      "{{json .Config.Env}}",
      piContainers(PROJECT)["tor-proxy"].id,
    ]);
    expect(others.includes("LUCID_E2E_TOKEN")).toBe(false);
  });

  test("a wrong registry password: the Pi's login fails clearly, nothing changes, none printed", async () => {
    const before = piContainers(PROJECT);
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
  });

  test("destroy: the containers and networks are gone from the Pi, the volumes kept", async () => {
    await ctx.stack.destroy({ onOutput: ctx.onOutput });
    expect(piContainers(PROJECT)).toEqual({});
    expect(piNetworks(PROJECT)).toEqual([]);
    expect(piVolumes(PROJECT)).toEqual(VOLUMES.map((v) => `${PROJECT}_${v}`));
  });
});
