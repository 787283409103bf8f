// What the lucid CLI's commands and the drift check's refresh run besides the operation itself
// (stacks/workspace.ts: withoutReadback, stackFor): the Automation API's own Stack, driving a fake
// `pulumi` that records each run's arguments. The real CLI: tests/e2e and bench/noop-up.ts.
import * as auto from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { refreshDrift } from "../../stacks/drift-check";
import { stackFor, withoutReadback } from "../../stacks/workspace";

/** Answers each command with what the API parses (JSON where it reads JSON); logs its argv. */
const FAKE_PULUMI = `#!/bin/sh
echo "$*" >>"$FAKE_LOG"
case "$1 $2" in
  "version "*) echo v3.276.0 ;;
  "stack output") echo '{}' ;;
  "stack history") echo '[]' ;;
  "stack export") echo '{"version":3,"deployment":{"resources":[{"urn":"urn:r","type":"pulumi-nodejs:dynamic/lucid:PiRollout"}]}}' ;;
esac
`;

let dir: string;
let log: string;
let stack: auto.Stack;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-readback-"));
  fs.mkdirSync(path.join(dir, "bin"));
  fs.writeFileSync(path.join(dir, "bin", "pulumi"), FAKE_PULUMI, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: lucid\nruntime: nodejs\n");
  log = path.join(dir, "runs.log");
  const pulumiCommand = await auto.PulumiCommand.get({ root: dir });
  const workspace = await auto.LocalWorkspace.create({
    workDir: dir,
    pulumiCommand,
    envVars: { FAKE_LOG: log },
  });
  stack = await auto.Stack.select("s", workspace);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The commands the fake was run with during `op` (`stack` with its subcommand). */
async function runsOf(op: () => Promise<unknown>): Promise<string[]> {
  fs.writeFileSync(log, "");
  await op();
  return fs
    .readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) =>
      l
        .split(" ")
        .slice(0, l.startsWith("stack ") ? 2 : 1)
        .join(" "),
    );
}

test("the API's own up, refresh and destroy read the stack back: three more CLI runs", async () => {
  // What withoutReadback saves; if the API stops reading back, the test below proves nothing.
  expect(await runsOf(() => stack.up())).toEqual([
    "up",
    "stack output",
    "stack output",
    "stack history",
  ]);
  expect(await runsOf(() => stack.refresh())).toEqual(["refresh", "stack history"]);
  expect(await runsOf(() => stack.destroy())).toEqual(["destroy", "stack history"]);
});

test("withoutReadback: up, refresh and destroy run the operation alone", async () => {
  const view = withoutReadback(stack);
  expect(await runsOf(() => view.up())).toEqual(["up"]);
  expect(await runsOf(() => view.refresh())).toEqual(["refresh"]);
  expect(await runsOf(() => view.destroy())).toEqual(["destroy"]);
  // the stack itself still reads back (`lucid outputs` uses it)
  expect(await runsOf(() => stack.outputs())).toEqual(["stack output", "stack output"]);
});

test("the drift check's refresh (tests call it; the CLI's runs on a view) reads nothing back", async () => {
  expect(await runsOf(() => refreshDrift(stack, { write: true }))).toEqual([
    "stack export",
    "refresh",
  ]);
});

test("stackFor: every lucid command runs without the read-back but outputs, which reads it", async () => {
  expect(await runsOf(() => stackFor("up", stack).up())).toEqual(["up"]);
  expect(await runsOf(() => stackFor("refresh", stack).refresh())).toEqual(["refresh"]);
  expect(await runsOf(() => stackFor("destroy", stack).destroy())).toEqual(["destroy"]);
  expect(await runsOf(() => stackFor("outputs", stack).outputs())).toEqual([
    "stack output",
    "stack output",
  ]);
});
