import { spawn } from "child_process";

/** What a command gave: its exit code (null when it could not run or was stopped) and output. */
export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Set when the call itself failed: not on PATH (ENOENT), or the time bound (ETIMEDOUT). */
  error?: NodeJS.ErrnoException;
}

/** Process groups of the commands still running: killed if this process exits first. */
const running = new Set<number>();
process.on("exit", () => running.forEach(killed));

function killed(group: number | undefined) {
  try {
    if (group) process.kill(-group, "SIGKILL");
  } catch {
    // the group has ended already
  }
}

/**
 * Runs `cmd args` without a shell and without blocking this process, so that several asks run
 * side by side; bounded: at `timeoutMs` the command and every process it started (its process
 * group: `docker` and its `docker-buildx` plugin) are killed, and the answer is ETIMEDOUT at once.
 * The group is killed too if this process exits first. Never rejects.
 */
export function commandResult(
  cmd: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let done = false;
    const killGroup = () => killed(child.pid);
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
      killGroup();
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
