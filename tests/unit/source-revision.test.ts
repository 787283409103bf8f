import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sourceRevision } from "../../infra/source-revision";

describe("sourceRevision", () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-rev-"));
    fs.mkdirSync(path.join(root, "a", "sub"), { recursive: true });
    fs.writeFileSync(path.join(root, "a", "Dockerfile"), "FROM scratch\n");
    fs.writeFileSync(path.join(root, "a", "sub", "x.py"), "print(1)\n");
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test("is stable for the same files", () => {
    expect(sourceRevision(root, ["a"])).toBe(sourceRevision(root, ["a"]));
    expect(sourceRevision(root, ["a"])).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test("changes when a file's bytes change", () => {
    const before = sourceRevision(root, ["a"]);
    fs.appendFileSync(path.join(root, "a", "sub", "x.py"), "# one line\n");
    expect(sourceRevision(root, ["a"])).not.toBe(before);
  });

  test("changes when a file is renamed, even with the same bytes", () => {
    const before = sourceRevision(root, ["a"]);
    fs.renameSync(path.join(root, "a", "sub", "x.py"), path.join(root, "a", "sub", "y.py"));
    expect(sourceRevision(root, ["a"])).not.toBe(before);
  });
});
