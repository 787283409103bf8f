import * as fs from "fs";
import * as path from "path";
import { shellJoin } from "./commands";

/** The bash programs that run on the Pi: `<name>.sh` beside this file, shellcheck-clean. */
export type RemoteProgram = "rollout" | "observe" | "teardown";

/** What each program needs sent before it (it sources them itself when run from the checkout). */
const LIBRARIES: Record<RemoteProgram, readonly string[]> = {
  rollout: ["compose"],
  teardown: ["compose"],
  observe: [],
};

// The sources, found from this module's own location (compiled, it runs from dist/components/ssh).
const SOURCE_DIR = fs.existsSync(path.join(__dirname, "rollout.sh"))
  ? __dirname
  : path.resolve(__dirname, "..", "..", "..", "components", "ssh");

/** The path of a remote program's source (tests run it locally, with a fake docker on PATH). */
export const programPath = (name: string): string => path.join(SOURCE_DIR, `${name}.sh`);

/** A program's whole text as the Pi runs it: its libraries, then itself. */
export const programText = (name: RemoteProgram): string =>
  [...LIBRARIES[name], name].map((n) => fs.readFileSync(programPath(n), "utf8")).join("\n");

/**
 * The command line that runs a program on the Pi: its values as environment (`env`, whatever the
 * login shell), its text as bash's one `-c` argument (no word splitting of it), `args` as "$@".
 * `--norc`: bash reads ~/.bashrc when its stdin is a socket (sshd's, for a command), and a
 * user's .bashrc is not the program's (it may print, or fail, on every call).
 * Never give it a secret: a command line is visible to every user of the Pi.
 */
export function remoteCommand(
  name: RemoteProgram,
  env: Record<string, string | number>,
  args: readonly string[] = [],
): string {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return shellJoin([
    "env",
    ...vars,
    "bash",
    "--norc",
    "-c",
    programText(name),
    `lucid-${name}`,
    ...args,
  ]);
}
