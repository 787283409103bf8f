// Changing one service, and breaking it: on the real parts, in its own stack, project and port.
import * as fs from "fs";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { expectedServices } from "../../components/drift";
import { e2eStack, onPiStandIn, tearDown } from "../support/e2e-stack";
import { piDocker, piIds, volumeHashes, waitAllHealthy } from "../support/pi";

jest.setTimeout(30 * 60_000);

const PROJECT = "lucid-chg";
const SERVICES = ["api-gateway", "api-server", "server-tools", "tor-proxy", "tunnel-tools"];
let ctx: Awaited<ReturnType<typeof e2eStack>>;
let mainPy: string;
let first: { release: string; api: string }; // the first release, and its api-server image
const DIR = `/home/deploy/${PROJECT}`;

const ids = () => piIds(PROJECT);
const tools = () =>
  (ctx.outputsCache.services as Record<string, { ref: string }>)["server-tools"].ref;

beforeAll(async () => {
  const standIn = onPiStandIn(PROJECT, 18081);
  ctx = await e2eStack(
    "change",
    { ...standIn, pi: { ...standIn.pi, keepReleases: 2 } },
    { copyInfra: true },
  );
  mainPy = path.join(ctx.dir, "infra", "images", "api-server", "lucid_api", "main.py");
  const result = await ctx.stack.up({ onOutput: ctx.onOutput });
  for (const [k, v] of Object.entries(result.outputs)) ctx.outputsCache[k] = v.value;
  const services = ctx.outputsCache.services as Record<string, { ref: string }>;
  first = { release: ctx.outputsCache.release as string, api: services["api-server"].ref };
});

afterAll(() => tearDown(ctx));

describe("one service's source changes", () => {
  test("preview names only that image and the rollout", async () => {
    fs.appendFileSync(mainPy, "\n# a one-line change\n");
    const updates: string[] = [];
    const onEvent = (e: EngineEvent) => {
      const m = e.resourcePreEvent?.metadata;
      if (m && m.op !== "same" && m.op !== "read")
        updates.push(`${m.op} ${m.urn.split("::").pop()}`);
    };
    await ctx.stack.preview({ onOutput: ctx.onOutput, onEvent, diff: true });
    expect(updates.sort()).toEqual([
      "update api-server",
      "update api-server-linux-amd64",
      "update api-server-linux-arm64",
      "update lucid-on-pi",
    ]);
  });

  test("up restarts only that container; the others keep theirs", async () => {
    const before = ids();
    await ctx.stack.up({ onOutput: ctx.onOutput });
    const after = ids();
    expect(SERVICES.filter((s) => after[s] !== before[s])).toEqual(["api-server"]);
    expect(await waitAllHealthy(PROJECT, 120)).toEqual(
      Object.fromEntries(SERVICES.map((s) => [s, "healthy"])),
    );
  });
});

describe("a broken change", () => {
  test("up fails naming the service, and the previous release runs healthy again, its data untouched", async () => {
    const volumesBefore = volumeHashes(PROJECT, tools());
    expect(Object.keys(volumesBefore)).toContain(`${PROJECT}_tor-data`);
    const good = (await ctx.stack.outputs()).release.value as string;
    fs.appendFileSync(mainPy, "\nraise SystemExit('broken on purpose')\n");
    await expect(ctx.stack.up({ onOutput: ctx.onOutput })).rejects.toThrow(
      /rollout of release [0-9a-f]{16} failed: api-server (is unhealthy|did not become healthy)/,
    );
    expect(ctx.log.join("")).toContain(`rolled back to release ${good}`);
    expect(await waitAllHealthy(PROJECT, 180)).toEqual(
      Object.fromEntries(SERVICES.map((s) => [s, "healthy"])),
    );
    expect(fs.readlinkSync(`/home/deploy/${PROJECT}/current`)).toBe(`releases/${good}`);
    expect(volumeHashes(PROJECT, tools())).toEqual(volumesBefore);
  });
});

describe("older releases", () => {
  test("beyond lucid:pi.keepReleases they go, and the images only they used", async () => {
    // releases so far: the first, the one-line change (current), the broken one (rolled back)
    const current = path.basename(fs.readlinkSync(`${DIR}/current`));
    fs.writeFileSync(
      mainPy,
      fs.readFileSync(mainPy, "utf8").replace("\nraise SystemExit('broken on purpose')\n", "") +
        "\n# another change\n",
    );
    const r = await ctx.stack.up({ onOutput: ctx.onOutput });
    const latest = r.outputs.release.value as string;
    const kept = fs.readdirSync(`${DIR}/releases`);
    // the two newest, and the previous one (a rollback's target) whatever its age
    expect(kept).toHaveLength(3);
    expect(kept).toEqual(expect.arrayContaining([latest, current]));
    expect(kept).not.toContain(first.release);
    const onPi = piDocker(["images", "--digests", "--format", "{{.Repository}}@{{.Digest}}"]);
    expect(onPi.split("\n")).not.toContain(first.api);
    const named = (release: string) =>
      Object.values(
        expectedServices(fs.readFileSync(`${DIR}/releases/${release}/docker-compose.yml`, "utf8")),
      );
    for (const release of kept)
      expect(onPi.split("\n")).toEqual(expect.arrayContaining(named(release)));
    const said = fs.readFileSync(`${DIR}/rollout.log`, "utf8").split(`release ${latest} begins`);
    expect(said.at(-1)).toMatch(/images only older releases used, removed: \d+/);
    expect(await waitAllHealthy(PROJECT, 120)).toEqual(
      Object.fromEntries(SERVICES.map((s) => [s, "healthy"])),
    );
  });
});
