// Bad stack config through the real CLI: each run fails naming the key, prints no secret, and
// leaves nothing behind (no resource in the stack's state, nothing built or rolled out).
import { spawnSync } from "child_process";
import * as path from "path";
import { devMachineKeys } from "../../stacks/dev-machine";
import { PROJECT_DIR } from "../../stacks/workspace";
import { e2eStack } from "../support/e2e-stack";

jest.setTimeout(10 * 60_000);

type Stack = Awaited<ReturnType<typeof e2eStack>>["stack"];
const cases: [string, Record<string, unknown>, (s: Stack) => Promise<void>, string][] = [
  ["a missing key", {}, (s) => s.removeConfig("lucid:registry"), "lucid:registry: required"],
  ["an unknown key", { colour: "blue" }, async () => undefined, "lucid:colour: unknown key"],
  [
    "a bad platform",
    { platforms: ["linux/arm/v7"] },
    async () => undefined,
    "lucid:platforms.0: Invalid option",
  ],
  [
    "a bad host key",
    {},
    (s) => s.setConfig("lucid:pi.hostKey", { value: "10.250.0.2 ssh-ed25519 AAAA" }, true),
    "lucid:pi.hostKey: must be a public host key",
  ],
  [
    "a malformed digest",
    {},
    (s) =>
      s
        .setConfig("lucid:bases.builder", { value: "debian@sha256:1234" }, true)
        .then(() => undefined),
    "lucid:bases.builder: must be an image reference",
  ],
  [
    "a non-secret SSH key",
    {},
    (s) => s.setConfig("lucid:sshPrivateKey", { value: devMachineKeys().privateKey }),
    "lucid:sshPrivateKey: must be a secret",
  ],
];

describe("lucid up with a bad config", () => {
  test.each(cases)("%s: fails naming the key, nothing created", async (_n, over, edit, says) => {
    const ctx = await e2eStack("badcfg", over);
    try {
      await edit(ctx.stack);
      const r = spawnSync(
        "node",
        [path.join(PROJECT_DIR, "dist", "bin", "lucid.js"), "up", "--stack", "badcfg"],
        {
          encoding: "utf8",
          timeout: 5 * 60_000,
          env: ctx.cliEnv,
        },
      );
      const out = `${r.stdout}${r.stderr}`;
      expect(r.status).toBe(1);
      expect(out).toContain(says);
      const keyLine = devMachineKeys().privateKey.split("\n")[1];
      expect(out.includes(keyLine)).toBe(false); // a boolean: a failure must not print it
      const { deployment } = await ctx.stack.exportStack();
      const made = ((deployment.resources ?? []) as { type: string }[])
        .map((x) => x.type)
        .filter((t) => t !== "pulumi:pulumi:Stack");
      expect(made).toEqual([]);
    } finally {
      ctx.cleanup();
    }
  });
});
