// Rollout benchmarks on this machine's real parts (README, "Benchmarks"), printed as a table:
//  1 cold: empty registry, no build cache, the set not on the Pi: `lucid up` against the original
//    workflow's plain commands (bench/plain-workflow.ts), in the same run; the ratio is the figure
//  2 a no-op up: wall time, builds, container restarts
//  3 a one-line change in api-server: wall time to healthy, bytes the Pi received, downtime of
//    the other four services
//  5 downtime of api-server itself during that rollout (it does not answer through the gateway)
// (4, image sizes, is `npm run bench:sizes`.)
// Then 2 and 3 again on each Pi flavour, side by side: Compose 1.29 (`deploy`) and the Compose v2
// plugin (`deploy-v2`), each on a stack of its own brought up first (not measured).
// Usage: npm run bench:rollout [-- --runs 3 --cold-runs 2 --no-cold]
//   --cold-runs: pairs of cold runs; --no-cold: the flavours' figures alone (minutes, not an hour)
// It prunes the buildx builder's cache for the cold runs: the dev stack's next build is cold too.
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { execFileSync, spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { changesOf, e2eStack, onPiStandIn, tearDown } from "../tests/support/e2e-stack";
import { piContainers, piDocker, waitAllHealthy } from "../tests/support/pi";
import { getManifest } from "../tests/support/registry";
import { SERVICE_NAMES } from "../infra/services";
import { trackedConfig } from "../stacks/work-dir";
import { lucidHome } from "../stacks/workspace";
import { plainBuild, plainDown, plainRollout } from "./plain-workflow";

const RUNS = Number(arg("--runs") ?? 3);
const COLD_RUNS = Number(arg("--cold-runs") ?? 1);
const NO_COLD = process.argv.includes("--no-cold");
const PORT = 18083;
const REGISTRY = "10.250.0.1:5000";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const now = () => performance.now() / 1000;
/** The middle value; of an even count, the mean of the two middle ones. */
const median = (xs: number[]) => {
  const ys = [...xs].sort((a, b) => a - b);
  const m = Math.floor(ys.length / 2);
  return ys.length % 2 ? ys[m] : (ys[m - 1] + ys[m]) / 2;
};
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes the Pi stand-in's link has received: what it pulled, and a little SSH. */
const piReceived = () =>
  Number(
    execFileSync(
      "ip",
      ["netns", "exec", "lucid-pi", "cat", "/sys/class/net/eth0/statistics/rx_bytes"],
      {
        encoding: "utf8",
      },
    ),
  );

/** A registry with nothing in it, on its own port and directory (the TLS of scripts/registry.sh). */
async function emptyRegistry(port: number): Promise<{ addr: string; stop: () => void }> {
  const addr = `10.250.0.1:${port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-bench-registry-"));
  const tls = path.join(lucidHome(), "registry", "tls");
  fs.writeFileSync(
    path.join(dir, "config.yml"),
    `version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: ${dir}/data } }\n` +
      `http: { addr: "${addr}", tls: { certificate: ${tls}/server.crt, key: ${tls}/server.key } }\n`,
  );
  fs.mkdirSync(`/etc/docker/certs.d/${addr}`, { recursive: true });
  fs.copyFileSync(path.join(tls, "ca.crt"), `/etc/docker/certs.d/${addr}/ca.crt`);
  const child: ChildProcess = spawn("docker-registry", ["serve", path.join(dir, "config.yml")], {
    stdio: "ignore",
  });
  for (let i = 0; i < 40; i++) {
    try {
      execFileSync("curl", ["-fs", "-o", "/dev/null", `https://${addr}/v2/`], { timeout: 2000 });
      return {
        addr,
        stop: () => {
          child.kill();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch {
      await sleep(500);
    }
  }
  child.kill();
  throw new Error(`the bench's empty registry did not answer on ${addr} within 20 s`);
}

const pruneBuildCache = () =>
  execFileSync("docker", ["buildx", "prune", "--builder", "lucid", "--all", "--force"], {
    stdio: "ignore",
    timeout: 10 * 60_000,
  });

/** Removes the Pi's images from one registry, so the next cold run pulls its own. */
function forgetOnPi(registry: string) {
  const rows = piDocker(["images", "--digests", "--format", "{{.Repository}} {{.ID}}"]).split("\n");
  const ids = rows.filter((r) => r.startsWith(`${registry}/`)).map((r) => r.split(" ")[1]);
  if (ids.length) piDocker(["rmi", "-f", ...new Set(ids)]);
}

/** Where a bench stack runs: its compose project, gateway port and repository. */
interface Place {
  project: string;
  port: number;
  repository: string;
}

/** Answers api-server through the gateway? (bounded to 2 s) */
function apiAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`http://10.250.0.2:${port}/api/version`, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

/** Samples while `work` runs: seconds api-server did not answer, and the others' downtime. */
async function watchDowntime({ project, port }: Place, work: () => Promise<void>) {
  const before = piContainers(project);
  let apiDown = 0;
  let othersDown = 0;
  let done = false;
  const api = (async () => {
    while (!done) {
      const t = now();
      const ok = await apiAnswers(port);
      await sleep(200);
      if (!ok) apiDown += now() - t;
    }
  })();
  const others = (async () => {
    while (!done) {
      const t = now();
      const c = piContainers(project);
      await sleep(250);
      const bad = SERVICE_NAMES.filter((s) => s !== "api-server").some(
        (s) => c[s]?.id !== before[s].id || c[s]?.health !== "healthy",
      );
      if (bad) othersDown += now() - t;
    }
  })();
  await work();
  done = true;
  await Promise.all([api, others]);
  return { apiDown, othersDown };
}

/** A cold run's figures: wall time, of which build and push, and bytes the Pi received. */
interface Cold {
  wall: number;
  build: number;
  rx: number;
}

/** 1 (Lucid's side), and with `warm` 2, 3 and 5, on one stack against its own empty registry. */
async function lucidSide(registry: string, warm: boolean) {
  const standIn = onPiStandIn("lucid-bench", PORT);
  const ctx = await e2eStack(
    "bench",
    { ...standIn, registry: { push: registry, repository: "lucid" } },
    { copyInfra: true },
  );
  try {
    const t = now();
    const rx0 = piReceived();
    let rolloutAt = 0; // the rollout starts once every image is pushed
    const onEvent = (e: EngineEvent) => {
      if (!rolloutAt && e.resourcePreEvent?.metadata.urn.endsWith("::lucid-on-pi"))
        rolloutAt = now();
    };
    await ctx.stack.up({ onOutput: ctx.onOutput, onEvent });
    const cold: Cold = { wall: now() - t, build: rolloutAt - t, rx: piReceived() - rx0 };
    const place = { project: "lucid-bench", port: PORT, repository: "lucid" };
    return { cold, warm: warm ? await warmFigures(ctx, registry, place) : undefined };
  } finally {
    await tearDown(ctx).catch(() => undefined);
  }
}

/** 2, 3 and 5, on a stack whose set runs on the Pi. */
async function warmFigures(
  ctx: Awaited<ReturnType<typeof e2eStack>>,
  registry: string,
  place: Place,
) {
  const { project } = place;
  // 2: no-op ups.
  const noop: number[] = [];
  let noopChanges = 0;
  let noopRestarts = 0;
  for (let i = 0; i < RUNS; i++) {
    const ids = piContainers(project);
    const t = now();
    const r = await ctx.stack.up({ onOutput: ctx.onOutput });
    noop.push(now() - t);
    noopChanges += Object.values(changesOf(r.summary)).reduce((a, b) => a + b, 0);
    const after = piContainers(project);
    noopRestarts += SERVICE_NAMES.filter((s) => after[s].id !== ids[s].id).length;
  }

  // 3 and 5: a one-line change in api-server, RUNS times.
  const mainPy = path.join(ctx.dir, "infra/images/api-server/lucid_api/main.py");
  const change: number[] = [];
  const pulled: number[] = [];
  const newLayers: number[] = [];
  const apiDown: number[] = [];
  const othersDown: number[] = [];
  const armDigest = async () =>
    (
      (await ctx.stack.outputs()).services.value as Record<
        string,
        { digests: Record<string, string> }
      >
    )["api-server"].digests["linux/arm64"];
  const layers = async (digest: string) =>
    (await getManifest(registry, place.repository, digest)).body.layers ?? [];
  for (let i = 0; i < RUNS; i++) {
    const old = new Set((await layers(await armDigest())).map((l) => l.digest));
    fs.appendFileSync(mainPy, `\n# bench change ${Date.now()}\n`);
    const rx = piReceived();
    const d = await watchDowntime(place, async () => {
      const t0 = now();
      await ctx.stack.up({ onOutput: ctx.onOutput });
      change.push(now() - t0);
    });
    pulled.push(piReceived() - rx);
    const fresh = (await layers(await armDigest())).filter((l) => !old.has(l.digest));
    newLayers.push(fresh.reduce((n, l) => n + l.size, 0));
    apiDown.push(d.apiDown);
    othersDown.push(d.othersDown);
  }
  return {
    noop,
    noopChanges,
    noopRestarts,
    change,
    pulled,
    newLayers,
    apiDown,
    othersDown,
  };
}

/** 2, 3 and 5 on one Pi flavour: a stack of its own, its set brought up first (not measured). */
async function flavourFigures(user: "deploy" | "deploy-v2") {
  const place = {
    project: `lucid-bench-${user}`,
    port: user === "deploy" ? 18087 : 18088,
    repository: `lucid-bench-${user}`,
  };
  const ctx = await e2eStack(
    `bench-${user}`,
    {
      ...onPiStandIn(place.project, place.port, user),
      registry: { push: REGISTRY, repository: place.repository },
    },
    { copyInfra: true },
  );
  try {
    await ctx.stack.up({ onOutput: ctx.onOutput });
    return await warmFigures(ctx, REGISTRY, place);
  } finally {
    await tearDown(ctx).catch(() => undefined);
  }
}

/** 1 (the other side): the original workflow's commands against their own empty registry. */
async function plainSide(registry: string, builder: string) {
  try {
    const t = now();
    const rx = piReceived();
    const refs = plainBuild(`${registry}/lucid`, builder);
    const build = now() - t;
    await plainRollout(refs, "lucid-plain", PORT);
    const health = await waitAllHealthy("lucid-plain", 600);
    if (
      !Object.values(health).every((h) => h === "healthy") ||
      Object.keys(health).length < SERVICE_NAMES.length
    )
      throw new Error(`lucid-plain: not all healthy within 600 s: ${JSON.stringify(health)}`);
    return { wall: now() - t, build, rx: piReceived() - rx } satisfies Cold;
  } finally {
    await plainDown("lucid-plain").catch(() => undefined);
  }
}

/** Runs `side` against a fresh empty registry and no build cache; cleans the Pi after. */
async function cold<T>(side: (registry: string) => Promise<T>): Promise<T> {
  pruneBuildCache();
  const reg = await emptyRegistry(5002);
  try {
    return await side(reg.addr);
  } finally {
    forgetOnPi(reg.addr);
    reg.stop();
  }
}

async function main() {
  for (const [name, n] of [
    ["--runs", RUNS],
    ["--cold-runs", COLD_RUNS],
  ] as const)
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number >= 1`);
  const rows: string[][] = [];
  const load = [os.loadavg()[0]];
  const builder = (trackedConfig("dev")["lucid:bases"] as { builder: string }).builder;
  // Pairs of cold runs, Lucid then plain, each from nothing; the warm figures on the first.
  const lucidCold: Cold[] = [];
  const plainCold: Cold[] = [];
  let lucid: Awaited<ReturnType<typeof warmFigures>> | undefined;
  for (let i = 0; i < (NO_COLD ? 0 : COLD_RUNS); i++) {
    const side = await cold((registry) => lucidSide(registry, i === 0));
    lucidCold.push(side.cold);
    lucid ??= side.warm;
    load.push(os.loadavg()[0]);
    console.log(`lucid side: ${JSON.stringify(side)}`); // kept if a later step fails
    plainCold.push(await cold((registry) => plainSide(registry, builder)));
    load.push(os.loadavg()[0]);
    console.log(`plain side: ${JSON.stringify(plainCold[i])}`);
  }
  if (!lucid && !NO_COLD) throw new Error("the first Lucid run measured no warm figures");
  const flavours = [
    ["Compose 1.29 (deploy)", await flavourFigures("deploy")],
    ["Compose v2 (deploy-v2)", await flavourFigures("deploy-v2")],
  ] as const;
  load.push(os.loadavg()[0]);
  const s = (x: number) => `${x.toFixed(1)} s`;
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const kb = (b: number) => `${(b / 1e3).toFixed(0)} kB`;
  if (lucid) coldRows(lucid);
  for (const [flavour, f] of flavours)
    rows.push([
      `2 no-op up, ${flavour}, median of ${RUNS}`,
      s(median(f.noop)),
      `${spread(f.noop)} s; ${f.noopChanges} changes, ${f.noopRestarts} restarts (target < 2 s, 0, 0)`,
    ]);
  for (const [flavour, f] of flavours)
    rows.push([
      `3 one-line change to healthy, ${flavour}, median of ${RUNS}`,
      s(median(f.change)),
      `${spread(f.change)} s; others down ${s(Math.max(...f.othersDown))} at most`,
    ]);
  const [v1, v2] = flavours.map(([, f]) => median(f.change));
  rows.push([
    "3 one-line change: v2 / 1.29",
    (v2 / v1).toFixed(2),
    "target: within 10 % (0.90–1.10)",
  ]);
  printRows();

  function coldRows(lucid: Awaited<ReturnType<typeof warmFigures>>) {
    const { noop, change, pulled, newLayers, apiDown, othersDown } = lucid;
    const [noopChanges, noopRestarts] = [lucid.noopChanges, lucid.noopRestarts];
    const wall = (cs: Cold[]) => cs.map((c) => c.wall);
    const ratios = lucidCold.map((l, i) => l.wall / plainCold[i].wall);
    const of = `median of ${COLD_RUNS}`;
    rows.push([
      `1 cold up (${SERVICE_NAMES.length} services x 2 platforms, push, rollout), ${of}`,
      s(median(wall(lucidCold))),
      `${spread(wall(lucidCold))} s; plain commands ${s(median(wall(plainCold)))} (${spread(wall(plainCold))} s)`,
    ]);
    rows.push([
      "1 cold: ratio Lucid / plain, pair by pair",
      median(ratios).toFixed(2),
      ratios.map((r) => r.toFixed(2)).join(", "),
    ]);
    rows.push([
      `1 cold: build and push, then rollout to healthy, ${of}`,
      `${median(lucidCold.map((c) => c.build)).toFixed(0)} + ${median(lucidCold.map((c) => c.wall - c.build)).toFixed(0)} s`,
      `plain ${median(plainCold.map((c) => c.build)).toFixed(0)} + ${median(plainCold.map((c) => c.wall - c.build)).toFixed(0)} s`,
    ]);
    rows.push([
      "1 cold: bytes the Pi received",
      mb(median(lucidCold.map((c) => c.rx))),
      `plain ${mb(median(plainCold.map((c) => c.rx)))}`,
    ]);
    rows.push([
      `2 no-op up, median of ${RUNS}`,
      s(median(noop)),
      `${spread(noop)} s; ${noopChanges} changes, ${noopRestarts} restarts (target < 15 s, 0, 0)`,
    ]);
    rows.push([
      `3 api-server one-line change to healthy, median of ${RUNS}`,
      s(median(change)),
      `${spread(change)} s`,
    ]);
    rows.push([
      "3 bytes the Pi received for it, median",
      kb(median(pulled)),
      `${pulled.map(kb).join(", ")}; its new layers ${newLayers.map(kb).join(", ")} (compressed)`,
    ]);
    rows.push(["3 downtime of the other four, max", s(Math.max(...othersDown)), "target 0"]);
    rows.push([
      "5 api-server not answering via the gateway, median",
      s(median(apiDown)),
      `${spread(apiDown)} s`,
    ]);
  }

  function printRows() {
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(`\n${"measure".padEnd(width)}  ${"value".padStart(11)}  notes`);
    for (const r of rows) console.log(`${r[0].padEnd(width)}  ${r[1].padStart(11)}  ${r[2]}`);
    console.log(
      `\nload average (1 min) at start / after each side: ${load.map((l) => l.toFixed(2)).join(" / ")} on ${os.cpus().length} cores`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
