// Changing one service, and breaking it: on the real parts, in its own stack, project and port.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { expectedServices } from "../../components/drift";
import { shellJoin } from "../../components/ssh/commands";
import { PROJECT_DIR } from "../../stacks/workspace";
import { e2eStack, onPiStandIn, tearDown } from "../support/e2e-stack";
import { piDocker, piIds, volumeHashes, waitAllHealthy } from "../support/pi";
import { SERVICE_NAMES } from "../../infra/services";

jest.setTimeout(30 * 60_000);

const PROJECT = "lucid-chg";
const SERVICES = [...SERVICE_NAMES].sort();
let ctx: Awaited<ReturnType<typeof e2eStack>>;
let mainPy: string;
let first: { release: string; api: string }; // the first release, and its api-server image
const DIR = `/home/deploy/${PROJECT}`;

const ids = () => piIds(PROJECT);
const tools = () =>
  (ctx.outputsCache.services as Record<string, { ref: string }>)["server-tools"].ref;

beforeAll(async () => {
  const standIn = onPiStandIn(PROJECT, 18081, "deploy", "linux/amd64");
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

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * What a `--diff` display marks as changing in the rollout: the lines under its resource line,
 * up to the next resource, that start with ~, + or - (unchanged properties are listed too).
 */
function rolloutChanges(stdout: string): string[] {
  const start = stdout.search(/^.*PiRollout: \(update\)/m);
  expect(start).toBeGreaterThanOrEqual(0);
  const rest = stdout.slice(start);
  const next = rest.slice(1).search(/^ {4}[~+-] \S+: \(/m);
  const block = next < 0 ? rest : rest.slice(0, next + 1);
  return block
    .split("\n")
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => /^[~+-] /.test(l));
}

/** The changed lines that name a service other than `service`. */
const othersIn = (changes: string[], service: string) =>
  changes.filter((l) => SERVICES.some((s) => s !== service && l.includes(`${s}`)));

describe("one service's source changes", () => {
  test("preview names only that image and the rollout", async () => {
    fs.appendFileSync(mainPy, "\n# a one-line change\n");
    const updates: string[] = [];
    const onEvent = (e: EngineEvent) => {
      const m = e.resourcePreEvent?.metadata;
      if (m && m.op !== "same" && m.op !== "read")
        updates.push(`${m.op} ${m.urn.split("::").pop()}`);
    };
    const preview = await ctx.stack.preview({ onOutput: ctx.onOutput, onEvent, diff: true });
    expect(updates.sort()).toEqual([
      "update api-server",
      "update api-server-linux-amd64",
      "update api-server-linux-arm64",
      "update lucid-on-pi",
    ]);
    // What changes on the Pi, by service: api-server's image, from its digest to one still to be
    // built (a preview does not build), and nothing of any other service.
    const changes = rolloutChanges(preview.stdout);
    expect(changes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^~ services\s*: \{$/),
        expect.stringMatching(/^~ api-server\s*: \{$/),
        expect.stringMatching(new RegExp(`^~ image\\s*: "${escape(first.api)}" => \\[unknown\\]$`)),
      ]),
    );
    expect(othersIn(changes, "api-server")).toEqual([]);
  });

  test("up restarts only that container; the others keep theirs; its diff gives the new digest", async () => {
    const before = ids();
    const up = await ctx.stack.up({ onOutput: ctx.onOutput, diff: true });
    const api = (up.outputs.services.value as Record<string, { ref: string }>)["api-server"].ref;
    expect(api).not.toBe(first.api);
    const changes = rolloutChanges(up.stdout);
    expect(changes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^~ image\\s*: "${escape(first.api)}" => "${escape(api)}"$`),
        ),
      ]),
    );
    expect(othersIn(changes, "api-server")).toEqual([]);
    const after = ids();
    expect(SERVICES.filter((s) => after[s] !== before[s])).toEqual(["api-server"]);
    expect(await waitAllHealthy(PROJECT, 120)).toEqual(
      Object.fromEntries(SERVICES.map((s) => [s, "healthy"])),
    );
  });
});

describe("one service's environment changes", () => {
  test("preview names the service whose environment changes, never its value", async () => {
    const secret = `chg-secret-${process.pid}`;
    await ctx.stack.setConfig("lucid:serviceEnv", {
      value: JSON.stringify({ "server-tools": { LUCID_TOOLS_NOTE: secret } }),
      secret: true,
    });
    try {
      const preview = await ctx.stack.preview({ onOutput: ctx.onOutput, diff: true });
      const changes = rolloutChanges(preview.stdout);
      expect(changes).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^~ envVersions\s*: \{$/),
          // server-tools gains an environment: its variable's name, and no value
          expect.stringMatching(/^\+ server-tools\s*: "LUCID_TOOLS_NOTE #[0-9a-f]{12}"$/),
        ]),
      );
      expect(othersIn(changes, "server-tools")).toEqual([]);
      expect(preview.stdout).not.toContain(secret);
    } finally {
      await ctx.stack.removeConfig("lucid:serviceEnv");
    }
  });
});

describe("a broken change", () => {
  test("up fails naming the service, and the previous release runs healthy again, its data untouched", async () => {
    const volumesBefore = volumeHashes(PROJECT, tools());
    expect(Object.keys(volumesBefore)).toContain(`${PROJECT}_tor-data`);
    const good = (await ctx.stack.outputs()).release.value as string;
    fs.appendFileSync(mainPy, "\nraise SystemExit('broken on purpose')\n");
    const failed = ctx.stack.up({ onOutput: ctx.onOutput });
    // at once (its process keeps exiting, or Docker has found it unhealthy), not after the
    // health timeout (300 s)
    await expect(failed).rejects.toThrow(
      /rollout of release [0-9a-f]{16} failed: api-server (keeps exiting \(restarted \d+ times|is unhealthy)/,
    );
    const said = String(await failed.catch((e: Error) => e.message));
    const bad = /rollout of release ([0-9a-f]{16}) failed/.exec(said)![1];
    expect(said).toMatch(/its last log lines:\n(.*\n)*.*broken on purpose/); // its own words
    expect(ctx.log.join("")).toContain(`rolled back to release ${good}`);
    // the Pi's own record: from the rollout's start to its end (rollback included), well inside
    // the health timeout
    const record = fs.readFileSync(`${DIR}/rollout.log`, "utf8");
    const at = (what: string) => {
      const stamp = new RegExp(`lucid: (\\S+) rollout of release ${bad} ${what}`).exec(record);
      return Date.parse(stamp![1]);
    };
    expect(at("ends \\(exit 1\\)") - at("begins")).toBeLessThan(90_000);
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

/**
 * `lucid ARGS` on a terminal of its own (`script` gives it a pty), answering its question with
 * `answer` once asked; bounded (10 min).
 */
function inTerminal(args: string[], answer: string): Promise<{ code: number | null; out: string }> {
  const line = shellJoin([
    "node",
    path.join(PROJECT_DIR, "dist", "bin", "lucid.js"),
    ...args,
    "--stack",
    "change",
  ]);
  const child = spawn("script", ["-qefc", line, "/dev/null"], { env: ctx.cliEnv });
  let out = "";
  let answered = false;
  const timer = setTimeout(() => child.kill("SIGKILL"), 10 * 60_000);
  const take = (d: Buffer) => {
    out += d.toString();
    if (!answered && out.includes("Do you want to perform this update")) {
      answered = true;
      child.stdin.write(answer.length === 1 ? answer : `${answer}\r`); // one key: as typed
    }
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    }),
  );
}

describe("the lucid CLI on a stack other than dev", () => {
  test("up shows the preview and, with no terminal to ask on, changes nothing without --yes", async () => {
    const before = ids();
    const current = fs.readlinkSync(`${DIR}/current`);
    // nothing to change: nothing to ask about, and --expect-no-changes holds
    const same = await ctx.cli(["up", "--expect-no-changes"]);
    expect([same.code, same.out.slice(-1500)]).toEqual([0, expect.any(String)]);
    const text = fs.readFileSync(mainPy, "utf8");
    fs.writeFileSync(mainPy, `${text}\n# asked about\n`);
    try {
      const preview = await ctx.cli(["preview", "--expect-no-changes"]);
      expect(preview.code).toBe(1);
      expect(preview.out).toMatch(
        /lucid: no changes were expected for preview but changes were proposed/,
      );
      const asked = await ctx.cli(["up"]);
      expect(asked.code).toBe(1);
      expect(asked.out).toMatch(/api-server[\s\S]*update/); // the preview, shown first
      expect(asked.out).toContain(
        `lucid: stack change: the update above was not confirmed (no terminal to ask on); nothing was changed. Run again with --yes to go on.`,
      );
      expect(ids()).toEqual(before);
      expect(fs.readlinkSync(`${DIR}/current`)).toBe(current);
      const destroy = await ctx.cli(["destroy"]);
      expect(destroy.code).toBe(1);
      expect(destroy.out).toContain("the destroy above was not confirmed");
      expect(ids()).toEqual(before);
      // On a terminal: asked; "no" changes nothing, "yes" rolls the change out.
      for (const key of ["\x04", "\x03"]) {
        // Ctrl-D, Ctrl-C: a no
        const gone = await inTerminal(["up"], key);
        expect([gone.code, gone.out]).toEqual([
          1,
          expect.stringContaining("the update was declined"),
        ]);
      }
      const no = await inTerminal(["up"], "no");
      expect([no.code, no.out]).toEqual([
        1,
        expect.stringContaining("the update was declined; nothing was changed"),
      ]);
      expect(ids()).toEqual(before);
      const yes = await inTerminal(["up"], "yes");
      expect([yes.code, yes.out.slice(-1500)]).toEqual([0, expect.any(String)]);
      const after = ids();
      expect(Object.keys(after).filter((s) => after[s] !== before[s])).toEqual(["api-server"]);
    } finally {
      fs.writeFileSync(mainPy, text);
    }
  });
});
