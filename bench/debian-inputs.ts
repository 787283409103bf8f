// Prints what the build input DEBIAN_PACKAGES costs and holds: how long resolving every image's
// input (both platforms) takes with nothing kept (the suites' indices downloaded and parsed),
// then with everything kept (three InRelease requests), and how many packages each input names
// (per arch; the probe's input holds both arches' lists, as its stage runs on the build machine).
// Usage: npm run bench:debian-inputs [-- --debian bookworm --runs 3]
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DebianIndices } from "../components/debian/mirror";
import { PROBE_PACKAGES, RUNTIME_PACKAGES } from "../infra/debian-packages";
import { SERVICES } from "../infra/services";
import { DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR } from "../stacks/config";

const arg = (name: string, fallback: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback;

/** Each input as the graph asks for it: the bases' packages alone, the others with dependencies. */
const INPUTS: [string, readonly string[], boolean][] = [
  ["runtime-base", RUNTIME_PACKAGES.base, false],
  ["runtime-python", RUNTIME_PACKAGES.python, false],
  ["lucid-probe", PROBE_PACKAGES, true],
  ...SERVICES.map((s) => [s.name, s.debian, true] as [string, readonly string[], boolean]),
];
const ARCHES = ["amd64", "arm64"];

async function resolveAll(release: string, cache: string) {
  const indices = new DebianIndices(
    release,
    { debian: DEBIAN_MIRROR, security: DEBIAN_SECURITY_MIRROR },
    cache,
  );
  const t0 = process.hrtime.bigint();
  const lines = await Promise.all(
    INPUTS.map(([, roots, deps]) =>
      Promise.all(ARCHES.map((a) => indices.versions(a, roots, deps))),
    ),
  );
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, lines };
}

async function main() {
  const release = arg("--debian", "bookworm");
  const runs = Number(arg("--runs", "3"));
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-bench-indices-"));
  try {
    const cold = await resolveAll(release, cache);
    console.log(`${release}, every input, both platforms, nothing kept: ${cold.ms.toFixed(0)} ms`);
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) warm.push((await resolveAll(release, cache)).ms);
    console.log(
      `the same, all kept, ${runs} runs: ${warm.map((m) => `${m.toFixed(0)} ms`).join(", ")}`,
    );
    console.log("\nimage           packages (amd64 / arm64)");
    INPUTS.forEach(([name], i) =>
      console.log(
        `${name.padEnd(16)}${cold.lines[i].map((l) => l.split("\n").length).join(" / ")}`,
      ),
    );
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
