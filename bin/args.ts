// The lucid CLI's command line, read and checked before anything runs (bin/lucid.ts). A bad one
// is an error naming what is wrong, never echoing a word that may be a value.

export const COMMANDS = [
  "up",
  "preview",
  "refresh",
  "drift",
  "updates",
  "pin-bases",
  "destroy",
  "outputs",
  "cancel",
  "config",
] as const;
const CONFIG_ACTIONS = ["set", "get", "rm"] as const;
export type Command = (typeof COMMANDS)[number];
export interface Args {
  command: Command;
  stack: string;
  /** up/preview: refresh from the Pi first, so drift is healed in the same run. */
  refresh: boolean;
  /** outputs: print secret values too. */
  showSecrets: boolean;
  /** up/destroy on a stack other than dev: go on without asking (the preview is not shown). */
  yes: boolean;
  /** up: show each resource's detailed diff, as `pulumi up --diff`. */
  diff: boolean;
  /** up/preview/refresh/destroy: only these resources (URNs), as `pulumi up --target`. */
  targets: string[];
  /** up/preview/refresh: fail if anything would change, as `pulumi up --expect-no-changes`. */
  expectNoChanges: boolean;
  /** config: what to do, to which key (`lucid:<name>`, a path into it with --path). */
  config?: {
    action: (typeof CONFIG_ACTIONS)[number];
    key: string;
    value?: string;
    secret: boolean;
    path: boolean;
  };
}

export function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as Command)) {
    throw new Error(
      `usage: lucid <${COMMANDS.join("|")}> [--stack NAME]  (got '${command ?? ""}')`,
    );
  }
  let stack = "dev";
  let refresh = false;
  let showSecrets = false;
  let secret = false;
  let byPath = false;
  let yes = false;
  let diff = false;
  let expectNoChanges = false;
  const targets: string[] = [];
  const positional: string[] = [];
  const is = (...commands: Command[]) => commands.includes(command as Command);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--stack" || rest[i] === "-s") stack = rest[++i] ?? "";
    else if ((rest[i] === "--yes" || rest[i] === "-y") && is("up", "destroy", "refresh"))
      yes = true;
    else if (rest[i] === "--diff" && is("up", "preview")) diff = true;
    else if (rest[i] === "--expect-no-changes" && is("up", "preview", "refresh"))
      expectNoChanges = true;
    else if (
      (rest[i] === "--target" || rest[i] === "-t") &&
      is("up", "preview", "refresh", "destroy")
    ) {
      const urn = rest[++i] ?? "";
      if (!urn.startsWith("urn:pulumi:"))
        throw new Error(
          `lucid ${command}: --target needs a resource's URN (urn:pulumi:…; \`pulumi stack --show-urns\` lists them)`,
        );
      targets.push(urn);
    } else if (rest[i] === "--refresh" && (command === "up" || command === "preview"))
      refresh = true;
    else if (rest[i] === "--show-secrets" && (command === "outputs" || command === "config"))
      showSecrets = true;
    else if (rest[i] === "--secret" && command === "config") secret = true;
    else if (rest[i] === "--path" && command === "config") byPath = true;
    else if (command === "config" && !rest[i].startsWith("-")) positional.push(rest[i]);
    else
      throw new Error(
        rest[i].startsWith("-")
          ? `lucid ${command}: unknown option '${rest[i]}'`
          : `lucid ${command}: takes no word like the one given (not shown: it may be a value)`,
      );
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error("lucid: --stack needs a stack name");
  const args: Args = {
    command: command as Command,
    stack,
    refresh,
    showSecrets,
    yes,
    diff,
    targets,
    expectNoChanges,
  };
  if (command === "config") {
    const [action, key, value, ...extra] = positional;
    const usage = "usage: lucid config <set KEY [VALUE] | get KEY | rm KEY> [--secret] [--path]";
    if (!CONFIG_ACTIONS.includes(action as (typeof CONFIG_ACTIONS)[number]))
      throw new Error(
        `lucid config: ${action ? `unknown action '${action}'` : "no action"} (${usage})`,
      );
    // What was given in the wrong place is never shown: it may be a value, a secret one.
    if (!key || !/^lucid:[A-Za-z][A-Za-z0-9]*([.[][A-Za-z0-9\]"_-]*)*$/.test(key))
      throw new Error(
        `lucid config ${action}: ${key ? "the key given is not" : "no KEY: it must be"} lucid:<name>, e.g. lucid:pi.host (${usage})`,
      );
    if (extra.length > 0 || (action !== "set" && value !== undefined))
      throw new Error(
        `lucid config ${action}: ${positional.length - 2} argument(s) after KEY, ${action === "set" ? "one" : "none"} expected; not shown, they may hold a value (${usage})`,
      );
    args.config = {
      action: action as (typeof CONFIG_ACTIONS)[number],
      key,
      value,
      secret,
      path: byPath,
    };
  }
  return args;
}
