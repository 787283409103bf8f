// openStack (stacks/workspace.ts): the program is given the stack's project directory, absolute,
// and the process keeps its own working directory. A fake `pulumi` (first on the PATH openStack
// sets: LUCID_HOME/bin) answers what opening a stack asks. The real CLI: tests/e2e.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { openStack } from "../../stacks/workspace";

const FAKE_PULUMI = `#!/bin/sh
case "$1" in
  version) echo v3.276.0 ;;
esac
`;

let home: string;
let project: string;
const saved = { cwd: process.cwd(), path: process.env.PATH, home: process.env.LUCID_HOME };

beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-open-stack-"));
  fs.mkdirSync(path.join(home, "bin"));
  fs.writeFileSync(path.join(home, "bin", "pulumi"), FAKE_PULUMI, { mode: 0o755 });
  project = path.join(home, "project");
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: lucid\nruntime: nodejs\n");
  process.env.LUCID_HOME = home;
});

afterAll(() => {
  process.chdir(saved.cwd);
  process.env.PATH = saved.path;
  if (saved.home === undefined) delete process.env.LUCID_HOME;
  else process.env.LUCID_HOME = saved.home;
  fs.rmSync(home, { recursive: true, force: true });
});

test("the program gets the work directory, absolute; the working directory stays", async () => {
  const given: string[] = [];
  process.chdir(home);
  const stack = await openStack({
    stackName: "s",
    program: (projectDir) => {
      given.push(projectDir);
      return () => Promise.resolve({});
    },
    workDir: "project", // relative to the working directory, as LUCID_WORK_DIR may be
  });
  expect(given).toEqual([project]);
  expect(stack.workspace.workDir).toBe(project);
  expect(process.cwd()).toBe(home);
});
