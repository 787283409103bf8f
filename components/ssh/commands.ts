/**
 * The one quoting function that turns an argv into the command line the Pi's login shell runs.
 * Tested by exact strings.
 */
export type Argv = readonly string[];

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for a POSIX shell: bare when safe, else single-quoted. */
export const shellQuote = (word: string): string =>
  word !== "" && SAFE.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;

/** One argv as a shell command line. */
export const shellJoin = (argv: Argv): string => argv.map(shellQuote).join(" ");
