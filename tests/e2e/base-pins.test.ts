// `lucid pin-bases` against the real registry: a pinned base moves to the digest its tag names
// now, written into the stack's file; run again, nothing moves. (An upstream base named by tag
// alone is refused by the config check: bad-config.test.ts.)
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { e2eStack } from "../support/e2e-stack";
import { REGISTRY } from "../support/built-images";

jest.setTimeout(5 * 60_000);

const TAG = `${REGISTRY}/lucid-test-pins:builder`;
const OLD = `sha256:${"0".repeat(64)}`;

/** Points TAG at what SOURCE is (its manifest list, copied); returns the digest TAG names now. */
function moveTag(source: string): string {
  execFileSync("docker", ["buildx", "imagetools", "create", "--tag", TAG, source], {
    stdio: "ignore",
  });
  const out = execFileSync(
    "docker",
    ["buildx", "imagetools", "inspect", "--format", "{{json .Manifest}}", TAG],
    { encoding: "utf8" },
  );
  return (JSON.parse(out) as { digest: string }).digest;
}

let ctx: Awaited<ReturnType<typeof e2eStack>>;
beforeAll(async () => {
  ctx = await e2eStack("pins", { bases: { debian: "bookworm", builder: `${TAG}@${OLD}` } });
});
afterAll(() => ctx?.cleanup());

const stackFile = () => fs.readFileSync(path.join(ctx.dir, "Pulumi.pins.yaml"), "utf8");

test("pins move to the digest the tag names now, and stay when it has not moved", async () => {
  const first = moveTag(`${REGISTRY}/lucid/debian:bookworm`);
  let r = await ctx.cli(["pin-bases"]);
  expect(r).toEqual({ code: 0, out: `lucid:bases.builder: ${TAG}@${OLD} -> ${TAG}@${first}\n` });
  expect(stackFile()).toContain(`builder: ${TAG}@${first}`);

  const second = moveTag(`${REGISTRY}/lucid/debian:trixie`);
  expect(second).not.toBe(first);
  r = await ctx.cli(["pin-bases"]);
  expect(r).toEqual({ code: 0, out: `lucid:bases.builder: ${TAG}@${first} -> ${TAG}@${second}\n` });
  const file = stackFile();
  expect(file).toContain(`builder: ${TAG}@${second}`);

  r = await ctx.cli(["pin-bases"]);
  expect(r).toEqual({
    code: 0,
    out: `lucid:bases.builder: ${TAG}@${second} (the current digest already)\n`,
  });
  expect(stackFile()).toBe(file);
});
