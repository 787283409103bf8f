// A Debian update reaching the images: a stack (build only, bookworm) whose lucid:bases.mirror is
// a mirror on loopback passing on the real one's files, where a test publishes a new version of
// a package. Its preview rebuilds exactly the images made from that package, and names it; with
// nothing published, nothing changes. (That the input names every package an image is made of,
// at the version the image holds: tests/images/updates.test.ts.)
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { changesOf, e2eStack } from "../support/e2e-stack";
import { REGISTRY } from "../support/built-images";
import { DebianMirror } from "../support/debian-mirror";
import { SERVICE_NAMES } from "../../infra/services";

jest.setTimeout(15 * 60_000);

const SECURITY = "debian-security/dists/bookworm-security";
const ARCHES = ["amd64", "arm64"];
let mirror: DebianMirror;
let ctx: Awaited<ReturnType<typeof e2eStack>>;

beforeAll(async () => {
  mirror = await new DebianMirror().start();
  ctx = await e2eStack("debian-update", {
    registry: { push: REGISTRY, repository: "lucid-test-debian-update" },
    bases: {
      debian: "bookworm",
      builder: `${REGISTRY}/lucid/debian:bookworm`,
      runtime: "local",
      mirror: { debian: `${mirror.url}/debian`, security: `${mirror.url}/debian-security` },
    },
    rollout: false,
  });
  const up = await ctx.stack.up({ onOutput: ctx.onOutput });
  expect(up.summary.result).toBe("succeeded");
});
afterAll(async () => {
  ctx?.cleanup();
  await mirror?.stop();
});

/** The resources a preview would change, `<op> <name>`, and its text. */
async function preview() {
  const changed: string[] = [];
  const onEvent = (e: EngineEvent) => {
    const m = e.resourcePreEvent?.metadata;
    if (m && m.op !== "same" && m.op !== "read") changed.push(`${m.op} ${m.urn.split("::").pop()}`);
  };
  const r = await ctx.stack.preview({ onOutput: ctx.onOutput, onEvent, diff: true });
  return { changed: changed.sort(), text: r.stdout, summary: r.changeSummary };
}

const builds = (image: string) => [
  `update ${image}`,
  `update ${image}-linux-amd64`,
  `update ${image}-linux-arm64`,
];

test("with nothing new in Debian, a preview changes nothing", async () => {
  const p = await preview();
  expect(p.changed).toEqual([]);
  expect(changesOf({ resourceChanges: p.summary } as never)).toEqual({});
});

test("a new tor in -security: tor-proxy alone rebuilds, and the preview names the package", async () => {
  await mirror.publish(SECURITY, "bookworm", "tor", "99.0-0+deb12u1", ARCHES);
  try {
    const p = await preview();
    expect(p.changed).toEqual(builds("tor-proxy"));
    // the arg's line diff: the package's old line out, its new one in
    expect(p.text).toMatch(/^ +- tor 0\.\S+\n +\+ tor 99\.0-0\+deb12u1$/m);
  } finally {
    mirror.unpublish();
  }
});

test("a new libssl3 in -security: both runtime bases, and every service image on them", async () => {
  await mirror.publish(SECURITY, "bookworm", "libssl3", "99.0-1~deb12u1", ARCHES);
  try {
    const p = await preview();
    expect(p.changed).toEqual(
      ["runtime-base", "runtime-python", ...SERVICE_NAMES].flatMap(builds).sort(),
    );
    expect(p.changed.some((c) => c.includes("lucid-probe"))).toBe(false);
    expect(p.text).toMatch(/^ +- libssl3 3\.\S+\n +\+ libssl3 99\.0-1~deb12u1$/m);
  } finally {
    mirror.unpublish();
  }
});

test("published no more: nothing to change again", async () => {
  expect((await preview()).changed).toEqual([]);
});
