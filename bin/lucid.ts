#!/usr/bin/env node
// lucid <up|preview|refresh|drift|updates|pin-bases|destroy|outputs|cancel> [--stack NAME] [--refresh] [--yes]
//       [--diff] [--target URN]... [--expect-no-changes]
//       [--show-secrets] (outputs: print secret outputs' values, e.g. the API token)
// (up and destroy on a stack other than dev show the preview and ask first, unless --yes; with
// no terminal to ask on they need --yes)
// lucid config <set KEY [VALUE] | get KEY | rm KEY> [--secret] [--path] [--stack NAME]
//       (as `pulumi config`; set reads VALUE from stdin when it is not given: a key file, say)
// (cancel removes the lock an interrupted run left behind; drift exits 0 when the Pi runs what
// was rolled out, 2 when it does not, 1 on any error; up --refresh reads the Pi back first;
// updates exits 0 when every package of the stack's images is current in its Debian suites, 2
// when one is behind, security updates listed first; pin-bases pins each upstream base of the
// stack file to the digest its tag names now)
// Runs the Pulumi program in this process through the Automation API, against the locally
// built CLI and a local backend (see stacks/workspace.ts for why).
import * as auto from "@pulumi/pulumi/automation";
import * as path from "path";
import * as readline from "readline/promises";
import program from "../index";
import { driftReport } from "../components/drift";
import { refreshDrift } from "../stacks/drift-check";
import { pendingUpdates, updatesReport, type ImageSet } from "../stacks/package-updates";
import { newPins } from "../stacks/base-pins";
import { viaRegistry } from "../components/image-ref";
import { basesSchema, checkConfig, ConfigError, isSecretKey } from "../stacks/config";
import { machineProblems } from "../stacks/preflight";
import { setConfigValue } from "../stacks/config-set";
import { stderrOf, unseenErrors } from "../stacks/run-errors";
import { SERVICE_NAMES } from "../infra/services";
import { DEV_PASSPHRASE, DEV_PINNED, pinDevMachine } from "../stacks/dev-machine";
import { imageShape, startProgress, type Progress } from "../stacks/progress";
import { stackFileConfig, machineWorkDir, trackedConfig } from "../stacks/work-dir";
import { lucidHome, openStack, stackFor } from "../stacks/workspace";
import { parseArgs, type Args } from "./args";

/** Exit code of `drift` when the Pi differs from the release (1 is any error). */
const DRIFTED = 2;
/** Exit code of `updates` when a package of an image is behind its suites. */
const BEHIND = 2;

/**
 * A stack's config, checked as the program checks it (a ConfigError names every bad key); `read`
 * when the caller holds it already (each read is a `pulumi config` run).
 */
async function settingsOf(stack: auto.Stack, read?: auto.ConfigMap) {
  const all = Object.entries(read ?? (await stack.getAllConfig())).map(
    ([key, v]) => [key, v.value, v.secret === true] as const,
  );
  return checkConfig(all, SERVICE_NAMES);
}

/**
 * `lucid pin-bases`: each upstream base (and each pinned one) to the digest its tag names now,
 * written into the stack's config file; then a preview shows which images that rebuilds.
 */
async function runPinBases(stack: auto.Stack): Promise<void> {
  const raw = await stack.getConfig("lucid:bases").catch(() => undefined);
  if (!raw) throw new Error(`stack ${stack.name}: lucid:bases is not set`);
  const bases = basesSchema.safeParse(JSON.parse(raw.value));
  if (!bases.success)
    throw new ConfigError(["lucid:bases: not well formed (lucid preview names what)"]);
  const pins = newPins(bases.data);
  if (pins.length === 0)
    console.log(
      "no upstream base to pin: every base is from this machine's or the LAN's own registry",
    );
  for (const { key, from, to } of pins) {
    if (from === to) {
      console.log(`lucid:bases.${key}: ${to} (the current digest already)`);
      continue;
    }
    await setConfigValue(stack, `lucid:bases.${key}`, { value: to, secret: false }, true);
    console.log(`lucid:bases.${key}: ${from} -> ${to}`);
  }
}

/**
 * `lucid updates`: the stack's images (its `services` output) against the current packages of
 * its builder base's suites. Runs no Pulumi program: it reads the outputs and the config.
 */
async function runUpdates(stack: auto.Stack, read?: auto.ConfigMap): Promise<number> {
  const { bases, registry } = await settingsOf(stack, read);
  const deployed = (await stack.outputs()).services?.value as ImageSet | undefined;
  if (!deployed) throw new Error(`stack ${stack.name} has built no images yet: run lucid up first`);
  // The output names each image as the Pi pulls it; this machine reads them where it pushed them.
  const images: ImageSet = Object.fromEntries(
    Object.entries(deployed).map(([s, i]) => [
      s,
      { ...i, ref: viaRegistry(i.ref, registry.pull, registry.push) },
    ]),
  );
  const updates = pendingUpdates(images, bases.builder);
  const count = Object.values(images).reduce((n, i) => n + Object.keys(i.digests).length, 0);
  console.log(updatesReport(updates, count));
  return updates.length > 0 ? BEHIND : 0;
}

/** `lucid config`: a stack's config, set, read or removed as `pulumi config` does it. */
async function runConfig(
  config: NonNullable<Args["config"]>,
  stack: auto.Stack,
  showSecrets: boolean,
) {
  const { action, key, secret, path: byPath } = config;
  if (action === "set") {
    // No value on the command line: from stdin (a command line is visible to every user).
    const value = config.value ?? (await readStdin());
    // A secret key is stored encrypted whether or not --secret was given.
    await setConfigValue(stack, key, { value, secret: secret || isSecretKey(key) }, byPath);
  } else if (action === "rm") {
    await stack.removeConfig(key, byPath);
  } else {
    const v = await stack.getConfig(key, byPath);
    console.log(v.secret && !showSecrets ? "[secret]" : v.value);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new Error("lucid config set: give VALUE, or pipe it to stdin");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
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

/** Refreshes the rollout from the Pi (recording its drift) and prints the drift report. */
async function reportDrift(stack: auto.Stack, onOutput: (s: string) => void): Promise<void> {
  const drift = await refreshDrift(stack, { write: true, onOutput });
  if (drift) console.log(`\n${driftReport(drift)}\n`);
}

/** Whether Pulumi printed anything: if not, a failure's own message is all there is to show. */
let streamed = false;
/** The end of what Pulumi printed (stdout): an error already shown there is not shown again. */
let shownText = "";

async function run(args: Args, stack: auto.Stack): Promise<number> {
  const { command } = args;
  const progress = startProgress({
    label: `${command} ${stack.name}`,
    ...imageShape(stackFileConfig(stack.workspace.workDir, stack.name)),
    out: process.stdout,
  });
  try {
    return await runWith(args, stackFor(args.command, stack), progress);
  } finally {
    progress.stop();
  }
}

/**
 * `up` and `destroy` change what a real Pi runs. On any stack but dev, as `pulumi up` does: the
 * preview first, then a question on the terminal; with no terminal to ask on (CI, a pipe), only
 * --yes goes on. An up that would change nothing is not asked about.
 */
async function confirm(
  args: Args,
  stack: auto.Stack,
  onOutput: (out: string) => void,
  target: string[] | undefined,
): Promise<void> {
  if (args.yes || stack.name === "dev") return;
  const what = args.command === "destroy" ? "destroy" : "update";
  const shown = { onOutput, color: "auto" as const, target };
  if (args.command === "up") {
    const preview = await stack.preview({ ...shown, diff: args.diff });
    const ops = Object.entries(preview.changeSummary ?? {});
    if (!ops.some(([op, n]) => op !== "same" && (n ?? 0) > 0)) return;
  } else {
    await stack.destroy({ ...shown, previewOnly: true });
  }
  if (!process.stdin.isTTY)
    throw new Error(
      `stack ${stack.name}: the ${what} above was not confirmed (no terminal to ask on); nothing was changed. Run again with --yes to go on.`,
    );
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  // Ctrl-D or Ctrl-C closes the question unanswered: a no, never an exit that reads as success.
  const closed = new Promise<string>((resolve) => rl.once("close", () => resolve("")));
  rl.once("SIGINT", () => rl.close());
  const answer = await Promise.race([
    rl.question(`\nDo you want to perform this ${what} on stack ${stack.name}? (yes/no) `),
    closed,
  ]);
  rl.close();
  if (!/^(y|yes)$/i.test(answer.trim()))
    throw new Error(`stack ${stack.name}: the ${what} was declined; nothing was changed`);
}

async function runWith(args: Args, stack: auto.Stack, progress: Progress): Promise<number> {
  const { command, refresh, showSecrets, diff, expectNoChanges } = args;
  const target = args.targets.length > 0 ? args.targets : undefined;
  const onOutput = (out: string) => {
    streamed = true;
    shownText = (shownText + out).slice(-200_000);
    progress.write(out);
  };
  const common = { onOutput, onEvent: progress.onEvent, color: "auto" as const };
  switch (command) {
    case "up":
      if (refresh) await reportDrift(stack, onOutput);
      await confirm(args, stack, onOutput, target);
      await stack.up({ ...common, diff, target, expectNoChanges });
      break;
    case "preview":
      if (refresh) await reportDrift(stack, onOutput);
      await stack.preview({ ...common, diff: true, target, expectNoChanges });
      break;
    case "refresh":
      // Everything: the images against the registry, the rollout against the Pi.
      await stack.refresh({ ...common, target, expectNoChanges });
      await reportDrift(stack, onOutput);
      break;
    case "drift": {
      // Quiet (no engine output): the report is the whole answer, for a scheduled check.
      const drift = await refreshDrift(stack, { write: false });
      if (!drift) console.log(`stack ${stack.name} rolls nothing out: nothing to compare`);
      else console.log(driftReport(drift));
      return drift?.length ? DRIFTED : 0;
    }
    case "destroy":
      await confirm(args, stack, onOutput, target);
      await stack.destroy({ ...common, target });
      break;
    case "cancel":
      await stack.cancel();
      break;
    case "outputs":
      for (const [k, v] of Object.entries(await stack.outputs())) {
        const shown = v.secret && !showSecrets ? "[secret]" : JSON.stringify(v.value);
        console.log(`${k}: ${shown}`);
      }
  }
  return 0;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const stackName = args.stack;
  // The dev stack's keys are this machine's: it runs from a work directory outside the checkout.
  // LUCID_WORK_DIR: another directory with Pulumi.yaml and the stack's file (the tests use it).
  const workDir =
    process.env.LUCID_WORK_DIR ??
    (stackName === "dev"
      ? machineWorkDir(
          path.join(lucidHome(), "stacks", "dev"),
          "dev",
          trackedConfig("dev"),
          DEV_PINNED,
        )
      : undefined);
  // up and preview ask about this machine below, before Pulumi runs; their program does not
  // ask again.
  const checked = args.command === "up" || args.command === "preview";
  const stack = await openStack({
    stackName,
    program: (root) => program.inProject(root, { checkMachine: !checked }),
    workDir,
    env: passphraseEnv(stackName),
  });
  const pinned =
    stackName === "dev" && !process.env.LUCID_WORK_DIR ? await pinDevMachine(stack) : undefined;
  if (args.config) return runConfig(args.config, stack, args.showSecrets);
  if (args.command === "pin-bases") return runPinBases(stack);
  if (args.command === "updates") {
    process.exitCode = await runUpdates(stack, pinned);
    return;
  }
  // A bad config (this machine's builder and signing tools too) is named here, once and whole,
  // before Pulumi runs anything (the program checks it too, for the plain CLI; through the engine
  // its error would come twice, or, in a preview, only on stderr).
  if (checked) {
    const settings = await settingsOf(stack, pinned);
    const problems = await machineProblems(settings);
    if (problems.length > 0) throw new ConfigError(problems);
  }
  process.exitCode = await run(args, stack);
}

main().catch((err: unknown) => {
  // A CommandError's diagnostics, once: what Pulumi did not already show through onOutput.
  let message = String(err instanceof Error ? err.message : err);
  if (err instanceof auto.CommandError) {
    const errors = unseenErrors(stderrOf(err), shownText);
    if (errors.length > 0) message = errors.join("\nlucid: ");
    else if (streamed) message = "the Pulumi run failed (see above)";
  }
  process.stderr.write(`lucid: ${message}\n`);
  process.exit(1);
});
