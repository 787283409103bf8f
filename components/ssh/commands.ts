/**
 * Remote steps as pure argv builders, and the one quoting function that turns them into the
 * command line the Pi's login shell runs. Tested by exact strings.
 */
export type Argv = readonly string[];

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for a POSIX shell: bare when safe, else single-quoted. */
export const shellQuote = (word: string): string =>
  word !== "" && SAFE.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;

/** One argv as a shell command line. */
export const shellJoin = (argv: Argv): string => argv.map(shellQuote).join(" ");

/** Steps run in order; the first failure stops the rest (`set -e` semantics). */
export const script = (steps: readonly Argv[]): string => steps.map(shellJoin).join(" && ");

/** Pulls the variant for `platform` (a Pi stand-in on amd64 runs arm64 under QEMU). */
export const dockerPull = (p: { ref: string; platform: string }): Argv => [
  "docker",
  "pull",
  "--quiet",
  "--platform",
  p.platform,
  p.ref,
];

/**
 * Runs a pulled image, hardened. No --platform here: Engine 20.10 answers a digest reference plus
 * --platform with "Cannot overwrite digest"; the pull already chose the variant.
 */
export const dockerRun = (p: { ref: string; args?: readonly string[] }): Argv => [
  "docker",
  "run",
  "--rm",
  "--read-only",
  "--cap-drop",
  "ALL",
  "--security-opt",
  "no-new-privileges",
  p.ref,
  ...(p.args ?? []),
];
