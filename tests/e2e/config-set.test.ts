// Config values set by the lucid CLI and the dev stack's pinning (stacks/config-set.ts) reach the
// real Pulumi CLI on its stdin, never on its command line, and arrive byte for byte. The CLI is
// the locally built one, run through a wrapper that records its argv and runs it.
import * as auto from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { setConfigValue } from "../../stacks/config-set";
import { lucidHome, pulumiEnv } from "../../stacks/workspace";

jest.setTimeout(3 * 60_000);

const SECRET = '-----BEGIN KEY-----\nit\'s "quoted" $HOME `x` #not-a-comment\n-----END KEY-----\n';

let root: string;
let stack: auto.Stack;
let argvLog: string;
const savedPath = process.env.PATH;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-config-set-"));
  const bin = path.join(root, "bin");
  argvLog = path.join(root, "argv");
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, "pulumi"),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${path.join(lucidHome(), "bin", "pulumi")}' "$@"\n`,
    { mode: 0o755 },
  );
  const work = path.join(root, "work");
  fs.mkdirSync(work);
  fs.mkdirSync(path.join(root, "state"));
  fs.writeFileSync(path.join(work, "Pulumi.yaml"), "name: lucid\nruntime: nodejs\n");
  const base: Record<string, string> = pulumiEnv();
  const envVars = {
    ...base,
    PATH: `${bin}:${base.PATH}`, // the wrapper first, for every call of the CLI
    PULUMI_BACKEND_URL: `file://${path.join(root, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "config-set-test",
  };
  process.env.PATH = envVars.PATH; // PulumiCommand.get checks the CLI's version on this PATH
  const pulumiCommand = await auto.PulumiCommand.get();
  stack = await auto.LocalWorkspace.createOrSelectStack(
    { stackName: "t", projectName: "lucid", program: async () => undefined },
    { workDir: work, envVars, pulumiCommand },
  );
});

afterAll(() => {
  process.env.PATH = savedPath;
  fs.rmSync(root, { recursive: true, force: true });
});

test("a secret: on the CLI's stdin, stored encrypted, read back byte for byte", async () => {
  fs.writeFileSync(argvLog, "");
  await stack.getAllConfig(); // the wrapper is what runs: the Automation API's call is recorded
  expect(fs.readFileSync(argvLog, "utf8")).toContain("config --show-secrets --json --stack t");
  await setConfigValue(stack, "lucid:sshPrivateKey", { value: SECRET, secret: true });
  const calls = fs.readFileSync(argvLog, "utf8");
  expect(calls).toContain("config set lucid:sshPrivateKey --stack t --secret --raw");
  for (const line of SECRET.split("\n").filter(Boolean)) expect(calls).not.toContain(line);
  const file = fs.readFileSync(path.join(stack.workspace.workDir, "Pulumi.t.yaml"), "utf8");
  expect(file).toMatch(/lucid:sshPrivateKey:\n\s+secure: /);
  expect(file).not.toContain("BEGIN KEY");
  expect(await stack.getConfig("lucid:sshPrivateKey")).toEqual({ value: SECRET, secret: true });
});

test("a plain value by path; a failure names the key, never the value", async () => {
  await setConfigValue(stack, "lucid:pi.keepReleases", { value: "4" }, true);
  expect(await stack.getConfig("lucid:pi.keepReleases", true)).toEqual({
    value: "4",
    secret: false,
  });
  const failed = setConfigValue(
    stack,
    "lucid:pi[x",
    { value: "hunter2-value", secret: true },
    true,
  );
  await expect(failed).rejects.toThrow(
    /^pulumi config set lucid:pi\[x failed \(exit 1\): error: could not set config: invalid config key path/,
  );
  await expect(failed).rejects.not.toThrow(/hunter2-value/);
});
