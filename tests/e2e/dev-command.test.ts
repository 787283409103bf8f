// README command 1, as a newcomer runs it: scripts/dev-up.sh brings up the local parts and runs
// `pulumi up` of the dev stack; run again, it changes nothing.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SERVICE_NAMES } from "../../infra/services";
import { piContainers, piDocker, waitAllHealthy } from "../support/pi";
import { dockerResult, PI_ENGINE } from "../support/docker";

jest.setTimeout(30 * 60_000);
const ROOT = path.resolve(__dirname, "..", "..");

// The whole suite stops the dev set while the other files run (scripts/test.sh, for the CPU its
// health checks take), and starts it again when its side jest ends. Started here if it is still
// stopped, and healthy in any case, as it was, before command 1 runs on it.
beforeAll(async () => {
  const stopped = path.join(process.env.LUCID_RUN ?? "/run/lucid", "dev-set-stopped");
  let ids: string[] = [];
  try {
    ids = fs.readFileSync(stopped, "utf8").split("\n").filter(Boolean);
  } catch {
    // not stopped, or started again by scripts/test.sh a moment ago
  }
  if (ids.length > 0) {
    piDocker(["start", ...ids]);
    fs.rmSync(stopped, { force: true });
  }
  // not all healthy (starting, or not started again): waited for, bounded, and named if it fails
  const set = Object.values(piContainers("lucid"));
  if (ids.length > 0 || set.some((c) => c.health !== "healthy")) {
    const health = await waitAllHealthy("lucid", 240);
    expect(health).toEqual(Object.fromEntries(SERVICE_NAMES.map((s) => [s, "healthy"])));
  }
});

/** An empty directory to run the CLI in: neither it nor its program uses the working directory. */
const ELSEWHERE = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-elsewhere-"));
afterAll(() => fs.rmSync(ELSEWHERE, { recursive: true, force: true }));

/** README: `npm run lucid -- <command> --stack dev`, as a newcomer runs it (from ELSEWHERE). */
const lucid = (...args: string[]) => {
  const r = spawnSync("node", [path.join(ROOT, "dist", "bin", "lucid.js"), ...args], {
    cwd: ELSEWHERE,
    encoding: "utf8",
    timeout: 10 * 60_000,
    env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: undefined },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

const devUp = () => {
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "dev-up.sh")], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 25 * 60_000,
    env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: undefined },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

describe("scripts/dev-up.sh (README command 1)", () => {
  test("ends with a successful pulumi up of the dev stack, the set running on the Pi", () => {
    const { code, out } = devUp();
    if (code !== 0) console.log(out.slice(-4000));
    expect(code).toBe(0);
    expect(out).toMatch(/gatewayUrl\s*: "http:\/\/10\.250\.0\.2:8080\/"/);
  });

  test("run again on the unchanged program, it reports no changes", () => {
    const { code, out } = devUp();
    expect(code).toBe(0);
    expect(out).toMatch(/Resources:\n\s+\d+ unchanged\n/);
    expect(out).not.toMatch(/[~+-] \d+ (updated|created|deleted)/);
  });

  test("npm run drift: exit 0 with no drift; 2 naming a stopped container; up --refresh heals", () => {
    expect(lucid("drift", "--stack", "dev")).toEqual({
      code: 0,
      out: "no drift: the Pi runs what was rolled out\n",
    });
    expect(dockerResult(["stop", "lucid_api-gateway_1"], 120_000, PI_ENGINE).code).toBe(0);
    try {
      const drifted = lucid("drift", "--stack", "dev");
      expect(drifted.code).toBe(2);
      expect(drifted.out).toContain("api-gateway  expected running; found exited");
      const healed = lucid("up", "--refresh", "--stack", "dev");
      expect(healed.code).toBe(0);
      expect(healed.out).toContain("drift: 1 difference on the Pi");
      expect(lucid("drift", "--stack", "dev").code).toBe(0);
    } finally {
      // healed above; if this test failed first, the next run must not find the set broken (its
      // exit not checked: an error of its own must not hide the one that failed the test)
      dockerResult(["start", "lucid_api-gateway_1"], 120_000, PI_ENGINE);
    }
  });

  test("lucid config set: the value persists across runs (the dev stack's file is merged, not rewritten)", () => {
    const get = () => lucid("config", "get", "--path", "lucid:pi.keepReleases", "--stack", "dev");
    expect(get().code).not.toBe(0); // the tracked file sets none
    const set = lucid("config", "set", "--path", "lucid:pi.keepReleases", "4", "--stack", "dev");
    expect(set).toEqual({ code: 0, out: "" });
    // each run of the CLI merges the tracked file into the dev stack's anew: the value stays
    expect(get()).toEqual({ code: 0, out: "4\n" });
    expect(lucid("config", "rm", "--path", "lucid:pi.keepReleases", "--stack", "dev").code).toBe(0);
    expect(get().code).not.toBe(0);
    expect(lucid("config", "frob", "--stack", "dev")).toMatchObject({ code: 1 });
    expect(lucid("config", "set", "pi.host", "x", "--stack", "dev").out).toContain(
      "the key given is not lucid:<name>",
    );
  });
});
