// A stack's first rollout failing: there is no release to go back to, so none of it is left
// running (half a set, its failing service restarting for ever); its volumes stay; the next `up`,
// fixed, rolls out from there. On the real parts, in its own stack, project and port.
import * as fs from "fs";
import * as path from "path";
import { e2eStack, onPiStandIn, tearDown } from "../support/e2e-stack";
import { piContainers, piIds, piVolumes, waitAllHealthy } from "../support/pi";
import { SERVICE_NAMES, VOLUMES } from "../../infra/services";

jest.setTimeout(30 * 60_000);

const PROJECT = "lucid-first";
const SERVICES = [...SERVICE_NAMES].sort();
const BROKEN = "\nraise SystemExit('broken on purpose')\n";
let ctx: Awaited<ReturnType<typeof e2eStack>>;
let mainPy: string;

beforeAll(async () => {
  ctx = await e2eStack("first", onPiStandIn(PROJECT, 18085, "deploy", "linux/amd64"), {
    copyInfra: true,
  });
  mainPy = path.join(ctx.dir, "infra", "images", "api-server", "lucid_api", "main.py");
});

afterAll(() => tearDown(ctx));

test("a first release that fails leaves no container running, keeps its volumes, and says so", async () => {
  fs.appendFileSync(mainPy, BROKEN);
  const failed = ctx.stack.up({ onOutput: ctx.onOutput });
  await expect(failed).rejects.toThrow(
    /rollout of release [0-9a-f]{16} failed: api-server (keeps exiting \(restarted \d+ times[^)]*\)|is unhealthy); no previous release: its containers were taken down, volumes kept/,
  );
  const said = String(await failed.catch((e: Error) => e.message));
  expect(said).toMatch(/its last log lines:\n(.*\n)*.*broken on purpose/);
  expect(piContainers(PROJECT)).toEqual({});
  expect(piVolumes(PROJECT).sort()).toEqual(VOLUMES.map((v) => `${PROJECT}_${v}`).sort());
  expect(fs.existsSync(`/home/deploy/${PROJECT}/current`)).toBe(false);
});

test("fixed, the next up rolls it out", async () => {
  fs.writeFileSync(mainPy, fs.readFileSync(mainPy, "utf8").replace(BROKEN, ""));
  await ctx.stack.up({ onOutput: ctx.onOutput });
  expect(await waitAllHealthy(PROJECT, 120)).toEqual(
    Object.fromEntries(SERVICES.map((s) => [s, "healthy"])),
  );
});

// Another project or releases directory for a set already on the Pi is refused by the rollout's
// check, naming the key and what to do, before the Pi is touched.
test.each([
  [
    "lucid:pi.project",
    `${PROJECT}-moved`,
    /lucid:pi\.project changes \(lucid-first -> lucid-first-moved\) on the same Pi/,
  ],
  [
    "lucid:pi.dir",
    `/home/deploy/${PROJECT}-moved`,
    /lucid:pi\.dir changes \(\/home\/deploy\/lucid-first -> \/home\/deploy\/lucid-first-moved\) on the same Pi.*Keep it: set lucid:pi\.dir to \/home\/deploy\/lucid-first\./,
  ],
])("%s changed: refused, saying what to do; the Pi keeps its set", async (key, value, said) => {
  const before = piIds(PROJECT);
  const old = (await ctx.stack.getConfig(key, true)).value;
  await ctx.stack.setConfig(key, { value }, true);
  try {
    await expect(ctx.upMeantToFail()).rejects.toThrow(said);
  } finally {
    await ctx.stack.setConfig(key, { value: old }, true);
  }
  expect(piIds(PROJECT)).toEqual(before);
  expect(piContainers(`${PROJECT}-moved`)).toEqual({});
  expect(fs.existsSync(`/home/deploy/${PROJECT}-moved`)).toBe(false);
});
