// Changing one service, and breaking it: on the real parts, in its own stack, project and port.
import * as fs from "fs";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { e2eStack, onPiStandIn, tearDown } from "../support/e2e-stack";
import { piContainers, piDocker } from "../support/pi";

jest.setTimeout(30 * 60_000);

const PROJECT = "lucid-chg";
const SERVICES = ["api-gateway", "api-server", "server-tools", "tor-proxy", "tunnel-tools"];
let ctx: Awaited<ReturnType<typeof e2eStack>>;
let mainPy: string;

const ids = () =>
  Object.fromEntries(Object.entries(piContainers(PROJECT)).map(([s, c]) => [s, c.id]));

/** A hash of everything in Tor's volume, read on the Pi by an image of the set. */
function torVolumeHash(): string {
  const tools = (ctx.outputsCache.services as Record<string, { ref: string }>)["server-tools"].ref;
  const program =
    "import hashlib,os\nh=hashlib.sha256()\nfor r,d,f in sorted(os.walk('/v')):\n for n in sorted(f):\n  p=os.path.join(r,n); h.update(p.encode()); h.update(open(p,'rb').read())\nprint(h.hexdigest())";
  return piDocker([
    "run",
    "--rm",
    "--network",
    "none",
    "--entrypoint",
    "/usr/bin/python3",
    "-v",
    `${PROJECT}_tor-data:/v:ro`,
    tools,
    "-c",
    program,
  ]);
}

async function waitAllHealthy(seconds: number): Promise<Record<string, string>> {
  let health: Record<string, string> = {};
  for (let i = 0; i < seconds / 2; i++) {
    health = Object.fromEntries(
      Object.entries(piContainers(PROJECT)).map(([s, c]) => [s, c.health]),
    );
    if (Object.keys(health).length === 5 && Object.values(health).every((h) => h === "healthy"))
      break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  return health;
}

beforeAll(async () => {
  ctx = await e2eStack("change", onPiStandIn(PROJECT, 18081), { copyInfra: true });
  mainPy = path.join(ctx.dir, "infra", "images", "api-server", "lucid_api", "main.py");
  const result = await ctx.stack.up({ onOutput: ctx.onOutput });
  for (const [k, v] of Object.entries(result.outputs)) ctx.outputsCache[k] = v.value;
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
    expect(await waitAllHealthy(120)).toEqual(
      Object.fromEntries(SERVICES.map((s) => [s, "healthy"])),
    );
  });
});

describe("a broken change", () => {
  test("up fails naming the service, and the previous release runs healthy again, Tor's data untouched", async () => {
    const torBefore = torVolumeHash();
    const good = (await ctx.stack.outputs()).release.value as string;
    fs.appendFileSync(mainPy, "\nraise SystemExit('broken on purpose')\n");
    await expect(ctx.stack.up({ onOutput: ctx.onOutput })).rejects.toThrow(
      /rollout of release [0-9a-f]{16} failed: api-server (is unhealthy|did not become healthy)/,
    );
    expect(ctx.log.join("")).toContain(`rolled back to release ${good}`);
    expect(await waitAllHealthy(180)).toEqual(
      Object.fromEntries(SERVICES.map((s) => [s, "healthy"])),
    );
    expect(fs.readlinkSync(`/home/deploy/${PROJECT}/current`)).toBe(`releases/${good}`);
    expect(torVolumeHash()).toBe(torBefore);
  });
});
