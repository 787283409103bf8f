import { parseArgs } from "../../bin/args";

// The lucid CLI's command line: what it runs, and errors that name what is wrong without ever
// echoing a word that may be a value (a secret typed in the wrong place).

const SECRET = "hunter2-s3cr3t";
const error = (argv: string[]) => {
  try {
    parseArgs(argv);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`accepted: ${argv.join(" ")}`);
};

test("config set, get and rm: the key, the value when given, --secret and --path", () => {
  expect(parseArgs(["config", "set", "lucid:pi.host", "10.0.0.2", "--path", "-s", "pi"])).toEqual({
    command: "config",
    stack: "pi",
    refresh: false,
    showSecrets: false,
    yes: false,
    diff: false,
    targets: [],
    expectNoChanges: false,
    config: { action: "set", key: "lucid:pi.host", value: "10.0.0.2", secret: false, path: true },
  });
  expect(parseArgs(["config", "set", "lucid:apiToken", "--secret"]).config).toEqual({
    action: "set",
    key: "lucid:apiToken",
    value: undefined,
    secret: true,
    path: false,
  });
  expect(parseArgs(["up", "--refresh", "--yes"])).toMatchObject({ command: "up", refresh: true });
});

test.each([
  [
    ["config", "set", SECRET],
    /^lucid config set: the key given is not lucid:<name>, e\.g\. lucid:pi\.host/,
  ],
  [
    ["config", "get", "lucid:apiToken", SECRET],
    /^lucid config get: 1 argument\(s\) after KEY, none expected; not shown/,
  ],
  [
    ["config", "set", "lucid:apiToken", "a", SECRET],
    /^lucid config set: 2 argument\(s\) after KEY, one expected; not shown/,
  ],
  [["up", SECRET], /^lucid up: takes no word like the one given \(not shown: it may be a value\)$/],
  [["up", "--frob"], /^lucid up: unknown option '--frob'$/],
  [["config", "set"], /^lucid config set: no KEY: it must be lucid:<name>/],
])("%j: a clear error, no value in it", (argv, message) => {
  const said = error(argv);
  expect(said).toMatch(message);
  expect(said).not.toContain(SECRET);
});

test("up, preview, refresh and destroy take Pulumi's --yes, --diff, --target and --expect-no-changes where Pulumi does", () => {
  const urn = "urn:pulumi:pi::lucid::lucid:Rollout$pulumi-nodejs:dynamic:Resource::rollout";
  expect(
    parseArgs(["up", "--yes", "--diff", "--target", urn, "-t", urn, "--expect-no-changes"]),
  ).toMatchObject({ yes: true, diff: true, targets: [urn, urn], expectNoChanges: true });
  expect(parseArgs(["destroy", "-y"])).toMatchObject({ yes: true, targets: [] });
  expect(parseArgs(["preview", "--expect-no-changes"])).toMatchObject({ expectNoChanges: true });
  expect(error(["preview", "--yes"])).toBe("lucid preview: unknown option '--yes'");
  expect(error(["drift", "--target", urn])).toBe("lucid drift: unknown option '--target'");
  expect(error(["up", "--target", "rollout"])).toMatch(
    /^lucid up: --target needs a resource's URN \(urn:pulumi:…/,
  );
});
