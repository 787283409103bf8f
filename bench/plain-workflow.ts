// The original design's workflow, as its plain commands: `docker buildx build --push` for each
// image (bases, probe, the five services, in order, both platforms), then on the Pi over SSH
// `docker-compose pull && docker-compose up -d` of the same compose file, waiting until healthy.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runOnPi } from "../components/pi-remote";
import { lucidCompose } from "../infra/lucid";
import { SERVICES } from "../infra/services";
import { devMachineKeys } from "../stacks/dev-machine";
import { PROJECT_DIR } from "../stacks/workspace";

/** One `docker buildx build --push`; returns the pushed index's reference by digest. */
function buildPush(repo: string, tag: string, context: string, args: Record<string, string>) {
  const meta = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lucid-plain-")), "meta.json");
  const argv = ["buildx", "build", "--builder", "lucid", "--platform", "linux/amd64,linux/arm64"];
  for (const [k, v] of Object.entries(args)) argv.push("--build-arg", `${k}=${v}`);
  if (!context.endsWith("probe"))
    argv.push("--build-context", `common=${path.join(PROJECT_DIR, "infra/images/common")}`);
  argv.push("--push", "-t", `${repo}:${tag}`, "--metadata-file", meta, context);
  execFileSync("docker", argv, { stdio: "ignore", timeout: 30 * 60_000 });
  const digest = JSON.parse(fs.readFileSync(meta, "utf8"))["containerimage.digest"] as string;
  return `${repo}@${digest}`;
}

/** Builds and pushes every image, one command after another; returns service -> ref. */
export function plainBuild(repo: string, builder: string): Record<string, string> {
  const dir = (p: string) => path.join(PROJECT_DIR, "infra", p);
  const base = { BUILDER_IMAGE: builder };
  const runtime = {
    base: buildPush(repo, "runtime-base", dir("bases/runtime"), { ...base, KIND: "base" }),
    python: buildPush(repo, "runtime-python", dir("bases/runtime"), { ...base, KIND: "python" }),
  };
  const probe = buildPush(repo, "lucid-probe", dir("images/common/probe"), base);
  return Object.fromEntries(
    SERVICES.map((s) => [
      s.name,
      buildPush(repo, s.name, dir(`images/${s.name}`), {
        ...base,
        RUNTIME_IMAGE: runtime[s.base],
        PROBE_IMAGE: probe,
      }),
    ]),
  );
}

/** What the Pi is: the stand-in, reached as the dev stack reaches it. */
export const standIn = () => ({
  host: "10.250.0.2",
  port: 22,
  user: "deploy",
  ...devMachineKeys(),
});

/** Copies the compose file to the Pi, then pull and up -d there, as the original design did. */
export async function plainRollout(refs: Record<string, string>, project: string, port: number) {
  const compose = lucidCompose(refs, { gatewayPort: port, platform: "linux/arm64" });
  const dir = `/home/deploy/${project}`;
  const pi = standIn();
  // The same compose file names api-server's token variable; the plain workflow has none to give
  // (compose warns, and api-server runs without signing, as the original design's did).
  await runOnPi(pi, `mkdir -p ${dir} && cat > ${dir}/docker-compose.yml`, { stdin: compose });
  const dc = `docker-compose --ansi never -p ${project} -f ${dir}/docker-compose.yml`;
  await runOnPi(pi, `${dc} pull --quiet && ${dc} up -d`, { timeoutMs: 20 * 60_000 });
}

/** Takes a plain rollout down (volumes kept, like the rollout's teardown). */
export async function plainDown(project: string) {
  const dir = `/home/deploy/${project}`;
  await runOnPi(
    standIn(),
    `docker-compose --ansi never -p ${project} -f ${dir}/docker-compose.yml down && rm -rf ${dir}`,
    { timeoutMs: 5 * 60_000 },
  );
}
