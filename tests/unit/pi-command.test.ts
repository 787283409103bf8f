import { piCommandProvider } from "../../components/pi-command";

const inputs = {
  host: "10.250.0.2",
  port: 22,
  user: "deploy",
  hostKey: "ssh-ed25519 AAAA",
  privateKey: "KEY-1",
  command: "docker pull x",
  providerVersion: "1",
};

describe("PiCommand provider", () => {
  test("check names each missing property", async () => {
    const result = await piCommandProvider.check!({}, { ...inputs, host: "", command: undefined });
    expect(result.failures).toEqual([
      { property: "host", reason: "host is required" },
      { property: "command", reason: "command is required" },
    ]);
  });

  test("check passes complete inputs", async () => {
    expect((await piCommandProvider.check!({}, inputs)).failures).toEqual([]);
  });

  test("diff ignores a rotated private key", async () => {
    const d = await piCommandProvider.diff!("id", inputs, { ...inputs, privateKey: "KEY-2" });
    expect(d.changes).toBe(false);
  });

  test.each(["command", "hostKey", "host"] as const)("diff sees a changed %s", async (field) => {
    const d = await piCommandProvider.diff!("id", inputs, { ...inputs, [field]: "other" });
    expect(d.changes).toBe(true);
  });
});
