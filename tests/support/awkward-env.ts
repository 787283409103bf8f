/**
 * One-line values each Compose generation's dotenv parser would rewrite (quotes stripped, `#` and
 * what follows cut, `${...}` expanded, spaces trimmed, escapes read): every one must reach the
 * container as it is. Names are the variables' (lucid:serviceEnv), values what a user may set.
 */
export const AWKWARD_ENV: Record<string, string> = {
  AWK_SINGLE_QUOTED: "'single quoted'",
  AWK_DOUBLE_QUOTED: '"double quoted"',
  AWK_HALF_QUOTE: "it's",
  AWK_HASH: "pass#word",
  AWK_SPACE_HASH: "value #not a comment",
  AWK_BRACES: "${HOME}",
  AWK_DOLLAR: "$HOME and $$ and $",
  AWK_DEFAULT: "${UNSET:-fallback}",
  AWK_SPACES: "  leading and trailing  ",
  AWK_TAB: "a\tb",
  AWK_BACKSLASHES: "back\\slash \\n \\t \\\\ \\'",
  AWK_TRAILING_BACKSLASH: "ends with \\",
  AWK_EQUALS: "=a=b==",
  AWK_EMPTY: "",
  AWK_ONLY_SPACE: " ",
  AWK_SHELL: "`id`; $(id) && echo | cat > /tmp/x",
  AWK_UNICODE: "ünïcødé — 鍵 🚀",
  AWK_YAML: "- [a, b]: {c: d} & *e !f ? null",
  AWK_EXPORT: "export X=1",
  AWK_CONTROL: "bell\u0007 escape\u001b[0m",
};
