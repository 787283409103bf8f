// Prints each Lucid image's size per platform, uncompressed (the unpacked layers, as the Pi's
// disk holds them) and compressed (the layer bytes in the registry, what the Pi downloads),
// next to the original design's claims and our targets. Reads the built images from a stack's
// outputs; run `scripts/dev-up.sh` first. Usage: npm run bench:sizes [-- --stack dev]
import { execFileSync } from "child_process";
import * as path from "path";
import { getManifest } from "../tests/support/registry";

const CLAIMED_MB: Record<string, number> = {
  "tor-proxy": 150,
  "api-server": 300,
  "api-gateway": 80,
  "tunnel-tools": 120,
  "server-tools": 160,
};
const TARGET_MB: Record<string, number> = {
  "tor-proxy": 30,
  "api-gateway": 25,
  "api-server": 80,
  "tunnel-tools": 70,
  "server-tools": 70,
};

type Built = Record<string, { ref: string; digests: Record<string, string> }>;

const MB = (bytes: number) => (bytes / 1e6).toFixed(1);

/** Sizes of one platform image: compressed from its manifest, uncompressed from its layers. */
async function sizes(registry: string, repo: string, digest: string) {
  const { status, body: manifest } = await getManifest(registry, repo, digest);
  if (status !== 200) throw new Error(`${registry}/${repo}@${digest}: registry answered ${status}`);
  const compressed = (manifest.layers ?? []).reduce((n, l) => n + l.size, 0);
  const ref = `${registry}/${repo}@${digest}`;
  execFileSync("docker", ["pull", "--quiet", ref], { stdio: "ignore" });
  const uncompressed = Number(
    execFileSync("docker", ["image", "inspect", "--format", "{{.Size}}", ref], {
      encoding: "utf8",
    }),
  );
  return { compressed, uncompressed, layers: (manifest.layers ?? []).length };
}

async function main() {
  const stack = process.argv.includes("--stack")
    ? process.argv[process.argv.indexOf("--stack") + 1]
    : "dev";
  const out = execFileSync(
    "node",
    [path.join(__dirname, "..", "bin", "lucid.js"), "outputs", "--stack", stack],
    { encoding: "utf8" },
  );
  const line = out.split("\n").find((l) => l.startsWith("services: "));
  if (!line) throw new Error(`stack ${stack} has no services output: run its up first`);
  const built = JSON.parse(line.slice("services: ".length)) as Built;
  const rows: string[][] = [
    [
      "service",
      "platform",
      "uncompressed MB",
      "compressed MB",
      "layers",
      "claimed MB",
      "target MB",
      "target met",
    ],
  ];
  for (const [name, image] of Object.entries(built)) {
    // 10.250.0.1:5000/lucid@sha256:... -> registry, repository
    const registry = image.ref.split("/")[0];
    const repo = image.ref.slice(registry.length + 1, image.ref.indexOf("@"));
    for (const [platform, digest] of Object.entries(image.digests)) {
      const s = await sizes(registry, repo, digest);
      const met = s.uncompressed / 1e6 <= TARGET_MB[name] ? "yes" : "NO";
      rows.push([
        name,
        platform,
        MB(s.uncompressed),
        MB(s.compressed),
        String(s.layers),
        String(CLAIMED_MB[name]),
        String(TARGET_MB[name]),
        met,
      ]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
