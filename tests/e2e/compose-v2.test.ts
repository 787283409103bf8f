// The Pi's other Compose generation on the real parts: the stand-in's user `deploy-v2` has the
// Compose v2 plugin (`docker compose`), as Docker's install script sets a Pi up today, on the same
// Engine and sshd as `deploy` (docker-compose 1.29 alone). The rollout, the drift read and
// destroy pick v2 there without any config. In its own stack, project and port.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { driftReport } from "../../components/drift";
import { SERVICE_NAMES, VOLUMES } from "../../infra/services";
import { refreshDrift } from "../../stacks/drift-check";
import { changesOf, e2eStack, onPiStandIn, repositoryFor, tearDown } from "../support/e2e-stack";
import { AWKWARD_ENV } from "../support/awkward-env";
import {
  piContainerEnv,
  piContainers,
  piDocker,
  piIds,
  piNetworks,
  piVolumes,
  volumeHashes,
  waitAllHealthy,
} from "../support/pi";

jest.setTimeout(30 * 60_000);

const PROJECT = "lucid-v2";
const USER = "deploy-v2";
const DIR = `/home/${USER}/${PROJECT}`;
const SERVICES = [...SERVICE_NAMES].sort();
const ALL_HEALTHY = Object.fromEntries(SERVICES.map((s) => [s, "healthy"]));
const BROKEN = "\nraise SystemExit('broken on purpose')\n";
let ctx: Awaited<ReturnType<typeof e2eStack>>;
let mainPy: string;

/** Compose v2 names a service's container `<project>-<service>-<n>`. */
const name = (service: string) => `${PROJECT}-${service}-1`;
const tools = () => piDocker(["inspect", "-f", "{{.Config.Image}}", name("server-tools")]);
const rolloutLog = () => fs.readFileSync(`${DIR}/rollout.log`, "utf8");

beforeAll(async () => {
  // the stand-in as an amd64 Pi: Compose v2's behaviour is the claim, not the architecture (the
  // arm64 set is rollout's and the images' set test's); the drift file's repository
  const standIn = onPiStandIn(PROJECT, 18086, USER, "linux/amd64");
  const repository = repositoryFor("lucid-e2e", "linux/amd64");
  ctx = await e2eStack(
    "v2",
    { ...standIn, registry: { ...standIn.registry, repository } },
    { copyInfra: true },
  );
  mainPy = path.join(ctx.dir, "infra", "images", "api-server", "lucid_api", "main.py");
  await ctx.stack.setConfig("lucid:serviceEnv", {
    value: JSON.stringify({ "server-tools": AWKWARD_ENV }),
    secret: true,
  });
});

afterAll(() => tearDown(ctx));

test("the stand-in's flavours: deploy-v2 has Compose v2, deploy has only 1.29", () => {
  const as = (user: string, args: string[]) =>
    spawnSync("runuser", ["-u", user, "--", ...args], { encoding: "utf8", timeout: 30_000 });
  expect(as(USER, ["docker", "compose", "version", "--short"]).stdout.trim()).toMatch(/^2\./);
  // every other e2e file runs as deploy: there, `docker compose` is no command, so 1.29 is used
  expect(as("deploy", ["docker", "compose", "version"]).status).not.toBe(0);
  expect(as("deploy", ["docker-compose", "version", "--short"]).stdout.trim()).toMatch(/^1\.29\./);
});

test("up from nothing: all five healthy, in containers Compose v2 named", async () => {
  await ctx.stack.up({ onOutput: ctx.onOutput });
  expect(await waitAllHealthy(PROJECT, 120)).toEqual(ALL_HEALTHY);
  const names = piDocker([
    "ps",
    "--format",
    "{{.Names}}",
    "--filter",
    `label=com.docker.compose.project=${PROJECT}`,
  ]);
  expect(names.split("\n").sort()).toEqual(SERVICES.map(name));
  // v2 labels its containers with its own version
  const version = piDocker([
    "inspect",
    "-f",
    '{{index .Config.Labels "com.docker.compose.version"}}',
    name("api-gateway"),
  ]);
  expect(version).toMatch(/^2\./);
  // v2 gave the container every awkward value as it is (its env-file parser would not)
  const env = piContainerEnv(name("server-tools"));
  expect(Object.fromEntries(Object.keys(AWKWARD_ENV).map((k) => [k, env[k]]))).toEqual(AWKWARD_ENV);
});

test("a second up changes nothing and restarts no container", async () => {
  const started = () =>
    Object.fromEntries(
      SERVICES.map((s) => [
        s,
        piDocker(["inspect", "-f", "{{.State.StartedAt}} {{.RestartCount}}", name(s)]),
      ]),
    );
  const before = started();
  expect(changesOf((await ctx.stack.up({ onOutput: ctx.onOutput })).summary)).toEqual({});
  expect(started()).toEqual(before);
});

test("drift: a container removed and one under a service's name from another image, found and healed", async () => {
  const gateway = piDocker(["inspect", "-f", "{{.Config.Image}}", name("api-gateway")]);
  piDocker(["rm", "-f", name("api-server")]);
  piDocker(["rm", "-f", name("api-gateway")]);
  piDocker([
    "run",
    "-d",
    "--name",
    name("api-gateway"),
    "--entrypoint",
    "/usr/bin/python3",
    tools(),
    "-c",
    "import time; time.sleep(3600)",
  ]);
  const found = await refreshDrift(ctx.stack, { write: true });
  expect((found ?? []).map((d) => d.subject).sort()).toEqual(["api-gateway", "api-server"]);
  expect(driftReport(found ?? [])).toContain(`${name("api-gateway")} from`);
  const before = piIds(PROJECT);
  await ctx.stack.up({ onOutput: ctx.onOutput });
  expect(await waitAllHealthy(PROJECT, 120)).toEqual(ALL_HEALTHY);
  expect(piDocker(["inspect", "-f", "{{.Config.Image}}", name("api-gateway")])).toBe(gateway);
  const after = piIds(PROJECT);
  for (const s of ["tor-proxy", "tunnel-tools", "server-tools"]) expect(after[s]).toBe(before[s]);
  expect(await refreshDrift(ctx.stack, { write: true })).toEqual([]);
});

test("a broken change: fails naming the service, rolled back to the release before, volumes untouched", async () => {
  const good = (await ctx.stack.outputs()).release.value as string;
  const volumes = volumeHashes(PROJECT, tools());
  fs.appendFileSync(mainPy, BROKEN);
  await expect(ctx.stack.up({ onOutput: ctx.onOutput })).rejects.toThrow(
    /rollout of release [0-9a-f]{16} failed: api-server (is unhealthy|keeps exiting \(restarted \d+ times[^)]*\)); rolled back to release /,
  );
  expect(fs.readlinkSync(`${DIR}/current`)).toBe(`releases/${good}`);
  expect(await waitAllHealthy(PROJECT, 180)).toEqual(ALL_HEALTHY);
  expect(volumeHashes(PROJECT, tools())).toEqual(volumes);
  // its last log lines (v2 prefixes them `api-server-1  | `), and no warning between them
  const run = rolloutLog().split(" begins\n").at(-1) ?? ""; // this rollout's lines
  const said =
    run.split(/api-server (?:is unhealthy|keeps exiting [^;]*); its last log lines:/)[1] ?? "";
  expect(said.split("failed: api-server")[0]).toMatch(/^\s+api-server-1\s+\| broken on purpose$/m);
  expect(run).not.toContain("is obsolete");
  fs.writeFileSync(mainPy, fs.readFileSync(mainPy, "utf8").replace(BROKEN, ""));
});

test("destroy: containers and networks gone, the volumes kept", async () => {
  await ctx.stack.destroy({ onOutput: ctx.onOutput });
  expect(piContainers(PROJECT)).toEqual({});
  expect(piNetworks(PROJECT)).toEqual([]);
  expect(piVolumes(PROJECT)).toEqual(VOLUMES.map((v) => `${PROJECT}_${v}`));
});
