// Bad stack config through the real CLI: each run fails naming the key, prints neither the bad
// value nor any secret, and leaves nothing behind: no resource in the stack's state, nothing
// pushed to its repository, nothing on the Pi (no releases directory, no container).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { devMachineKeys } from "../../stacks/dev-machine";
import { PROJECT_DIR } from "../../stacks/workspace";
import { SERVICE_NAMES } from "../../infra/services";
import { e2eStack, onPiStandIn } from "../support/e2e-stack";
import { piContainers } from "../support/pi";
import { getManifest } from "../support/registry";

jest.setTimeout(10 * 60_000);

type Stack = Awaited<ReturnType<typeof e2eStack>>["stack"];
const PROJECT = "lucid-badcfg";
const BAD_TOKEN = "s3cr3t-but-short";
// [case, config over the stand-in's, an edit of the stack, what it says, the bad value given]
const cases: [string, Record<string, unknown>, (s: Stack) => Promise<void>, string, string][] = [
  ["a missing key", {}, (s) => s.removeConfig("lucid:pi"), "lucid:pi: required", ""],
  [
    "an unknown key",
    { colour: "blue-ish-value" },
    async () => undefined,
    "lucid:colour: unknown key",
    "blue-ish-value",
  ],
  [
    "a bad platform",
    { platforms: ["linux/mips-value"] },
    async () => undefined,
    "lucid:platforms.0: Invalid option",
    "linux/mips-value",
  ],
  [
    "a bad host key",
    {},
    (s) => s.setConfig("lucid:pi.hostKey", { value: "10.250.0.2 ssh-ed25519 AAAA" }, true),
    "lucid:pi.hostKey: must be a public host key",
    "10.250.0.2 ssh-ed25519 AAAA",
  ],
  [
    "a malformed digest",
    {},
    (s) =>
      s
        .setConfig("lucid:bases.builder", { value: "debian@sha256:1234" }, true)
        .then(() => undefined),
    "lucid:bases.builder: must be an image reference",
    "debian@sha256:1234",
  ],
  [
    "an upstream base by its tag alone",
    {},
    (s) =>
      s
        .setConfig("lucid:bases.builder", { value: "debian:bookworm-slim-tagged" }, true)
        .then(() => undefined),
    "lucid:bases.builder: an upstream base must be pinned by digest",
    "debian:bookworm-slim-tagged",
  ],
  [
    "a non-secret SSH key",
    {},
    (s) => s.setConfig("lucid:sshPrivateKey", { value: devMachineKeys().privateKey }),
    "lucid:sshPrivateKey: must be a secret",
    devMachineKeys().privateKey.split("\n")[1],
  ],
  [
    "an API token too short",
    {},
    (s) => s.setConfig("lucid:apiToken", { value: BAD_TOKEN, secret: true }),
    "lucid:apiToken: must be 32 to 256 of A-Z a-z 0-9",
    BAD_TOKEN,
  ],
];

describe("lucid up with a bad config", () => {
  test.each(cases)(
    "%s: fails naming the key, nothing created",
    async (_n, over, edit, says, bad) => {
      const ctx = await e2eStack("badcfg", { ...onPiStandIn(PROJECT, 18089), ...over });
      try {
        await edit(ctx.stack);
        // preview and up each name the problem once (not twice, not only on stderr unread)
        for (const command of ["preview", "up"]) {
          const r = spawnSync(
            "node",
            [path.join(PROJECT_DIR, "dist", "bin", "lucid.js"), command, "--stack", "badcfg"],
            {
              encoding: "utf8",
              timeout: 5 * 60_000,
              env: ctx.cliEnv,
            },
          );
          const out = `${r.stdout}${r.stderr}`;
          expect({ command, status: r.status, times: out.split(says).length - 1 }).toEqual({
            command,
            status: 1,
            times: 1,
          });
          const keyLine = devMachineKeys().privateKey.split("\n")[1];
          // booleans: a failure must not print what it found
          expect(out.includes(keyLine)).toBe(false);
          if (bad) expect(out.includes(bad)).toBe(false);
        }
        const { deployment } = await ctx.stack.exportStack();
        const made = ((deployment.resources ?? []) as { type: string }[])
          .map((x) => x.type)
          .filter((t) => t !== "pulumi:pulumi:Stack");
        expect(made).toEqual([]);
        for (const tag of [...SERVICE_NAMES, "lucid-probe"])
          expect([tag, (await getManifest("10.250.0.1:5000", PROJECT, tag)).status]).toEqual([
            tag,
            404,
          ]);
        expect(fs.existsSync(`/home/deploy/${PROJECT}`)).toBe(false);
        expect(piContainers(PROJECT)).toEqual({});
      } finally {
        ctx.cleanup();
      }
    },
  );
});
