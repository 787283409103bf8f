import { runRemote, type SshTarget } from "./ssh/executor";

/** Runs `command` on the Pi; a non-zero exit becomes an error with the command's last output. */
export async function runOnPi(target: SshTarget, command: string): Promise<string> {
  const result = await runRemote(target, command);
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split("\n").slice(-10).join("\n");
    throw new Error(`command on ${target.user}@${target.host} exited ${result.code}:\n${tail}`);
  }
  return result.stdout.trim();
}
