import { unseenErrors } from "../../stacks/run-errors";

// As the CLI wrote them for a preview of a program that failed (stderr; nothing on stdout).
const STDERR = `error: invalid stack config:
  lucid:pi.hostKey: required
  lucid:sshPrivateKey: required
error: invalid stack config:
  lucid:pi.hostKey: required
  lucid:sshPrivateKey: required
Previewing update (pi):
  pulumi:pulumi:Stack: (same)
Resources:
    1 unchanged
`;
const BLOCK =
  "invalid stack config:\n  lucid:pi.hostKey: required\n  lucid:sshPrivateKey: required";

describe("unseenErrors", () => {
  test("an error Pulumi wrote twice to stderr alone is shown once, whole", () => {
    expect(unseenErrors(STDERR, "Previewing update (pi):\n")).toEqual([BLOCK]);
  });

  test("an error already on stdout (an up's Diagnostics) is not shown again", () => {
    const stdout = `Diagnostics:\n  pulumi:pulumi:Stack (lucid-pi):\n    error: invalid stack config:\n      lucid:pi.hostKey: required\n      lucid:sshPrivateKey: required\n`;
    expect(unseenErrors(STDERR, stdout)).toEqual([]);
  });

  test("different errors each once, in order; lines that are no error's are not shown", () => {
    const stderr = "warning: w\nerror: one\n  detail\nerror: two\nerror: one\n  detail\nplain\n";
    expect(unseenErrors(stderr, "")).toEqual(["one\n  detail", "two"]);
  });
});
