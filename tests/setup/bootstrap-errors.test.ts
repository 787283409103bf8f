// Bad setup gets a clear message, not a stack trace: each case makes the failure for real and
// runs the bootstrap script as a user would. Each uses its own LUCID_HOME, so the real parts
// (registry, Engine, tools) are never touched.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const SCRIPTS = path.resolve(__dirname, "..", "..", "scripts");

function runScript(script: string, env: Record<string, string>) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "lucid-setup-"));
  const result = spawnSync("bash", [path.join(SCRIPTS, script)], {
    env: { ...process.env, LUCID_HOME: home, LUCID_RUN: path.join(home, "run"), ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  fs.rmSync(home, { recursive: true, force: true });
  return { code: result.status, stderr: result.stderr };
}

const noStackTrace = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at |Traceback|panic:/);

describe("bootstrap refuses bad setups clearly", () => {
  test("a registry port already taken names the port and who holds it", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "10.250.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const { code, stderr } = runScript("registry.sh", { LUCID_REGISTRY_PORT: String(port) });
      expect(code).toBe(1);
      expect(stderr).toContain(
        `registry: port 10.250.0.1:${port} is already taken by node (pid ${process.pid})`,
      );
      noStackTrace(stderr);
    } finally {
      server.close();
    }
  });

  test("a Docker Engine that cannot start shows why, at once", () => {
    // A second dockerd on this machine fails for real: the running one holds its pid file.
    const started = Date.now();
    const { code, stderr } = runScript("docker-engine.sh", {
      DOCKER_HOST: "unix:///nonexistent/docker.sock",
    });
    expect(code).toBe(1);
    expect(stderr).toContain("Docker Engine (dockerd) did not start: it exited at once");
    expect(stderr).toContain("failed to start daemon");
    expect(Date.now() - started).toBeLessThan(30_000);
    noStackTrace(stderr);
  });

  test("a missing Go toolchain is named, with what to do", () => {
    const { code, stderr } = runScript("go-tools.sh", { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" });
    expect(code).toBe(1);
    expect(stderr).toContain("a Go toolchain is required");
    expect(stderr).toContain("install Go >= 1.26");
    noStackTrace(stderr);
  });

  test("the bootstrap refuses to run without root", async () => {
    const nobody = spawnSync("id", ["-u", "nobody"], { encoding: "utf8" });
    if (nobody.status !== 0) throw new Error("this test needs the 'nobody' user");
    const child = spawn(
      "setpriv",
      [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "bash",
        path.join(SCRIPTS, "bootstrap.sh"),
      ],
      {
        env: {
          PATH: "/usr/bin:/bin",
          LUCID_HOME: "/tmp/lucid-nobody",
          LUCID_RUN: "/tmp/lucid-nobody/run",
        },
      },
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    // the assertions after the process ends, not in its callback (where a failure is no verdict)
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain("bootstrap needs root");
    noStackTrace(stderr);
  });
});
