import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { machineWorkDir } from "../../stacks/work-dir";

const read = (dir: string) => parse(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8"));

describe("machineWorkDir", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-wd-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("keeps the pinned values and the salt, takes everything else from the tracked config", () => {
    fs.writeFileSync(
      path.join(dir, "Pulumi.dev.yaml"),
      "config:\n  lucid:old: 1\n  lucid:pi:\n    host: a\n    hostKey: K\n  lucid:sshPrivateKey:\n    secure: v1:x\nencryptionsalt: v1:s\n",
    );
    machineWorkDir(dir, "dev", { "lucid:pi": { host: "b" }, "lucid:new": 2 }, [
      "lucid:pi.hostKey",
      "lucid:sshPrivateKey",
    ]);
    expect(read(dir)).toEqual({
      config: {
        "lucid:pi": { host: "b", hostKey: "K" },
        "lucid:new": 2,
        "lucid:sshPrivateKey": { secure: "v1:x" },
      },
      encryptionsalt: "v1:s",
    });
  });

  test("a first run writes the tracked config and links the build contexts", () => {
    machineWorkDir(dir, "dev", { "lucid:platforms": ["linux/arm64"] }, ["lucid:pi.hostKey"]);
    expect(read(dir)).toEqual({ config: { "lucid:platforms": ["linux/arm64"] } });
    expect(fs.existsSync(path.join(dir, "infra", "images"))).toBe(true);
    expect(fs.existsSync(path.join(dir, "Pulumi.yaml"))).toBe(true);
  });
});
