#!/usr/bin/env node
// lucid <up|preview|refresh|destroy|outputs|cancel> [--stack NAME] [--yes]
// (cancel removes the lock an interrupted run left behind)
// Runs the Pulumi program in this process through the Automation API, against the locally
// built CLI and a local backend (see stacks/workspace.ts for why).
import * as auto from "@pulumi/pulumi/automation";
import * as path from "path";
import program from "../index";
import { DEV_PASSPHRASE, DEV_PINNED, pinDevMachine } from "../stacks/dev-machine";
import { machineWorkDir, trackedConfig } from "../stacks/work-dir";
import { lucidHome, openStack } from "../stacks/workspace";

const COMMANDS = ["up", "preview", "refresh", "destroy", "outputs", "cancel"] as const;
type Command = (typeof COMMANDS)[number];

function parseArgs(argv: string[]): { command: Command; stack: string } {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as Command)) {
    throw new Error(
      `usage: lucid <${COMMANDS.join("|")}> [--stack NAME]  (got '${command ?? ""}')`,
    );
  }
  let stack = "dev";
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--stack" || rest[i] === "-s") stack = rest[++i] ?? "";
    else if (rest[i] !== "--yes" && rest[i] !== "-y")
      throw new Error(`lucid: unknown argument '${rest[i]}'`);
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error("lucid: --stack needs a stack name");
  return { command: command as Command, stack };
}

function passphraseEnv(stack: string): Record<string, string> {
  if (
    process.env.PULUMI_CONFIG_PASSPHRASE !== undefined ||
    process.env.PULUMI_CONFIG_PASSPHRASE_FILE
  )
    return {};
  if (stack === "dev") return { PULUMI_CONFIG_PASSPHRASE: DEV_PASSPHRASE };
  throw new Error(`stack ${stack}: set PULUMI_CONFIG_PASSPHRASE (or _FILE) to unlock its secrets`);
}

/** Whether Pulumi printed anything: if not, a failure's own message is all there is to show. */
let streamed = false;

async function run(command: Command, stack: auto.Stack): Promise<void> {
  const onOutput = (out: string) => {
    streamed = true;
    process.stdout.write(out);
  };
  const common = { onOutput, color: "auto" as const };
  switch (command) {
    case "up":
      await stack.up({ ...common, diff: false });
      break;
    case "preview":
      await stack.preview({ ...common, diff: true });
      break;
    case "refresh":
      await stack.refresh(common);
      break;
    case "destroy":
      await stack.destroy(common);
      break;
    case "cancel":
      await stack.cancel();
      break;
    case "outputs":
      for (const [k, v] of Object.entries(await stack.outputs())) {
        console.log(`${k}: ${v.secret ? "[secret]" : JSON.stringify(v.value)}`);
      }
  }
}

async function main(): Promise<void> {
  const { command, stack: stackName } = parseArgs(process.argv.slice(2));
  // The dev stack's keys are this machine's: it runs from a work directory outside the checkout.
  const workDir =
    stackName === "dev"
      ? machineWorkDir(
          path.join(lucidHome(), "stacks", "dev"),
          "dev",
          trackedConfig("dev"),
          DEV_PINNED,
        )
      : undefined;
  const stack = await openStack({ stackName, program, workDir, env: passphraseEnv(stackName) });
  if (stackName === "dev") await pinDevMachine(stack);
  await run(command, stack);
}

main().catch((err: unknown) => {
  // A CommandError's diagnostics were already streamed through onOutput: don't repeat them.
  const message =
    err instanceof auto.CommandError && streamed
      ? "the Pulumi run failed (see above)"
      : String(err instanceof Error ? err.message : err);
  process.stderr.write(`lucid: ${message}\n`);
  process.exit(1);
});
