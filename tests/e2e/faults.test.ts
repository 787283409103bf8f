// Faults injected by the test itself on the real parts: a changed host key, a wrong deploy key,
// the registry down during a push, the SSH link cut in the health gate, the Pi unreachable
// during refresh, the Pi's Engine restarted, two ups at once, a rollout already running on the
// Pi, its disk full during a pull, a service that never becomes healthy. Each case ends with the
// Pi running a known release, all healthy, and every volume byte-identical to before. It stops
// shared daemons: it never runs beside another test file.
import { execFileSync, spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { devMachineKeys } from "../../stacks/dev-machine";
import { refreshDrift } from "../../stacks/drift-check";
import { lucidHome, PROJECT_DIR } from "../../stacks/workspace";
import { e2eStack, onPiStandIn, repositoryFor, tearDown } from "../support/e2e-stack";
import { PI_ENGINE } from "../support/docker";
import { startMongo } from "../support/mongo";
import { piDocker, piIds, volumeHashes, waitAllHealthy } from "../support/pi";
import { SERVICE_NAMES, VOLUMES } from "../../infra/services";

jest.setTimeout(30 * 60_000);

const PROJECT = "lucid-faults";
const DIR = `/home/deploy/${PROJECT}`;
/** The Pi's rollout lock (an flock on this file) and who holds it. */
const LOCK = `${DIR}/.rollout.lock`;
const SERVICES = [...SERVICE_NAMES].sort();
const ALL_HEALTHY = Object.fromEntries(SERVICES.map((s) => [s, "healthy"]));
let ctx: Awaited<ReturnType<typeof e2eStack>>;
let tools: string;
let volumes: Record<string, string>;
let nginxConf: string;

/** A change to api-gateway (quick to become healthy): a new image, a new release. */
const changeGateway = () => fs.appendFileSync(nginxConf, `\n# change ${Date.now()}\n`);
const release = async () => (await ctx.stack.outputs()).release.value as string;
const sh = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: "utf8", timeout: 120_000 });
const script = (name: string) => sh("bash", [path.join(PROJECT_DIR, "scripts", name)]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `check` holds. */
async function until(what: string, seconds: number, check: () => boolean) {
  for (let i = 0; i < seconds * 4; i++) {
    if (check()) return;
    await sleep(250);
  }
  throw new Error(`${what}: not within ${seconds} s`);
}

/** The known good state every case ends in. */
async function expectGood(want?: string) {
  expect(await waitAllHealthy(PROJECT, 240)).toEqual(ALL_HEALTHY);
  if (want) expect(fs.readlinkSync(`${DIR}/current`)).toBe(`releases/${want}`);
  expect(volumeHashes(PROJECT, tools)).toEqual(volumes);
}

/**
 * A real dump in tools-data, as an operator makes one: a MongoDB (FerretDB) beside the set on
 * the Pi's backend network, a collection written through the toolbox's pymongo, then the
 * toolbox's `mongo-dump`; the MongoDB removed after. Its report.
 */
async function dumpOnThePi(): Promise<{ collections: Record<string, number> }> {
  const mongo = await startMongo(`lucid-test-mongo-${PROJECT}`, `${PROJECT}_backend`, PI_ENGINE);
  try {
    const toolbox = piIds(PROJECT)["server-tools"];
    const python = (...args: string[]) =>
      piDocker(["exec", toolbox, "/usr/bin/python3", ...args], 300_000);
    python(
      "-c",
      `import os; from pymongo import MongoClient
MongoClient("mongodb://mongo:27017")["lucid"]["keys"].insert_many(
    [{"n": i, "blob": os.urandom(700)} for i in range(300)])`,
    );
    return JSON.parse(python("-m", "lucid_tools", "mongo-dump", "--db", "lucid"));
  } finally {
    piDocker(["rm", "-f", "-v", mongo]);
  }
}

beforeAll(async () => {
  // the drift file's repository: the same sources build the same digests, nothing new to push
  const standIn = onPiStandIn(PROJECT, 18084, "deploy", "linux/amd64");
  const repository = repositoryFor("lucid-e2e", "linux/amd64");
  ctx = await e2eStack(
    "faults",
    { ...standIn, registry: { ...standIn.registry, repository } },
    { copyInfra: true },
  );
  nginxConf = path.join(ctx.dir, "infra", "images", "api-gateway", "nginx.conf");
  const result = await ctx.stack.up({ onOutput: ctx.onOutput });
  tools = (result.outputs.services.value as Record<string, { ref: string }>)["server-tools"].ref;
  await waitAllHealthy(PROJECT, 240);
  const empty = volumeHashes(PROJECT, tools);
  expect((await dumpOnThePi()).collections).toEqual({ keys: 300 });
  volumes = volumeHashes(PROJECT, tools);
  expect(Object.keys(volumes)).toHaveLength(VOLUMES.length);
  // the dump is in what every case compares: tools-data's hash moved, no other volume's
  const moved = Object.keys(volumes).filter((v) => volumes[v] !== empty[v]);
  expect(moved).toEqual([`${PROJECT}_tools-data`]);
});

afterAll(() => tearDown(ctx));

describe("faults", () => {
  test("a changed host key: the rollout refuses to connect and says so; nothing runs", async () => {
    const before = piIds(PROJECT);
    const good = await release();
    const other = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lucid-key-")), "k");
    sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const otherKey = fs.readFileSync(`${other}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
    await ctx.stack.setConfig("lucid:pi.hostKey", { value: otherKey }, true);
    await expect(ctx.upMeantToFail()).rejects.toThrow(
      /host key does not match the pinned pi\.hostKey; refusing to connect/,
    );
    expect(piIds(PROJECT)).toEqual(before);
    await ctx.stack.setConfig("lucid:pi.hostKey", { value: devMachineKeys().hostKey }, true);
    await expectGood(good);
  });

  test("a wrong deploy key: a clear error, no key printed; the right one then rolls out", async () => {
    const good = await release();
    const before = piIds(PROJECT);
    const wrong = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lucid-key-")), "k");
    sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", wrong]);
    const wrongKey = fs.readFileSync(wrong, "utf8");
    await ctx.stack.setConfig("lucid:sshPrivateKey", { value: wrongKey, secret: true });
    changeGateway();
    const failed = ctx.upMeantToFail();
    await expect(failed).rejects.toThrow(/All configured authentication methods failed/);
    const said = String(await failed.catch((e: Error) => e.message)) + ctx.log.join("");
    expect(said.includes(wrongKey.split("\n")[1])).toBe(false);
    expect(piIds(PROJECT)).toEqual(before);
    expect(fs.readlinkSync(`${DIR}/current`)).toBe(`releases/${good}`);
    await ctx.stack.setConfig("lucid:sshPrivateKey", {
      value: devMachineKeys().privateKey,
      secret: true,
    });
    await ctx.stack.up({ onOutput: ctx.onOutput });
    await expectGood(await release());
  });

  test("the registry down during the push: up fails clearly, the Pi keeps its release", async () => {
    const good = await release();
    const before = piIds(PROJECT);
    process.kill(Number(fs.readFileSync("/run/lucid/registry.pid", "utf8")), "SIGTERM");
    try {
      await until("registry stopped", 20, () => {
        const r = spawnSync("curl", ["-s", "-o", "/dev/null", "https://10.250.0.1:5000/v2/"]);
        return r.status !== 0;
      });
      changeGateway();
      await expect(ctx.upMeantToFail()).rejects.toThrow(
        /10\.250\.0\.1:5000[\s\S]*(connection refused|connect:)/,
      );
      expect(piIds(PROJECT)).toEqual(before);
      expect(fs.readlinkSync(`${DIR}/current`)).toBe(`releases/${good}`);
    } finally {
      script("registry.sh");
    }
    await ctx.stack.up({ onOutput: ctx.onOutput });
    expect(await release()).not.toBe(good);
    await expectGood(await release());
  });

  // The link cut in the health gate (every SSH session of the deploy user killed; sshd itself
  // stays): the rollout runs on, detached, to its own end; the client reaches the Pi again and
  // follows the same run, so the outcome it reports is the Pi's. (A cut at each other step, and
  // a Pi that reboots: tests/unit/rollout-program/link-cut.test.ts, on a fake Docker.)
  const cutInTheGate = async (up: Promise<unknown>) => {
    const from = fs.readFileSync(`${DIR}/rollout.log`, "utf8").length;
    const thisRun = () => fs.readFileSync(`${DIR}/rollout.log`, "utf8").slice(from);
    await until("the rollout's health gate", 300, () =>
      thisRun().includes("its health gate waits"),
    );
    spawnSync("pkill", ["-KILL", "-u", "deploy", "sshd"]);
    await up.catch(() => undefined);
    return thisRun();
  };

  test("the SSH link cut in the health gate of a good change: the rollout ends on the Pi, up reports it committed", async () => {
    const good = await release();
    changeGateway();
    const up = ctx.stack.up({ onOutput: ctx.onOutput });
    const record = await cutInTheGate(up);
    await up; // the outcome learnt from the Pi: committed
    const now = await release();
    expect(now).not.toBe(good);
    expect(record).toMatch(
      new RegExp(
        `release ${now} is up; its health gate[\\s\\S]*followed again by its caller, after a lost link[\\s\\S]*rollout of release ${now} ends \\(exit 0\\)`,
      ),
    );
    for (const r of fs.readdirSync(`${DIR}/releases`)) {
      const file = `${DIR}/releases/${r}/docker-compose.yml`;
      expect([r, Object.keys(parse(fs.readFileSync(file, "utf8")).services).length]).toEqual([
        r,
        5,
      ]);
    }
    await expectGood(now);
  });

  test("the SSH link cut in the health gate of a change never healthy: rolled back on the Pi, up says so", async () => {
    const good = await release();
    const conf = fs.readFileSync(nginxConf, "utf8");
    fs.writeFileSync(nginxConf, conf.replace("listen 8080;", "listen 8081;")); // the probe asks 8080
    await ctx.stack.setConfig("lucid:pi.healthTimeout", { value: "10" }, true);
    try {
      const up = ctx.upMeantToFail();
      const record = await cutInTheGate(up);
      await expect(up).rejects.toThrow(
        /api-gateway did not become healthy within 10 s; rolled back to release/,
      );
      expect(record).toMatch(
        /followed again by its caller, after a lost link[\s\S]*rolled back to release[\s\S]*ends \(exit 1\)\n$/,
      );
    } finally {
      fs.writeFileSync(nginxConf, conf);
      await ctx.stack.removeConfig("lucid:pi.healthTimeout", true);
    }
    await expectGood(good);
  });

  test("an unreachable Pi: refresh fails clearly and never reads the rollout as gone", async () => {
    const good = await release();
    const sshd = Number(fs.readFileSync("/run/lucid/sshd-pi.pid", "utf8").trim());
    process.kill(sshd, "SIGTERM");
    try {
      await until("sshd stopped", 20, () => !fs.existsSync(`/proc/${sshd}`));
      await expect(refreshDrift(ctx.stack, { write: true })).rejects.toThrow(
        /cannot read the Pi back \(deploy@10\.250\.0\.2:22\)/,
      );
    } finally {
      script("pi-standin.sh");
    }
    const { deployment } = await ctx.stack.exportStack();
    const types = (deployment.resources as { type: string }[]).map((r) => r.type);
    expect(types).toContain("pulumi-nodejs:dynamic/lucid:PiRollout");
    expect(await refreshDrift(ctx.stack, { write: true })).toEqual([]);
    await expectGood(good);
  });

  test("the Pi's Engine restarted: the set comes back by itself and refresh finds no drift", async () => {
    const good = await release();
    const pid = Number(fs.readFileSync("/run/lucid/docker-pi-engine.pid", "utf8"));
    process.kill(pid, "SIGTERM");
    await until("the Pi's Engine stopped", 60, () => !fs.existsSync(`/proc/${pid}`));
    script("pi-standin.sh");
    await expectGood(good);
    expect(await refreshDrift(ctx.stack, { write: true })).toEqual([]);
  });

  test("two ups at once on the same stack: one runs, the other fails clearly", async () => {
    changeGateway();
    const first = ctx.cliUp();
    const locks = path.join(ctx.dir, "state", ".pulumi", "locks");
    await until("the first up holds the stack", 120, () => {
      try {
        return fs.readdirSync(locks, { recursive: true }).some((f) => String(f).endsWith(".json"));
      } catch {
        return false;
      }
    });
    const second = await ctx.cliUp();
    expect(second.code).toBe(1);
    expect(second.out).toMatch(/locked/);
    const done = await first;
    expect([done.code, done.out.slice(-2000)]).toEqual([0, expect.any(String)]);
    await expectGood(await release());
  });

  test("a rollout already running on the Pi is waited for; a lock file left behind is no lock", async () => {
    const asDeploy = (script: string) => ["deploy", "-s", "/bin/bash", "-c", script];
    // The Pi's record of this run: its lines after the last "begins".
    const thisRun = () =>
      fs.readFileSync(`${DIR}/rollout.log`, "utf8").split(" begins\n").at(-1) ?? "";
    // Another rollout, as the Pi sees one: a process of the deploy user holding the lock until
    // the test lets go (15 min at most). It is ended by its command line, which is its own:
    // ending `su` alone would leave it holding the lock's descriptor.
    const hold = "sleep 901";
    const holder = spawn(
      "su",
      asDeploy(
        `exec flock ${LOCK} bash -c 'echo "pid $$, another rollout" > ${LOCK}.holder; exec ${hold}'`,
      ),
    );
    let up: Promise<unknown> | undefined;
    let letGo = 0;
    try {
      await until("the other rollout holds the lock", 20, () =>
        (fs.existsSync(`${LOCK}.holder`) ? fs.readFileSync(`${LOCK}.holder`, "utf8") : "").includes(
          "another rollout",
        ),
      );
      changeGateway();
      up = ctx.stack.up({ onOutput: ctx.onOutput });
      up.catch(() => undefined); // awaited below; a failure meanwhile is not an unhandled one
      // This run reaches the Pi (after its build) and waits; still waiting a while later: no
      // lock taken over. Then the other lets go, and this run takes the lock only after that.
      await until("this rollout waits for the other", 600, () =>
        /waiting for another rollout \(pid \d+, another rollout\) to finish/.test(thisRun()),
      );
      await sleep(5000);
      expect(thisRun()).not.toContain("holds the lock");
      letGo = Math.floor(Date.now() / 1000) * 1000; // the Pi's stamps are whole seconds
    } finally {
      spawnSync("pkill", ["-u", "deploy", "-f", `^${hold}$`]);
      holder.kill();
      if (!letGo) await up?.catch(() => undefined); // failed above: the stack free for teardown
    }
    await up;
    await until(
      "the lock is free",
      20,
      () => spawnSync("flock", ["-n", LOCK, "true"]).status === 0,
    );
    const taken = /lucid: (\S+) rollout of release \S+ holds the lock/.exec(thisRun());
    expect(Date.parse(taken![1])).toBeGreaterThanOrEqual(letGo);
    // Files left behind by a rollout that is gone, as after the Pi rebooted mid-rollout: the
    // holder named a pid that now belongs to a live process (1); nobody holds the lock. (A dead
    // pid and an empty file: the unit tests, tests/unit/rollout-program/lock.test.ts.)
    spawnSync("su", asDeploy(`echo 'pid 1, release old' > ${LOCK}.holder`));
    changeGateway();
    await ctx.stack.up({ onOutput: ctx.onOutput });
    expect(thisRun()).not.toContain("waiting");
    await expectGood(await release());
  });

  test("disk full on the Pi during the pull: a clear error; the running release untouched", async () => {
    const good = await release();
    const before = piIds(PROJECT);
    // The Engine downloads layers into its data root's tmp/: a full filesystem there.
    const tmp = path.join(lucidHome(), "pi", "docker", "tmp");
    sh("mount", ["-t", "tmpfs", "-o", "size=256k", "lucid-pi-full", tmp]);
    try {
      try {
        fs.writeFileSync(path.join(tmp, "fill"), Buffer.alloc(1024 * 1024));
      } catch {
        // ENOSPC: full, as meant
      }
      // A change too big for the space left: 1 MB of comment lines in the gateway's config.
      const bulk = randomBytes(512 * 1024)
        .toString("hex")
        .match(/.{1,64}/g)!;
      fs.appendFileSync(nginxConf, `\n${bulk.map((l) => `# ${l}`).join("\n")}\n`);
      await expect(ctx.upMeantToFail()).rejects.toThrow(
        /no space left on device[\s\S]*pulling the images of release [0-9a-f]{16} failed \(above\); the running release was not touched/,
      );
      expect(piIds(PROJECT)).toEqual(before);
      expect(fs.readlinkSync(`${DIR}/current`)).toBe(`releases/${good}`);
    } finally {
      sh("umount", [tmp]);
    }
    await ctx.stack.up({ onOutput: ctx.onOutput });
    expect(await release()).not.toBe(good);
    await expectGood(await release());
  });

  test("a service that never becomes healthy: bounded wait, rollback, the error names it", async () => {
    const good = await release();
    const conf = fs.readFileSync(nginxConf, "utf8");
    fs.writeFileSync(nginxConf, conf.replace("listen 8080;", "listen 8081;")); // the probe asks 8080
    await ctx.stack.setConfig("lucid:pi.healthTimeout", { value: "10" }, true);
    const failed = ctx.upMeantToFail();
    await expect(failed).rejects.toThrow(
      /rollout of release [0-9a-f]{16} failed: api-gateway did not become healthy within 10 s; rolled back to release/,
    );
    // The bound is the configured one, by the Pi's own record: the gate's start to the end
    // (rollback included), at least 10 s and not much more.
    const bad = /rollout of release ([0-9a-f]{16}) failed/.exec(
      String(await failed.catch((e: Error) => e.message)),
    )![1];
    const record = fs.readFileSync(`${DIR}/rollout.log`, "utf8");
    const at = (what: string) =>
      Date.parse(
        new RegExp(`lucid: (\\S+) (?:rollout of )?release ${bad} ${what}`).exec(record)![1],
      );
    const gate = at("ends \\(exit 1\\)") - at("is up; its health gate waits at most 10 s");
    expect(gate).toBeGreaterThanOrEqual(9_000); // stamps are whole seconds
    expect(gate).toBeLessThan(40_000);
    fs.writeFileSync(nginxConf, conf);
    await ctx.stack.removeConfig("lucid:pi.healthTimeout", true);
    await expectGood(good);
  });
});
