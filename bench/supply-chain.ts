// Prints what each image of a stack records of itself (Debian packages per image and platform,
// from its status.d) and how long `lucid updates` takes for the whole set (each run a new
// container of the builder base: apt-get update from the mirror every time, as a scheduled check
// would). Run the stack's up first. Usage: npm run bench:supply-chain [-- --stack dev --runs 3]
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { atDigest } from "../components/image-ref";
import { recordedIn, type ImageSet } from "../stacks/package-updates";

const arg = (name: string, fallback: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback;

function main() {
  const stack = arg("--stack", "dev");
  const runs = Number(arg("--runs", "3"));
  const lucid = path.join(__dirname, "..", "bin", "lucid.js");
  const out = execFileSync("node", [lucid, "outputs", "--stack", stack], { encoding: "utf8" });
  const line = out.split("\n").find((l) => l.startsWith("services: "));
  if (!line) throw new Error(`stack ${stack} has no services output: run its up first`);
  const images = JSON.parse(line.slice("services: ".length)) as ImageSet;

  const rows = [["service", "platform", "Debian packages recorded"]];
  for (const [service, { ref, digests }] of Object.entries(images)) {
    for (const [platform, digest] of Object.entries(digests))
      rows.push([service, platform, String(recordedIn(atDigest(ref, digest), platform).length)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));

  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = Date.now();
    const r = spawnSync("node", [lucid, "updates", "--stack", stack], { encoding: "utf8" });
    times.push((Date.now() - t0) / 1000);
    if (r.status !== 0 && r.status !== 2) throw new Error(`lucid updates failed:\n${r.stderr}`);
    if (i === 0) console.log(`\nlucid updates (exit ${r.status}):\n${r.stdout.trim()}`);
  }
  console.log(
    `\nlucid updates, whole set, ${runs} runs: ${times.map((t) => `${t.toFixed(1)} s`).join(", ")}`,
  );
}

try {
  main();
} catch (err: unknown) {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
