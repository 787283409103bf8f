// runRemote against SSH servers on loopback that misbehave: ssh2's own Server (a real SSH
// handshake and channel), or a bare TCP socket.
import * as net from "net";
import { Server, utils } from "ssh2";
import { LinkLostError, runRemote, type SshTarget } from "../../components/ssh/executor";

const hostKey = utils.generateKeyPairSync("ed25519");
const userKey = utils.generateKeyPairSync("ed25519");
const target = (port: number): SshTarget => ({
  host: "127.0.0.1",
  port,
  user: "deploy",
  hostKey: hostKey.public,
  privateKey: userKey.private,
});

/** Listens on a loopback port; it and every connection it took end with the test. */
async function listening(server: net.Server | Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  opened.push(server);
  return (server.address() as net.AddressInfo).port;
}
let opened: (net.Server | Server)[] = [];
/** Each connection a server took, to end when the test does (none may outlive the file). */
let connections: { end(): void }[] = [];
afterEach(async () => {
  for (const c of connections) c.end();
  await Promise.all(opened.map((s) => new Promise((resolve) => s.close(resolve))));
  opened = [];
  connections = [];
});

/** An SSH server that lets anyone in and, for a command, does what `onExec` says. */
const sshServer = (onExec: (stream: import("ssh2").ServerChannel) => void) =>
  new Server({ hostKeys: [hostKey.private] }, (client) => {
    connections.push(client);
    client.on("error", () => undefined);
    client.on("authentication", (ctx) => ctx.accept());
    client.on("session", (accept) => accept().on("exec", (acceptExec) => onExec(acceptExec())));
  });

describe("runRemote", () => {
  test("a command's output and exit status", async () => {
    const port = await listening(
      sshServer((stream) => {
        stream.write("out\n");
        stream.stderr.write("err\n");
        stream.exit(3);
        stream.end();
      }),
    );
    expect(await runRemote(target(port), "x", { timeoutMs: 10_000 })).toEqual({
      code: 3,
      stdout: "out\n",
      stderr: "err\n",
    });
  });

  test("a server that hangs up after its greeting fails at once, not at the bound", async () => {
    const port = await listening(
      net.createServer((s) => {
        connections.push({ end: () => s.destroy() });
        s.write("SSH-2.0-OpenSSH_9.2\r\n");
        setTimeout(() => s.end(), 50);
      }),
    );
    const t0 = Date.now();
    const err = await runRemote(target(port), "x", { timeoutMs: 20_000 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(LinkLostError);
    expect((err as Error).message).toMatch(/closed before the command's result came|lost/);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  test("a command past its bound: its outcome is unknown (LinkLostError)", async () => {
    const port = await listening(sshServer(() => undefined)); // runs for ever
    const err = await runRemote(target(port), "x", { timeoutMs: 1_500 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(LinkLostError);
    expect((err as Error).message).toMatch(/no result within 1500 ms.*not known/);
    // past its bound, not lost: the rollout does not reach the Pi again to follow it
    expect((err as LinkLostError).timedOut).toBe(true);
  });

  test("a host key other than the pinned one is refused", async () => {
    const port = await listening(sshServer(() => undefined));
    const other = utils.generateKeyPairSync("ed25519").public;
    await expect(
      runRemote({ ...target(port), hostKey: other }, "x", { timeoutMs: 10_000 }),
    ).rejects.toThrow(/host key does not match the pinned pi.hostKey/);
  });
});
