// How long an `up` that changes nothing takes, as a user waits for it: `lucid up` of a stack that
// is up to date, N times, each a new process (the wall time), with the engine's own figure (its
// "Duration:" line) and what it reported as unchanged. Run the stack's up first.
// Usage: npm run bench:noop-up [-- --stack dev --runs 5]
import { spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";

const arg = (name: string, fallback: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function main() {
  const stack = arg("--stack", "dev");
  const runs = Number(arg("--runs", "5"));
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs: a whole number, 1 or more");
  const lucid = path.join(__dirname, "..", "bin", "lucid.js");
  console.log(
    `lucid up --stack ${stack}, ${runs} runs; load average ${os.loadavg()[0].toFixed(2)}`,
  );
  const walls: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [lucid, "up", "--stack", stack], {
      encoding: "utf8",
      timeout: 300_000,
      maxBuffer: 64 << 20,
    });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0)
      throw new Error(`lucid up failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
    // the up's own summary: the last one printed (another stack's up shows a preview's first)
    const block = [...r.stdout.matchAll(/Resources:\n([\s\S]*?)\n\n/g)].at(-1)?.[1];
    if (!block) throw new Error(`run ${i}: no "Resources:" summary in lucid up's output`);
    const changes = block
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => /^\d+ \w+$/.test(l));
    if (changes.length === 0 || changes.some((c) => !/unchanged$/.test(c)))
      throw new Error(`run ${i} changed something (not a no-op): ${changes.join(", ")}`);
    const engine = /Duration: (\S+)/.exec(r.stdout)?.[1] ?? "?";
    walls.push(wall);
    console.log(`run ${i}: ${wall.toFixed(2)} s wall; engine ${engine}; ${changes.join(", ")}`);
  }
  console.log(`median ${median(walls).toFixed(2)} s wall (min ${Math.min(...walls).toFixed(2)} s)`);
}

main();
