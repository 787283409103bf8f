// Builders people have (issue 18): a stock `docker-container` buildx builder, the kind Docker
// Desktop and `docker buildx create` make (scripts/buildkit-container.sh: lucid-container, its
// BuildKit image built here), builds and pushes the whole set for both platforms through a
// build-only stack (lucid:rollout false, lucid:builder lucid-container). And a builder that does
// not exist, or is not running: the error names it, and nothing is pushed. And the same inputs
// built by the lucid builder give the same images (reproducible builds).
import * as path from "path";
import { spawnSync } from "child_process";
import { SERVICE_NAMES } from "../../infra/services";
import { lucidHome } from "../../stacks/workspace";
import { e2eStack } from "../support/e2e-stack";
import { getManifest } from "../support/registry";

jest.setTimeout(40 * 60_000);

const REGISTRY = "10.250.0.1:5000";
const BUILDX = path.join(lucidHome(), "bin", "docker-buildx");
const buildx = (args: string[]) => spawnSync(BUILDX, args, { encoding: "utf8", timeout: 60_000 });

/** A build-only stack of its own through `builder`, into its own repository. */
async function buildOnly(name: string, builder: string, repository: string) {
  return e2eStack(name, {
    registry: { push: REGISTRY, repository },
    rollout: false,
    builder,
  });
}

/** The tags the repository holds (none when it was never pushed to). */
function tags(repository: string): string[] {
  const r = spawnSync(
    "curl",
    [
      "-s",
      "--max-time",
      "10",
      "--cacert",
      path.join(lucidHome(), "registry", "tls", "ca.crt"),
      `https://${REGISTRY}/v2/${repository}/tags/list`,
    ],
    { encoding: "utf8", timeout: 20_000 },
  );
  return (JSON.parse(r.stdout || "{}") as { tags?: string[] }).tags ?? [];
}

/** What the docker-container builder built: each service's digest per platform. */
let containerBuilt: Record<string, Record<string, string>> | undefined;

test("a docker-container builder builds and pushes the set, both platforms", async () => {
  expect(buildx(["inspect", "lucid-container"]).stdout).toMatch(/Driver: +docker-container/);
  const ctx = await buildOnly("builder-container", "lucid-container", "lucid-e2e-container");
  try {
    const result = await ctx.stack.up({ onOutput: ctx.onOutput });
    expect(result.summary.result).toBe("succeeded");
    const services = result.outputs.services.value as Record<
      string,
      { ref: string; digests: Record<string, string> }
    >;
    expect(Object.keys(services).sort()).toEqual([...SERVICE_NAMES].sort());
    containerBuilt = Object.fromEntries(SERVICE_NAMES.map((n) => [n, services[n].digests]));
    for (const name of SERVICE_NAMES) {
      const [repo, digest] = services[name].ref.slice(`${REGISTRY}/`.length).split("@");
      const { status, body } = await getManifest(REGISTRY, repo, digest);
      const platforms = body.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`);
      expect([name, status, platforms.sort()]).toEqual([name, 200, ["linux/amd64", "linux/arm64"]]);
    }
    // and it was that builder: buildx names the instance and its driver for every build
    expect(ctx.log.join("")).toMatch(
      /building with "lucid-container" instance using docker-container driver/,
    );
  } finally {
    await ctx.stack.destroy({ onOutput: ctx.onOutput }).catch(() => undefined);
    ctx.cleanup();
  }
});

// Reproducible builds: the same inputs built by another BuildKit, with a cache of its own (the
// lucid builder: another daemon, another Engine, never sharing a layer with lucid-container), give
// the same image, byte for byte, for every service of both base kinds and both platforms.
// (BuildKit's times come from SOURCE_DATE_EPOCH, the export clamps file times: DistrolessImage.)
test("the lucid builder builds the same inputs into the same images: the same digests", async () => {
  expect(containerBuilt).toBeDefined();
  const ctx = await buildOnly("builder-remote", "lucid", "lucid-e2e-remote");
  try {
    const result = await ctx.stack.up({ onOutput: ctx.onOutput });
    const services = result.outputs.services.value as Record<
      string,
      { digests: Record<string, string> }
    >;
    for (const name of SERVICE_NAMES)
      expect([name, services[name].digests]).toEqual([name, containerBuilt![name]]);
  } finally {
    await ctx.stack.destroy({ onOutput: ctx.onOutput }).catch(() => undefined);
    ctx.cleanup();
  }
});

describe("a builder that cannot build: named, nothing pushed", () => {
  const dead = "lucid-e2e-dead";
  beforeAll(() => {
    // a remote builder whose BuildKit is gone (its socket never made)
    buildx(["rm", dead]);
    const made = buildx([
      "create",
      "--name",
      dead,
      "--driver",
      "remote",
      "unix:///run/lucid/no-buildkitd.sock",
    ]);
    expect(made.status).toBe(0);
  });
  afterAll(() => buildx(["rm", dead]));

  test.each([
    [
      "that does not exist",
      "lucid-e2e-nosuch",
      'lucid:builder: no buildx builder "lucid-e2e-nosuch" on this machine',
    ],
    [
      "that is not running",
      dead,
      'lucid:builder: buildx builder "lucid-e2e-dead" is not running: context deadline exceeded',
    ],
    [
      "of the docker driver (Docker Desktop's default)",
      "default",
      `lucid:builder: "default" uses buildx's docker driver`,
    ],
  ])("a builder %s", async (_, builder, said) => {
    const repository = `lucid-e2e-b-${builder.replace(/^lucid-e2e-/, "")}`;
    const ctx = await buildOnly(`builder-${builder}`, builder, repository);
    try {
      const r = await ctx.cliUp();
      expect(r.code).not.toBe(0);
      expect(r.out.split(said).length - 1).toBe(1); // said once
      const state = (await ctx.stack.exportStack()).deployment as { resources?: unknown[] };
      expect(state.resources ?? []).toEqual([]); // nothing made, not even the stack
      expect(tags(repository)).toEqual([]);
    } finally {
      ctx.cleanup();
    }
  });
});
