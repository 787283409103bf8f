import { spawn } from "child_process";
import * as fs from "fs";

/** What a command gave: its exit code (null when it could not run or was stopped) and output. */
export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Set when the call itself failed: not on PATH (ENOENT), or the time bound (ETIMEDOUT). */
  error?: NodeJS.ErrnoException;
}

/** The commands still running: killed, with what they started, if this process exits first. */
const running = new Set<number>();
process.on("exit", () => running.forEach(killTree));

/**
 * Kills PID and every process under it (from /proc: a process's parent is its stat's 4th field).
 * Not a process group of its own: the command stays in this one, so a terminal's Ctrl-C, or a
 * signal to this process's group, still reaches it and what it started.
 */
function killTree(pid: number | undefined) {
  if (!pid) return;
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid)!.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  const tree: number[] = [];
  for (let todo = [pid]; todo.length;) {
    const p = todo.pop()!;
    tree.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  for (const p of tree) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // ended already
    }
  }
}

/**
 * Runs `cmd args` without a shell and without blocking this process, so that several asks run
 * side by side; bounded: at `timeoutMs` the command and every process under it (`docker` and its
 * `docker-buildx` plugin) are killed, and the answer is ETIMEDOUT at once. They are killed too
 * if this process exits (normally) first. Never rejects.
 */
export function commandResult(
  cmd: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let done = false;
    if (child.pid) running.add(child.pid);
    const finish = (r: CommandResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      running.delete(child.pid!);
      resolve(r);
    };
    // (a spawn that failed, e.g. out of file descriptors, has no streams: its 'error' answers)
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (error: NodeJS.ErrnoException) =>
      finish({ status: null, stdout, stderr, error }),
    );
    child.on("close", (status) => finish({ status, stdout, stderr }));
    const timer = setTimeout(() => {
      killTree(child.pid);
      child.stdout?.destroy();
      child.stderr?.destroy();
      const error: NodeJS.ErrnoException = new Error(
        `${cmd} ${args.join(" ")}: no answer within ${timeoutMs / 1000} s`,
      );
      error.code = "ETIMEDOUT";
      finish({ status: null, stdout, stderr, error });
    }, timeoutMs);
  });
}
