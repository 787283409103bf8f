import { shellJoin, shellQuote } from "../../components/ssh/commands";

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

describe("shellJoin", () => {
  test("quotes each word on its own", () => {
    expect(shellJoin(["bash", "-c", "echo 'a b'"])).toBe(`bash -c 'echo '"'"'a b'"'"''`);
  });
});
