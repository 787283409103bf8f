import {
  atDigest,
  byDigest,
  isPinned,
  viaRegistry,
  withoutDigest,
} from "../../components/image-ref";

const D = "sha256:" + "0123456789abcdef".repeat(4);

describe("image references", () => {
  test.each([
    [`10.250.0.1:5000/lucid:probe@${D}`, `10.250.0.1:5000/lucid@${D}`],
    [`10.250.0.1:5000/lucid@${D}`, `10.250.0.1:5000/lucid@${D}`],
    [`docker.io/pickme/lucid:api-server@${D}`, `docker.io/pickme/lucid@${D}`],
  ])("byDigest(%s) = %s", (ref, expected) => {
    expect(byDigest(ref)).toBe(expected);
  });

  test.each(["docker.io/pickme/lucid:tor-proxy", "repo@sha256:1234"])(
    "byDigest refuses the unpinned %s",
    (ref) => {
      expect(() => byDigest(ref)).toThrow("is not pinned by digest");
    },
  );

  test("isPinned wants a full sha256", () => {
    expect(isPinned(`r@${D}`)).toBe(true);
    expect(isPinned("r@sha256:abc")).toBe(false);
  });

  test("viaRegistry swaps the registry host", () => {
    expect(viaRegistry(`127.0.0.1:5000/lucid@${D}`, "127.0.0.1:5000", "mirror:5000")).toBe(
      `mirror:5000/lucid@${D}`,
    );
  });

  test("viaRegistry refuses a ref from another registry", () => {
    expect(() => viaRegistry(`docker.io/x@${D}`, "127.0.0.1:5000", "m")).toThrow(
      "is not in registry 127.0.0.1:5000",
    );
  });
});

test("atDigest: a platform's image in the index's repository, tag and index digest dropped", () => {
  const index = `10.250.0.1:5000/lucid:api-server@sha256:${"a".repeat(64)}`;
  const amd64 = `sha256:${"b".repeat(64)}`;
  expect(atDigest(index, amd64)).toBe(`10.250.0.1:5000/lucid@${amd64}`);
  expect(atDigest("10.250.0.1:5000/lucid:held-back", amd64)).toBe(`10.250.0.1:5000/lucid@${amd64}`);
  expect(atDigest(`10.250.0.1:5000/lucid@sha256:${"a".repeat(64)}`, amd64)).toBe(
    `10.250.0.1:5000/lucid@${amd64}`,
  );
});

test("withoutDigest: the tag stays, the digest goes; a port or a digest-less ref unchanged", () => {
  const digest = `@sha256:${"c".repeat(64)}`;
  expect(withoutDigest(`debian:bookworm-slim${digest}`)).toBe("debian:bookworm-slim");
  expect(withoutDigest(`10.250.0.1:5000/lucid${digest}`)).toBe("10.250.0.1:5000/lucid");
  expect(withoutDigest("10.250.0.1:5000/lucid:base")).toBe("10.250.0.1:5000/lucid:base");
  expect(withoutDigest(`debian${digest.slice(0, -1)}`)).toBe(`debian${digest.slice(0, -1)}`);
});
