import type * as auto from "@pulumi/pulumi/automation";
import { describe as name, imageShape, startProgress } from "../../stacks/progress";

const URN = "urn:pulumi:dev::lucid::lucid:images:DistrolessImage$docker-build:index:Image::";
const COMPONENT_URN = "urn:pulumi:dev::lucid::lucid:images:DistrolessImage::";

type Op = "create" | "same" | "update" | "replace" | "delete" | "create-replacement";
const meta = (type: string, urn: string, op: Op) =>
  ({ op, urn, type, provider: "" }) as auto.StepEventMetadata;
const pre = (type: string, urn: string, op: Op = "create") =>
  ({ resourcePreEvent: { metadata: meta(type, urn, op) } }) as auto.EngineEvent;
const outputs = (type: string, urn: string, op: Op = "create") =>
  ({ resOutputsEvent: { metadata: meta(type, urn, op) } }) as auto.EngineEvent;
const failed = (type: string, urn: string) =>
  ({
    resOpFailedEvent: { metadata: meta(type, urn, "create"), status: 1, steps: 1 },
  }) as auto.EngineEvent;
const IMAGE = "docker-build:index:Image";
const COMPONENT = "lucid:images:DistrolessImage";

/** A progress reporter on a fake clock and a captured output. */
function harness(tty: boolean, everyMs = 3_600_000) {
  let t = Date.parse("2026-11-27T10:00:00Z");
  const written: string[] = [];
  const p = startProgress({
    label: "up dev",
    release: "bookworm",
    platforms: 2,
    out: { write: (s: string) => written.push(s), isTTY: tty },
    everyMs,
    now: () => t,
  });
  return { p, written, advance: (s: number) => (t += s * 1000) };
}

describe("describe: a resource in words", () => {
  test.each([
    [IMAGE, `${URN}api-server-linux-arm64`, "api-server linux/arm64 (bookworm)"],
    [IMAGE, `${URN}runtime-python-linux-amd64`, "runtime-python linux/amd64 (bookworm)"],
    [
      "docker-build:index:Index",
      "urn:pulumi:dev::lucid::x$docker-build:index:Index::tor-proxy",
      "manifest list tor-proxy",
    ],
    [
      "pulumi-nodejs:dynamic:Resource",
      "urn:pulumi:dev::lucid::pulumi-nodejs:dynamic:Resource::lucid-on-pi",
      "Resource lucid-on-pi",
    ],
  ])("%s %s -> %s", (type, urn, words) => {
    expect(name(type, urn, "bookworm")).toBe(words);
  });
});

describe("startProgress", () => {
  test("names what is being built, for how long, and how far through the images the run is", () => {
    const { p, advance } = harness(false);
    for (const s of ["api-server", "tor-proxy"]) p.onEvent(pre(COMPONENT, `${COMPONENT_URN}${s}`));
    p.onEvent(pre(IMAGE, `${URN}tor-proxy-linux-amd64`, "same"));
    p.onEvent(outputs(IMAGE, `${URN}tor-proxy-linux-amd64`, "same"));
    p.onEvent(pre(IMAGE, `${URN}api-server-linux-amd64`));
    advance(50);
    p.onEvent(pre(IMAGE, `${URN}api-server-linux-arm64`));
    advance(75);
    expect(p.line()).toBe(
      "up dev 2m05s: images 1/4 built; building api-server linux/amd64 (bookworm) 2m05s, " +
        "api-server linux/arm64 (bookworm) 1m15s",
    );
    p.onEvent(outputs(IMAGE, `${URN}api-server-linux-amd64`));
    p.onEvent(failed(IMAGE, `${URN}api-server-linux-arm64`));
    expect(p.line()).toBe("up dev 2m05s: images 2/4 built");
    p.stop();
  });

  test("a replaced image counts once, and a deleted one not at all", () => {
    const { p } = harness(false);
    p.onEvent(pre(COMPONENT, `${COMPONENT_URN}api-server`));
    for (const op of ["create-replacement", "replace"] as const) {
      p.onEvent(pre(IMAGE, `${URN}api-server-linux-amd64`, op));
      p.onEvent(outputs(IMAGE, `${URN}api-server-linux-amd64`, op));
    }
    p.onEvent(outputs(IMAGE, `${URN}api-server-linux-arm64`, "delete"));
    expect(p.line()).toBe("up dev 0m00s: images 1/2 built");
    p.stop();
  });

  test("other work than images is named as such", () => {
    const { p, advance } = harness(false);
    p.onEvent(
      pre(
        "pulumi-nodejs:dynamic:Resource",
        "urn:pulumi:dev::lucid::pulumi-nodejs:dynamic:Resource::lucid-on-pi",
        "update",
      ),
    );
    advance(3);
    expect(p.line()).toBe("up dev 0m03s: working on Resource lucid-on-pi 0m03s");
    p.stop();
  });

  test("every tick, a line when not a terminal; nothing while nothing runs", () => {
    jest.useFakeTimers();
    try {
      const { p, written, advance } = harness(false, 30_000);
      jest.advanceTimersByTime(30_000);
      expect(written).toEqual([]);
      p.onEvent(pre(IMAGE, `${URN}api-server-linux-arm64`));
      advance(30);
      jest.advanceTimersByTime(30_000);
      expect(written).toEqual([
        "[lucid 10:00:30] up dev 0m30s: building api-server linux/arm64 (bookworm) 0m30s\n",
      ]);
      p.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  test("on a terminal, a live line, cleared before the run's own output and at the end", () => {
    jest.useFakeTimers();
    try {
      const { p, written } = harness(true, 1_000);
      p.onEvent(pre(IMAGE, `${URN}api-server-linux-arm64`));
      jest.advanceTimersByTime(1_000);
      p.write("Updating (dev)\n");
      expect(written).toEqual([
        "up dev 0m00s: building api-server linux/arm64 (bookworm) 0m00s",
        "\r\x1b[K",
        "Updating (dev)\n",
      ]);
      jest.advanceTimersByTime(1_000);
      p.stop();
      expect(written.slice(3)).toEqual([
        "up dev 0m00s: building api-server linux/arm64 (bookworm) 0m00s",
        "\r\x1b[K",
      ]);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe("imageShape: what a stack file says of its images", () => {
  test("the release and platform count it sets", () => {
    expect(
      imageShape({ "lucid:bases": { debian: "trixie" }, "lucid:platforms": ["linux/arm64"] }),
    ).toEqual({ release: "trixie", platforms: 1 });
  });
  test("the schema's defaults where it sets none", () => {
    expect(imageShape({})).toEqual({ release: "bookworm", platforms: 2 });
  });
});
