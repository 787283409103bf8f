import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { encodingsOf, filesHolding, filesUnder } from "../support/secrets";

// The e2e tests' secret search (tests/support/secrets.ts) must find what it looks for.
describe("the secret search", () => {
  const secret = 'hunter2-Ab3$"quoted"\\x';

  const wraps: [string, (s: string) => string][] = [
    ["as is", (s) => `a: ${s}`],
    ["JSON-escaped", (s) => JSON.stringify({ a: s })],
    ...[0, 1, 2].map((shift): [string, (s: string) => string] => [
      `base64 at offset ${shift}`,
      (s) => Buffer.from(`${"p".repeat(shift)}${s}tail`).toString("base64"),
    ]),
  ];
  test.each(wraps)("finds it %s", (_, wrap) => {
    expect(encodingsOf(secret).some((f) => wrap(secret).includes(f))).toBe(true);
  });

  test("reads every file below a directory, gzip unpacked, and names the holders by label", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-secrets-"));
    fs.mkdirSync(path.join(dir, "a", "b"), { recursive: true });
    fs.writeFileSync(
      path.join(dir, "a", "b", "history.json.gz"),
      zlib.gzipSync(`{"k":"${secret}"}`),
    );
    fs.writeFileSync(path.join(dir, "clean.json"), "{}");
    const found = filesHolding(filesUnder(dir), { password: secret, other: "not-there-at-all" });
    expect(found).toEqual([`${path.join(dir, "a", "b", "history.json.gz")}: password`]);
    expect(found.join("")).not.toContain(secret);
    expect(filesUnder(path.join(dir, "nothing"))).toEqual([]);
  });
});
