// The first slice end to end, on the real parts: the Pulumi CLI (Automation API), BuildKit, the
// registry, the Pi stand-in's Engine and sshd. Needs scripts/bootstrap.sh to have run.
import * as fs from "fs";
import * as path from "path";
import { getManifest } from "../support/registry";
import { changesOf, e2eStack } from "../support/e2e-stack";
import { devMachineKeys } from "../../stacks/dev-machine";

jest.setTimeout(15 * 60_000);

const REPO = "lucid-e2e";
let ctx: Awaited<ReturnType<typeof e2eStack>>;

beforeAll(async () => {
  ctx = await e2eStack("e2e", { registry: { push: "10.250.0.1:5000", repository: REPO } });
});

afterAll(async () => {
  if (!ctx) return;
  await ctx.stack.destroy({ onOutput: ctx.onOutput });
  ctx.cleanup();
});

describe("pulumi up of the slice", () => {
  test("builds both platforms, pushes a manifest list and runs the arm64 variant on the Pi", async () => {
    const result = await ctx.stack.up({ onOutput: ctx.onOutput });
    expect(result.summary.result).toBe("succeeded");
    expect(result.outputs.piMachine.value).toBe("aarch64");
    expect(result.outputs.archProbeRef.value).toMatch(
      /^10\.250\.0\.1:5000\/lucid-e2e:arch-probe@sha256:[0-9a-f]{64}$/,
    );
  });

  test("the registry holds a manifest list with linux/amd64 and linux/arm64", async () => {
    const { status, body } = await getManifest("10.250.0.1:5000", REPO, "arch-probe");
    expect(status).toBe(200);
    const platforms = body.manifests
      .map((m) => `${m.platform.os}/${m.platform.architecture}`)
      .filter((p: string) => p !== "unknown/unknown") // attestation manifests
      .sort();
    expect(platforms).toEqual(["linux/amd64", "linux/arm64"]);
  });

  test("each platform's image digest is the one in the list", async () => {
    const outputs = await ctx.stack.outputs();
    const digests = outputs.archProbeDigests.value as Record<string, string>;
    const { body } = await getManifest("10.250.0.1:5000", REPO, "arch-probe");
    const listed = Object.fromEntries(
      body.manifests.map((m) => [`${m.platform.os}/${m.platform.architecture}`, m.digest]),
    );
    expect(listed["linux/arm64"]).toBe(digests["linux/arm64"]);
    expect(listed["linux/amd64"]).toBe(digests["linux/amd64"]);
  });

  test("a second up on the unchanged program changes nothing", async () => {
    const result = await ctx.stack.up({ onOutput: ctx.onOutput });
    expect(changesOf(result.summary)).toEqual({});
  });

  test("preview of the unchanged program shows no change", async () => {
    const result = await ctx.stack.preview({ onOutput: ctx.onOutput });
    expect(Object.keys(result.changeSummary).filter((op) => op !== "same")).toEqual([]);
  });

  test("neither the state on disk nor the run's output holds the deploy key", () => {
    // The checkpoint file itself: exportStack() would hand back secrets decrypted.
    const checkpoint = path.join(ctx.dir, "state", ".pulumi", "stacks", "lucid", "e2e.json");
    const state = fs.readFileSync(checkpoint, "utf8");
    const keyLines = devMachineKeys().privateKey.split("\n").slice(1, -2);
    expect(keyLines.length).toBeGreaterThan(2);
    expect(state).toContain('"ciphertext"'); // the key is there, encrypted
    // Booleans, not toContain: a failure must not print the key it found.
    expect(keyLines.some((l) => state.includes(l))).toBe(false);
    expect(keyLines.some((l) => ctx.log.join("").includes(l))).toBe(false);
  });
});
