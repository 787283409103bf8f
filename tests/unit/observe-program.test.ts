import { spawn, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { environmentFile } from "../../components/compose";
import { driftOf, expectedServices } from "../../components/drift";
import { parseObservation } from "../../components/ssh/observe";
import { lucidCompose } from "../../infra/lucid";
import { SERVICES } from "../../infra/services";
import { FakePi, type Generation } from "../support/fake-pi";

// observe.sh as the Pi runs it, on a fake Docker: read back and compared (drift.ts), for both
// Compose generations' container names.

const ref = (svc: string) =>
  `10.250.0.1:5000/lucid@sha256:${Buffer.from(svc).toString("hex").padEnd(64, "0").slice(0, 64)}`;
const SECRET = "observe-s3cr3t-value";
const secrets = { "api-server": { LUCID_API_TOKEN: SECRET } };
const compose = lucidCompose(
  Object.fromEntries(SERVICES.map((s) => [s.name, ref(s.name)])),
  { gatewayPort: 8080, platform: "linux/arm64" },
  secrets,
);
const services = expectedServices(compose);
const sha = (text: string) => createHash("sha256").update(text).digest("hex");
const want = {
  project: "lucid",
  release: "r1",
  composeSha: sha(compose),
  environmentSha: sha(environmentFile(secrets)),
  services,
};

let pi: FakePi;
afterEach(() => pi.remove());

describe.each<Generation>(["v2", "v1"])("reading the Pi back, Compose %s", (generation) => {
  beforeEach(() => {
    pi = new FakePi(generation);
    expect(pi.rollOut(compose, { release: "r1" }, { secrets }).code).toBe(0);
  });
  const observe = () =>
    pi.run(
      "observe",
      { LUCID_DIR: pi.dir, LUCID_PROJECT: "lucid", LUCID_RELEASE: "r1" },
      { args: Object.values(services) },
    );

  test("right after a rollout: no drift, and nothing changed by the read", () => {
    const before = pi.calls().length;
    const r = observe();
    expect(r.code).toBe(0);
    expect(driftOf(want, parseObservation(r.stdout))).toEqual([]);
    const calls = pi.calls().slice(before);
    expect(calls.every((c) => /^docker (ps -aq|inspect|image inspect) /.test(c))).toBe(true);
  });

  test("the read never carries a container's environment off the Pi", () => {
    const api = pi.containers().find((c) => c.service === "api-server")!;
    expect(pi.containerEnv(api.id)).toEqual(secrets["api-server"]); // the container has it
    const r = observe();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(api.name);
    expect(r.stdout).not.toContain(SECRET);
  });

  test("the environment file edited on the Pi is drift, said without its values", () => {
    const file = path.join(pi.dir, "releases", "r1", "environment");
    fs.writeFileSync(file, "LUCID_ENV_api_server__LUCID_API_TOKEN=changed-by-hand\n");
    const drift = driftOf(want, parseObservation(observe().stdout));
    expect(drift).toEqual([
      {
        subject: "releases/r1/environment",
        expected: "the release's secret variables",
        found: "other values (edited on the Pi)",
      },
    ]);
    fs.rmSync(file);
    expect(driftOf(want, parseObservation(observe().stdout))[0].found).toBe("missing");
  });

  test("a service's container gone, a squatter under its name: both reported", () => {
    const sep = generation === "v2" ? "-" : "_";
    const byService = Object.fromEntries(pi.containers().map((c) => [c.service, c]));
    fs.rmSync(path.join(pi.state, "containers", byService["api-gateway"].id));
    fs.rmSync(path.join(pi.state, "containers", byService["api-server"].id));
    pi.addContainer({
      project: "-",
      service: "-",
      image: "nginx",
      name: `lucid${sep}api-gateway${sep}1`,
    });
    const drift = driftOf(want, parseObservation(observe().stdout));
    expect(drift.map((d) => d.subject).sort()).toEqual(["api-gateway", "api-server"]);
    expect(drift.find((d) => d.subject === "api-gateway")?.found).toContain(
      `lucid${sep}api-gateway${sep}1 from nginx, not made by compose`,
    );
  });

  test("Docker failing is an error, never 'no containers'", () => {
    pi.failCalls("docker ps *");
    const r = observe();
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain("@containers");
  });

  // A rollout still running (its link lost, say): the read waits for it, bounded, and never
  // reads a set half way through.
  const holdLock = async (seconds: number) => {
    const lock = path.join(pi.dir, ".rollout.lock");
    fs.writeFileSync(`${lock}.holder`, "pid 4242, release r2\n");
    const holder = spawn("flock", [lock, "sleep", String(seconds)], { stdio: "ignore" });
    for (let i = 0; i < 100 && spawnSync("flock", ["-n", lock, "true"]).status === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    return holder;
  };
  const observeWaiting = (wait: number) =>
    pi.run(
      "observe",
      { LUCID_DIR: pi.dir, LUCID_PROJECT: "lucid", LUCID_RELEASE: "r1", LUCID_LOCK_WAIT: wait },
      { args: Object.values(services) },
    );

  test("a rollout running on the Pi is waited for; the read comes after it", async () => {
    const holder = await holdLock(1.5);
    try {
      const r = observeWaiting(20);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(
        "a rollout (pid 4242, release r2) is running on the Pi; reading back when it ends",
      );
      expect(r.ms).toBeGreaterThanOrEqual(1000);
      expect(driftOf(want, parseObservation(r.stdout))).toEqual([]);
    } finally {
      holder.kill();
    }
  });

  test("a rollout running past the wait: an error, exit 75, never a half-way read", async () => {
    const holder = await holdLock(5);
    try {
      const r = observeWaiting(1);
      expect(r.code).toBe(75);
      expect(r.stderr).toContain("still runs on the Pi after 1 s; read again when it has ended");
      expect(r.stdout).toBe("");
    } finally {
      holder.kill();
    }
  });
});
