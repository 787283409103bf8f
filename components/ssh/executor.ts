import type { ConnectConfig } from "ssh2";

/** Where and as whom to run; the key is the deploy user's private key (PEM/OpenSSH). */
export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** The pinned public host key, `<type> <base64>`. */
  hostKey: string;
  privateKey: string;
}

export interface RemoteResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The base64 blob of a `<type> <base64>` public key. */
const keyBlob = (hostKey: string): Buffer =>
  Buffer.from(hostKey.trim().split(/\s+/)[1] ?? "", "base64");

/**
 * Runs one command line on the target over SSH. The host key must equal the pinned one byte for
 * byte, else the connection is refused before authentication. Bounded by `timeoutMs`.
 */
export async function runRemote(
  target: SshTarget,
  command: string,
  opts: { stdin?: string; timeoutMs?: number } = {},
): Promise<RemoteResult> {
  const { Client } = await import("ssh2");
  const pinned = keyBlob(target.hostKey);
  let hostKeyRejected = false;
  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    privateKey: target.privateKey,
    readyTimeout: 20_000,
    hostVerifier: (key: Buffer) => {
      hostKeyRejected = !key.equals(pinned);
      return !hostKeyRejected;
    },
  };
  const where = `${target.user}@${target.host}:${target.port}`;
  return new Promise<RemoteResult>((resolve, reject) => {
    const client = new Client();
    const timer = setTimeout(() => {
      client.end();
      reject(new Error(`ssh ${where}: no result within ${opts.timeoutMs ?? 600_000} ms`));
    }, opts.timeoutMs ?? 600_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      client.end();
      reject(
        hostKeyRejected
          ? new Error(
              `ssh ${where}: host key does not match the pinned pi.hostKey; refusing to connect`,
            )
          : new Error(`ssh ${where}: ${err.message}`),
      );
    };
    client.on("error", fail);
    client.on("ready", () => {
      client.exec(command, (err, stream) => {
        if (err) return fail(err);
        let stdout = "";
        let stderr = "";
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        stream.on("close", (code: number | null) => {
          clearTimeout(timer);
          client.end();
          resolve({ code: code ?? 255, stdout, stderr });
        });
        if (opts.stdin !== undefined) stream.end(opts.stdin);
        else stream.end();
      });
    });
    client.connect(config);
  });
}
