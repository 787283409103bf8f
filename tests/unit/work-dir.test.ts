import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { machineWorkDir, mergeConfig } from "../../stacks/work-dir";

const read = (dir: string) => parse(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8"));
/** What `pulumi config set|rm` does to the work directory's file: its config edited in place. */
const edit = (dir: string, change: (config: Record<string, unknown>) => void) => {
  const doc = read(dir);
  change(doc.config);
  fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stringify(doc));
};

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

  test("what is set or removed on this machine stays across runs; every other value follows the tracked file", () => {
    const pins = ["lucid:pi.hostKey", "lucid:sshPrivateKey"];
    const tracked1 = {
      "lucid:pi": { host: "a", keepReleases: 5 },
      "lucid:old": 1,
      "lucid:platforms": ["linux/amd64", "linux/arm64"],
      "lucid:healthTimeout": 120,
    };
    machineWorkDir(dir, "dev", tracked1, pins);
    edit(dir, (c) => {
      (c["lucid:pi"] as Record<string, unknown>).keepReleases = 3; // config set --path
      (c["lucid:pi"] as Record<string, unknown>).hostKey = "K"; // pinned
      c["lucid:serviceEnv"] = { secure: "v1:env" }; // config set --secret
      delete c["lucid:healthTimeout"]; // config rm
    });
    const tracked2 = {
      "lucid:pi": { host: "b", keepReleases: 5 }, // host changed in git
      "lucid:platforms": ["linux/arm64"], // changed in git
      "lucid:healthTimeout": 120,
      "lucid:new": 2, // added in git; lucid:old dropped
    };
    machineWorkDir(dir, "dev", tracked2, pins);
    expect(read(dir).config).toEqual({
      "lucid:pi": { host: "b", keepReleases: 3, hostKey: "K" },
      "lucid:platforms": ["linux/arm64"],
      "lucid:serviceEnv": { secure: "v1:env" },
      "lucid:new": 2,
    });
    // and a third run with nothing changed anywhere changes nothing
    const before = fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8");
    machineWorkDir(dir, "dev", tracked2, pins);
    expect(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")).toEqual(before);
  });
});

describe("mergeConfig (base, local, tracked)", () => {
  test.each([
    ["unchanged here: the tracked value", 1, 1, 2, 2],
    ["changed here only: the local value", 1, 3, 1, 3],
    ["changed on both sides: the local value", 1, 3, 2, 3],
    ["dropped by the tracked file, unchanged here: gone", 1, 1, undefined, undefined],
    ["removed here, unchanged in the tracked file: gone", 1, undefined, 1, undefined],
    ["added on both sides, differently: the local value", undefined, "l", "t", "l"],
    ["a list is a value, not merged item by item", [1, 2], [1], [1, 2, 3], [1]],
    ["maps merge key by key", { a: 1, b: 1 }, { a: 2, b: 1 }, { a: 1, b: 3 }, { a: 2, b: 3 }],
  ])("%s", (_what, base, local, tracked, want) => {
    expect(mergeConfig(base, local, tracked)).toEqual(want);
  });
});
