import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { lucidHome } from "../../stacks/workspace";
import { docker, dockerResult } from "./docker";

/**
 * The tests' MongoDB: FerretDB (tests/support/ferretdb, built by `scripts/go-tools.sh ferretdb`),
 * a static binary alone in an image, imported once per build into the build side's Engine, or
 * `host`'s (the Pi stand-in's).
 */
export function ferretdbImage(host?: string): string {
  const bin = path.join(lucidHome(), "bin", "ferretdb-test");
  if (!fs.existsSync(`${bin}.version`))
    throw new Error(
      `no ${bin}: run scripts/go-tools.sh ferretdb (the bootstrap does, for the tests)`,
    );
  const tag = `lucid-test/ferretdb:${fs.readFileSync(`${bin}.version`, "utf8").trim()}`;
  if (dockerResult(["image", "inspect", tag], undefined, host).code === 0) return tag;
  const tar = spawnSync(
    "tar",
    ["-C", path.dirname(bin), "-c", "--transform", "s/.*/ferretdb/", path.basename(bin)],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  if (tar.status !== 0) throw new Error(`tar of ${bin}: ${String(tar.stderr)}`);
  const imported = spawnSync(
    "/usr/bin/docker",
    ["import", "--change", 'ENTRYPOINT ["/ferretdb"]', "-", tag],
    {
      input: tar.stdout,
      encoding: "utf8",
      timeout: 120_000,
      env: host ? { ...process.env, DOCKER_HOST: host } : process.env,
    },
  );
  if (imported.status !== 0) throw new Error(`docker import ${tag}: ${imported.stderr}`);
  return tag;
}

/**
 * Starts FerretDB as `mongo` on a network (an unprivileged user, a read-only root, its databases
 * on a tmpfs), on the build side's Engine or `host`'s; returns the container's name. Waits
 * (bounded: 30 s) until it listens.
 */
export async function startMongo(name: string, network: string, host?: string): Promise<string> {
  // one left by an interrupted run would hold the name (and, on the Pi, the set's network)
  const remove = () => dockerResult(["rm", "-f", "-v", name], 60_000, host);
  remove();
  docker(
    [
      "run",
      "-d",
      "--name",
      name,
      "--network",
      network,
      "--network-alias",
      "mongo",
      "--user",
      "65532:65532",
      "--read-only",
      "--tmpfs",
      "/state:uid=65532,gid=65532,mode=700",
      "--tmpfs",
      "/tmp:uid=65532,gid=65532",
      ferretdbImage(host),
      "-listen",
      "0.0.0.0:27017",
      "-dir",
      "/state",
    ],
    { host },
  );
  const logs = () => dockerResult(["logs", name], 30_000, host);
  for (let i = 0; i < 60; i++) {
    const { stdout, stderr } = logs();
    if (`${stdout}${stderr}`.includes("Listening on TCP")) return name;
    await new Promise((r) => setTimeout(r, 500));
  }
  const said = logs().stderr;
  remove();
  throw new Error(`FerretDB (${name}) did not listen within 30 s: ${said}`);
}
