import { basePinProblems, isOwnRegistry, newPins, registryOf } from "../../stacks/base-pins";

const DIGEST = `sha256:${"b".repeat(64)}`;
const OLD = `sha256:${"a".repeat(64)}`;

test("the registry of a reference, as Docker reads it", () => {
  expect(registryOf("debian:bookworm-slim")).toBe("docker.io");
  expect(registryOf("pickme/lucid:tor-proxy")).toBe("docker.io");
  expect(registryOf("gcr.io/distroless/base-debian12")).toBe("gcr.io");
  expect(registryOf("10.250.0.1:5000/lucid/debian:bookworm")).toBe("10.250.0.1:5000");
  expect(registryOf("localhost/x")).toBe("localhost");
});

test("a registry at an address or localhost is one's own; one by a DNS name is upstream", () => {
  expect(
    ["10.250.0.1:5000", "127.0.0.1", "localhost:5000", "[::1]:5000"].map(isOwnRegistry),
  ).toEqual([true, true, true, true]);
  expect(["docker.io", "gcr.io", "registry.lan:5000"].map(isOwnRegistry)).toEqual([
    false,
    false,
    false,
  ]);
});

test("each upstream base without a digest is named by its key; own and pinned ones pass", () => {
  expect(
    basePinProblems({
      builder: "debian:bookworm-slim",
      runtime: { base: `gcr.io/distroless/base-debian12@${OLD}`, python: "gcr.io/x/python3" },
    }).map((p) => p.split(":").slice(0, 2).join(":")),
  ).toEqual(["lucid:bases.builder", "lucid:bases.runtime.python"]);
  expect(
    basePinProblems({ builder: "10.250.0.1:5000/lucid/debian:bookworm", runtime: "local" }),
  ).toEqual([]);
  expect(
    basePinProblems({ builder: "debian:bookworm-slim@sha256:short", runtime: "local" }),
  ).toHaveLength(1);
});

test("new pins: every upstream base and every pinned one, at the digest its tag names now", () => {
  const asked: string[] = [];
  const pins = newPins(
    {
      builder: `debian:bookworm-slim@${OLD}`,
      runtime: { base: "gcr.io/distroless/base-debian12", python: "10.250.0.1:5000/py:1" },
    },
    (ref) => (asked.push(ref), DIGEST),
  );
  expect(pins).toEqual([
    { key: "builder", from: `debian:bookworm-slim@${OLD}`, to: `debian:bookworm-slim@${DIGEST}` },
    {
      key: "runtime.base",
      from: "gcr.io/distroless/base-debian12",
      to: `gcr.io/distroless/base-debian12:latest@${DIGEST}`, // the tag Docker reads, written out
    },
  ]);
  expect(asked).toEqual(["debian:bookworm-slim", "gcr.io/distroless/base-debian12:latest"]);
});

test("a base pinned by digest alone has no tag to follow: named, never asked as :latest", () => {
  const asked: string[] = [];
  expect(() =>
    newPins({ builder: `debian@${OLD}`, runtime: "local" }, (ref) => (asked.push(ref), DIGEST)),
  ).toThrow("lucid:bases.builder: pinned by digest with no tag to follow");
  expect(asked).toEqual([]);
});
