import { spawn } from "child_process";
import type * as auto from "@pulumi/pulumi/automation";

/**
 * Sets one config value of a stack as `pulumi config set` does, the value on the CLI's stdin
 * (`--raw`: byte for byte, a key's last newline kept), never on its command line: a command line
 * is anyone's to read on this machine (`ps`, /proc/<pid>/cmdline), and the Automation API's
 * setConfig puts the value there. Rejects naming the key, never the value.
 */
export async function setConfigValue(
  stack: auto.Stack,
  key: string,
  value: { value: string; secret?: boolean },
  path = false,
): Promise<void> {
  const ws = stack.workspace as auto.LocalWorkspace;
  const args = ["config", "set", ...(path ? ["--path"] : []), key, "--stack", stack.name];
  args.push(value.secret ? "--secret" : "--plaintext", "--raw", "--non-interactive");
  const child = spawn(ws.pulumiCommand.command, args, {
    cwd: ws.workDir,
    env: { ...process.env, ...ws.envVars },
    stdio: ["pipe", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.on("error", () => undefined); // a CLI that exits early: its status says why
  child.stdin.end(value.value);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  if (code !== 0) {
    const said = (value.value ? stderr.split(value.value).join("[value]") : stderr).trim();
    throw new Error(`pulumi config set ${key} failed (exit ${code}): ${said}`);
  }
}
