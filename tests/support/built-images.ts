import type { EngineEvent } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as path from "path";
import { lucidHome } from "../../stacks/workspace";
import { e2eStack } from "./e2e-stack";

export const REGISTRY = "10.250.0.1:5000";

/** The Debian releases the images are tested on: bookworm (the default) and trixie. */
export const RELEASES = (process.env.LUCID_TEST_DEBIAN ?? "bookworm,trixie").split(",") as (
  "bookworm" | "trixie"
)[];

/** The test repository of a release's images. */
export const repositoryFor = (debian: string) => `${REGISTRY}/lucid-test-${debian}`;

export type Built = Record<string, { ref: string; digests: Record<string, string> }>;

/**
 * The images as the program builds them, in their own stack and repository. Kept between runs
 * (under LUCID_HOME), so a second test file, or a second run, finds them built: an unchanged
 * `up` rebuilds nothing.
 */
export async function builtImages(
  debian: string,
  opts: { onEvent?: (e: EngineEvent) => void } = {},
): Promise<Built> {
  const ctx = await e2eStack(
    `images-${debian}`,
    {
      registry: { push: REGISTRY, repository: `lucid-test-${debian}` },
      bases: { debian, builder: `${REGISTRY}/lucid/debian:${debian}`, runtime: "local" },
      rollout: false,
    },
    { keep: true },
  );
  const result = await ctx.stack.up({ onOutput: ctx.onOutput, onEvent: opts.onEvent });
  if (result.summary.result !== "succeeded") throw new Error(ctx.log.join("").slice(-4000));
  return result.outputs.services.value as Built;
}

export const tripletOf = (platform: string) =>
  platform === "linux/arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";

/**
 * Every release's images, for a test file's setup. scripts/test.sh builds them first, in its own
 * bounded step with progress (tests/support/prepare-images.ts), so here each `up` finds them built
 * and changes nothing: a hook's timeout never has to cover a cold build. One stack at a time.
 */
export async function preparedImages(): Promise<Record<string, Built>> {
  const built: Record<string, Built> = {};
  for (const d of RELEASES)
    built[d] =
      process.env.LUCID_IMAGES_PREPARED === "1" ? preparedOutputs(d) : await builtImages(d);
  return built;
}

/**
 * The images scripts/test.sh's prepare step has just built (it says so: LUCID_IMAGES_PREPARED=1),
 * read from their stack's outputs: no `up`, so test files running side by side never take the
 * same stack's lock.
 */
function preparedOutputs(debian: string): Built {
  const name = `images-${debian}`;
  const file = path.join(
    lucidHome(),
    "stacks",
    `test-${name}`,
    "state",
    ".pulumi",
    "stacks",
    "lucid",
    `${name}.json`,
  );
  const { checkpoint } = JSON.parse(fs.readFileSync(file, "utf8")) as {
    checkpoint: { latest?: { resources?: { type: string; outputs?: { services?: Built } }[] } };
  };
  const root = checkpoint.latest?.resources?.find((r) => r.type === "pulumi:pulumi:Stack");
  if (!root?.outputs?.services) throw new Error(`${file}: no services output; run scripts/test.sh`);
  return root.outputs.services;
}
