import { spawn } from "child_process";

/** What a command gave: its exit code (null when it could not run or was stopped) and output. */
export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Set when the call itself failed: not on PATH (ENOENT), or the time bound (ETIMEDOUT). */
  error?: NodeJS.ErrnoException;
}

/**
 * Runs `cmd args` without a shell and without blocking this process, so that several asks run
 * side by side; bounded: at `timeoutMs` the command is killed and the answer is ETIMEDOUT at once
 * (a child it left holding the pipes does not hold the answer back). Never rejects.
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
    const finish = (r: CommandResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
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
      child.kill("SIGKILL");
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
