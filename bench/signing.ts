// What signing adds to an `up` (lucid:signing: cosign signatures and Syft's SBOMs, attached as
// attestations): a build-only stack of its own pushes the whole set with signing off (the images
// built already: a push only), then the same stack with signing on signs everything for the
// first time (a new key: nothing of it exists yet), then no-op ups. Prints each step's time, the
// signing resources' own times, and each SBOM's packages and size.
// Usage: npm run bench:signing [-- --runs 3] (the no-op ups; the images of the dev config built)
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { changesOf, e2eStack } from "../tests/support/e2e-stack";
import type { SbomRecord } from "../components/signing-remote";

const arg = (name: string, fallback: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback;
const now = () => Date.now() / 1000;
const secs = (s: number) => `${s.toFixed(1)} s`;

async function main() {
  const runs = Number(arg("--runs", "3"));
  const repository = `lucid-bench-signing-${process.pid}`;
  const ctx = await e2eStack("bench-signing", {
    registry: { push: "10.250.0.1:5000", repository },
    rollout: false,
    signing: false,
  });
  try {
    let t = now();
    await ctx.stack.up({ onOutput: ctx.onOutput });
    const unsigned = now() - t;
    const noop = async () => {
      const times: number[] = [];
      let changes = 0;
      for (let i = 0; i < runs; i++) {
        t = now();
        const r = await ctx.stack.up({ onOutput: ctx.onOutput });
        times.push(now() - t);
        changes += Object.values(changesOf(r.summary)).reduce((a, b) => a + b, 0);
      }
      return `${times.map(secs).join(", ")}; changes: ${changes}`;
    };
    const noopUnsigned = await noop();

    await ctx.stack.setConfig("lucid:signing", { value: "true" });
    const started: Record<string, number> = {};
    const took: Record<string, number> = {};
    const signingType = /^pulumi-nodejs:dynamic\/lucid:(ImageSignature|SigningKey)$/;
    const onEvent = (e: EngineEvent) => {
      const pre = e.resourcePreEvent?.metadata;
      if (pre && signingType.test(pre.type)) started[pre.urn] = now();
      const out = e.resOutputsEvent?.metadata;
      if (out && started[out.urn]) took[out.urn.split("::").pop()!] = now() - started[out.urn];
    };
    t = now();
    const signed = await ctx.stack.up({ onOutput: ctx.onOutput, onEvent });
    const signing = now() - t;
    const sboms = (
      signed.outputs.signing.value as { sboms: Record<string, Record<string, SbomRecord>> }
    ).sboms;

    const noopSigned = await noop();

    console.log(`up, signing off (a push of the built set): ${secs(unsigned)}`);
    console.log(
      `up, signing turned on (its only work: all ${Object.keys(sboms).length} images signed, ` +
        `the first time): ${secs(signing)}`,
    );
    console.log(`no-op up, signing off, ${runs} runs: ${noopUnsigned}`);
    console.log(`no-op up, signing on,  ${runs} runs: ${noopSigned}`);
    console.log("\nsigning resources (each: SBOMs made and attached, index and platforms signed):");
    for (const [name, s] of Object.entries(took).sort())
      console.log(`  ${name.padEnd(28)} ${secs(s)}`);
    console.log("\nSBOM per image and platform (SPDX JSON, by Syft):");
    const rows = [["image", "platform", "packages", "bytes"]];
    for (const [image, byPlatform] of Object.entries(sboms).sort())
      for (const [platform, r] of Object.entries(byPlatform))
        rows.push([image, platform, String(r.packages), String(r.bytes)]);
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) console.log(`  ${r.map((c, i) => c.padEnd(widths[i])).join("  ")}`);
  } finally {
    await ctx.stack.destroy({ onOutput: ctx.onOutput }).catch(() => undefined);
    ctx.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
