import { e2eStack } from "./e2e-stack";

export const TEST_REPOSITORY = "lucid-test";
export const REGISTRY = "10.250.0.1:5000";

export type Built = Record<string, { ref: string; digests: Record<string, string> }>;

/**
 * The images as the program builds them, in their own stack and repository. Kept between runs
 * (under LUCID_HOME), so a second test file, or a second run, finds them built: an unchanged
 * `up` rebuilds nothing.
 */
export async function builtImages(): Promise<Built> {
  const ctx = await e2eStack(
    "images",
    { registry: { push: REGISTRY, repository: TEST_REPOSITORY } },
    {
      keep: true,
    },
  );
  const result = await ctx.stack.up({ onOutput: ctx.onOutput });
  if (result.summary.result !== "succeeded") throw new Error(ctx.log.join("").slice(-4000));
  return result.outputs.images.value as Built;
}

export const repository = `${REGISTRY}/${TEST_REPOSITORY}`;
export const tripletOf = (platform: string) =>
  platform === "linux/arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
