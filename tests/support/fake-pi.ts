import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ServiceEnv } from "../../components/compose";
import { releaseFiles } from "../../components/pi-remote";
import { programText, type RemoteProgram } from "../../components/ssh/programs";
import { rolloutEnv, type RolloutValues } from "../../components/ssh/rollout";

/** Which Compose the fake Pi has: the v2 plugin, docker-compose 1.29, or none. */
export type Generation = "v2" | "v1" | "none";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A container as the fake Engine holds it. */
export interface FakeContainer {
  id: string;
  project: string;
  service: string;
  image: string;
  name: string;
}

const FAKE_DOCKER = path.join(__dirname, "fake-docker", "docker");
/** What the programs (and the fake) may run besides docker: the Pi's base system, nothing more. */
const TOOLS = [
  ..."bash env awk base64 basename cat cut date dirname grep ln ls mkdir mv readlink rm sed".split(
    " ",
  ),
  ..."chmod flock realpath setsid sha256sum sleep sort tail tee timeout touch tr wc".split(" "),
];
const which = (tool: string): string => {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    const p = path.join(dir, tool);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`the fake Pi needs ${tool} on this machine`);
};

/**
 * A Pi for the remote programs, in a temporary directory: its releases directory, and a fake
 * Docker (tests/support/fake-docker/docker) whose world is files. The programs run as the Pi runs
 * them (programText: the exact text the provider sends), with bash and coreutils from this machine.
 */
/** What every release the provider writes holds at the least: api-server's token. */
export const PROVIDER_SECRETS: ServiceEnv = {
  "api-server": { LUCID_API_TOKEN: "fake-token".padEnd(43, "0") },
};

export class FakePi {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-fake-pi-"));
  readonly dir = path.join(this.root, "home deploy", "lucid"); // a space: quoting is tested too
  readonly state = path.join(this.root, "docker");
  private readonly bin = path.join(this.root, "bin");

  constructor(readonly generation: Generation) {
    fs.mkdirSync(this.bin);
    fs.mkdirSync(this.state);
    for (const tool of TOOLS) fs.symlinkSync(which(tool), path.join(this.bin, tool));
    fs.symlinkSync(FAKE_DOCKER, path.join(this.bin, "docker"));
    if (generation === "v1") fs.symlinkSync(FAKE_DOCKER, path.join(this.bin, "docker-compose"));
  }

  /** bash's argv and environment for a program with these values. */
  private invocation(
    program: RemoteProgram,
    env: Record<string, string | number>,
    args: readonly string[] = [],
  ) {
    return {
      bash: path.join(this.bin, "bash"),
      argv: ["--norc", "-c", programText(program), `lucid-${program}`, ...args],
      env: {
        PATH: this.bin, // the fake docker, and no other docker or compose of this machine
        FAKE_DOCKER_STATE: this.state,
        FAKE_COMPOSE_V2: this.generation === "v2" ? "1" : "",
        ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
      },
    };
  }

  /** Runs a program with these values, `stdin` on its stdin, `args` as "$@". */
  run(
    program: RemoteProgram,
    env: Record<string, string | number>,
    opts: { stdin?: string; args?: readonly string[] } = {},
  ): Run {
    const started = Date.now();
    const { bash, argv, env: vars } = this.invocation(program, env, opts.args);
    const r = spawnSync(bash, argv, {
      input: opts.stdin ?? "",
      encoding: "utf8",
      timeout: 30_000,
      env: vars,
    });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
  }

  /**
   * Starts a rollout and goes on (bounded: killed after 30 s); `done` is its result. `cut` ends
   * what the SSH channel runs (the follower, its own process group), as a dropped link would;
   * `kill` ends the rollout proper too (its own session, detached), as a reboot would. `stdin`:
   * what reaches the program (default: the release's files, whole); `open` leaves it unclosed.
   */
  startRollOut(
    compose: string,
    values: Partial<RolloutValues> & { release: string },
    env: Record<string, string | number> = {},
    opts: { stdin?: string; open?: boolean } = {},
  ) {
    const started = Date.now();
    const {
      bash,
      argv,
      env: vars,
    } = this.invocation("rollout", {
      ...this.rolloutValues(values),
      LUCID_POLL: 0.05,
      ...env,
    });
    const runDir = this.runDir();
    const child = spawn(bash, argv, { env: vars, detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const input = opts.stdin ?? releaseFiles(compose, PROVIDER_SECRETS);
    if (opts.open) child.stdin.write(input);
    else child.stdin.end(input);
    const cut = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const kill = () => {
      cut();
      const pid = fs.existsSync(`${runDir}/pid`)
        ? Number(fs.readFileSync(`${runDir}/pid`, "utf8").split(" ")[0]) // "<pid> <boot id>"
        : 0;
      try {
        if (pid > 0) process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(kill, 30_000);
    const done = new Promise<Run>((resolve) =>
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started });
      }),
    );
    return { done, cut, kill, runDir };
  }

  private runs = 0;
  /** The run name of the last rollout started (its directory: runs/<id>). */
  lastRunId = "";
  private nextRunId(release: string): string {
    this.lastRunId = `run${++this.runs}-${release}`;
    return this.lastRunId;
  }

  /** A run's directory on the fake Pi (default: the last one started). */
  runDir(id = this.lastRunId): string {
    return path.join(this.dir, "runs", id);
  }

  /** The run's exit status once it ended, else null. */
  runStatus(id = this.lastRunId): number | null {
    const f = path.join(this.runDir(id), "status");
    return fs.existsSync(f) ? Number(fs.readFileSync(f, "utf8")) : null;
  }

  /** Follows a run again, as the client does after a lost link: LUCID_FOLLOW=1, no stdin. */
  follow(values: Partial<RolloutValues> & { release: string }, id = this.lastRunId): Run {
    const env = { ...this.rolloutValues(values), LUCID_RUN_ID: id, LUCID_FOLLOW: 1 };
    this.lastRunId = id;
    return this.run("rollout", env);
  }

  private rolloutValues(
    values: Partial<RolloutValues> & { release: string },
    recreate?: readonly string[],
  ) {
    return rolloutEnv(
      { remoteDir: this.dir, project: "lucid", healthTimeout: 5, keepReleases: 3, ...values },
      this.nextRunId(values.release),
      recreate,
    );
  }

  /**
   * Rolls a compose file out (its `secrets` in the release's environment file: by default
   * PROVIDER_SECRETS, as every release of the set has), polling every 50 ms; `env` overrides the
   * program's environment (LUCID_LOCK_WAIT, ...); `stdin`, what reaches the program instead of
   * the release's files.
   */
  rollOut(
    compose: string,
    values: Partial<RolloutValues> & { release: string },
    opts: {
      env?: Record<string, string | number>;
      recreate?: readonly string[];
      secrets?: ServiceEnv;
      stdin?: string;
    } = {},
  ): Run {
    const env = this.rolloutValues(values, opts.recreate);
    return this.run(
      "rollout",
      { ...env, LUCID_POLL: 0.05, ...opts.env },
      { stdin: opts.stdin ?? releaseFiles(compose, opts.secrets ?? PROVIDER_SECRETS) },
    );
  }

  /** A container's environment as compose gave it (the fake's record: NAME -> value). */
  containerEnv(id: string): Record<string, string> {
    const f = path.join(this.state, "env", id);
    if (!fs.existsSync(f)) return {};
    return Object.fromEntries(
      fs
        .readFileSync(f, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
  }

  containers(): FakeContainer[] {
    const dir = path.join(this.state, "containers");
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).map((id) => {
      const [project, service, image, name] = fs
        .readFileSync(path.join(dir, id), "utf8")
        .trim()
        .split(" ");
      return { id, project, service, image, name };
    });
  }

  /** Puts a container in the fake Engine, as compose or a person would have made it. */
  addContainer(c: Omit<FakeContainer, "id">): string {
    const id = `ffff${Math.random().toString(16).slice(2, 10)}`;
    fs.mkdirSync(path.join(this.state, "containers"), { recursive: true });
    fs.writeFileSync(
      path.join(this.state, "containers", id),
      `${c.project} ${c.service} ${c.image} ${c.name}\n`,
    );
    return id;
  }

  /** What a container of this image answers to its health check from now on. */
  setHealth(
    image: string,
    status: "healthy" | "unhealthy" | "starting" | "exited",
    /** The container's state and restart count; "+1": a crash loop, one more at each look */
    more?: { state: "running" | "restarting"; restarts: number | "+1" },
  ): void {
    fs.mkdirSync(path.join(this.state, "health"), { recursive: true });
    const line = more ? `${status} ${more.state} ${more.restarts}` : status;
    fs.writeFileSync(path.join(this.state, "health", image.replace(/\//g, "_")), `${line}\n`);
  }

  /** Docker calls matching this glob (over "<program> <args>") fail from now on. */
  failCalls(glob: string): void {
    fs.appendFileSync(path.join(this.state, "fail"), `${glob}\n`);
  }

  /** Docker calls matching this glob wait from now on, until `go` (at most 20 s). */
  hold(glob: string): void {
    fs.appendFileSync(path.join(this.state, "hold"), `${glob}\n`);
  }

  /** Waits (bounded: 10 s) until a call is held; returns it. */
  async held(): Promise<string> {
    const f = path.join(this.state, "held");
    for (let i = 0; i < 200 && !fs.existsSync(f); i++) await new Promise((r) => setTimeout(r, 50));
    if (!fs.existsSync(f)) throw new Error("no Docker call was held within 10 s");
    return fs.readFileSync(f, "utf8").trim();
  }

  /** Lets held calls go on. */
  go(): void {
    fs.writeFileSync(path.join(this.state, "go"), "");
  }

  /** Waits (bounded: 20 s) until the run has a status; returns it. */
  async ended(id = this.lastRunId): Promise<number> {
    for (let i = 0; i < 400 && this.runStatus(id) === null; i++)
      await new Promise((r) => setTimeout(r, 50));
    const status = this.runStatus(id);
    if (status === null) throw new Error(`run ${id} did not end within 20 s`);
    return status;
  }

  images(): string[] {
    const file = path.join(this.state, "images");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  }

  addImage(ref: string): void {
    fs.appendFileSync(path.join(this.state, "images"), `${ref}\n`);
  }

  /** Every Docker call so far, "<program> <args>". */
  calls(): string[] {
    const file = path.join(this.state, "calls");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  }

  /** The release `current` points at, or null. */
  current(): string | null {
    try {
      return path.basename(fs.readlinkSync(path.join(this.dir, "current")));
    } catch {
      return null;
    }
  }

  releases(): string[] {
    const dir = path.join(this.dir, "releases");
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  }

  log(): string {
    const file = path.join(this.dir, "rollout.log");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
