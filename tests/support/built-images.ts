import type { EngineEvent } from "@pulumi/pulumi/automation";
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
 * and changes nothing: a hook's timeout never has to cover a cold build. One stack at a time:
 * each run chdirs to its stack's work directory.
 */
export async function preparedImages(): Promise<Record<string, Built>> {
  const built: Record<string, Built> = {};
  for (const d of RELEASES) built[d] = await builtImages(d);
  return built;
}
