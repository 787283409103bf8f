import { runRemote, type SshTarget } from "./ssh/executor";

/**
 * Runs a command line on the Pi, `stdin` fed to it; a non-zero exit becomes an error carrying the
 * command's last output lines (the rollout puts the failing service's name and logs there).
 */
export async function runOnPi(
  target: SshTarget,
  command: string,
  opts: { stdin?: string; timeoutMs?: number } = {},
): Promise<string> {
  const result = await runRemote(target, command, opts);
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split("\n").slice(-30).join("\n");
    throw new Error(`on ${target.user}@${target.host} (exit ${result.code}):\n${tail}`);
  }
  return result.stdout.trim();
}
