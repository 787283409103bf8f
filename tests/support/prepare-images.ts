// The test run's prepare step (scripts/test.sh runs it before jest): every image the tests use,
// of every release, both platforms, built once with progress. The suites then find them built (an
// unchanged `up` is a no-op), so no test's timeout has to allow for a cold build under QEMU.
// Its bound is the script's (`timeout` in scripts/test.sh), from a measured cold build.
import { startProgress, clock } from "../../stacks/progress";
import { builtImages, RELEASES } from "./built-images";

async function main(): Promise<void> {
  const started = Date.now();
  for (const [i, debian] of RELEASES.entries()) {
    const label = `test images ${i + 1}/${RELEASES.length} (${debian})`;
    console.log(`[lucid] ${label}: building (or finding built) every image, both platforms`);
    const progress = startProgress({ label, release: debian, platforms: 2, out: process.stdout });
    const t0 = Date.now();
    try {
      await builtImages(debian, { onEvent: progress.onEvent });
    } finally {
      progress.stop();
    }
    console.log(`[lucid] ${label}: ready in ${clock(Date.now() - t0)}`);
  }
  console.log(`[lucid] test images: all ready in ${clock(Date.now() - started)}`);
}

main().catch((err: unknown) => {
  console.error(`[lucid] test images: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
