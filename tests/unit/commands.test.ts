import {
  dockerPull,
  dockerRun,
  script,
  shellJoin,
  shellQuote,
} from "../../components/ssh/commands";

describe("shellQuote", () => {
  test.each([
    ["plain", "plain"],
    ["10.250.0.1:5000/lucid@sha256:ab", "10.250.0.1:5000/lucid@sha256:ab"],
    ["", "''"],
    ["two words", "'two words'"],
    ["it's", `'it'"'"'s'`],
    ["$(rm -rf /)", "'$(rm -rf /)'"],
    ["a;b", "'a;b'"],
    ["line\nbreak", "'line\nbreak'"],
  ])("%j -> %s", (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });
});

describe("command builders", () => {
  const ref = "10.250.0.1:5000/lucid@sha256:" + "a".repeat(64);

  test("dockerPull pulls one platform's variant", () => {
    expect(shellJoin(dockerPull({ ref, platform: "linux/arm64" }))).toBe(
      `docker pull --quiet --platform linux/arm64 ${ref}`,
    );
  });

  test("dockerRun runs hardened and removes the container", () => {
    expect(shellJoin(dockerRun({ ref, args: ["--help me"] }))).toBe(
      `docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges ${ref} '--help me'`,
    );
  });

  test("script chains steps so the first failure stops the rest", () => {
    expect(script([["true"], ["echo", "a b"]])).toBe("true && echo 'a b'");
  });
});
