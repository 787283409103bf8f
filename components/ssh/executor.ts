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

/**
 * A link that goes silent (packets dropped, no FIN: a Wi-Fi drop, a Pi that lost power) is
 * noticed after this many keepalives of this interval go unanswered, not after the command's own
 * bound (up to 15 minutes for a rollout).
 */
export const KEEPALIVE = { intervalMs: 5_000, countMax: 3 };

/** The link to the Pi was lost while a command ran: what the command did there is not known. */
export class LinkLostError extends Error {
  override name = "LinkLostError";
  /** The command ran past its bound (the link itself may be fine): not a link to reach again. */
  timedOut = false;
}

/** The base64 blob of a `<type> <base64>` public key. */
const keyBlob = (hostKey: string): Buffer =>
  Buffer.from(hostKey.trim().split(/\s+/)[1] ?? "", "base64");

/**
 * Runs one command line on the target over SSH. The host key must equal the pinned one byte for
 * byte, else the connection is refused before authentication. Bounded by `timeoutMs`, and by the
 * keepalives on a link gone silent. A link lost once the command ran (silent, or closed before
 * its exit status came), or a command past its bound, is a LinkLostError: what it did there is
 * not known. A connection that closes before that fails at once.
 */
export async function runRemote(
  target: SshTarget,
  command: string,
  opts: { stdin?: string; timeoutMs?: number; connectTimeoutMs?: number } = {},
): Promise<RemoteResult> {
  const { Client } = await import("ssh2");
  const pinned = keyBlob(target.hostKey);
  let hostKeyRejected = false;
  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    privateKey: target.privateKey,
    readyTimeout: opts.connectTimeoutMs ?? 20_000,
    keepaliveInterval: KEEPALIVE.intervalMs,
    keepaliveCountMax: KEEPALIVE.countMax,
    hostVerifier: (key: Buffer) => {
      hostKeyRejected = !key.equals(pinned);
      return !hostKeyRejected;
    },
  };
  const where = `${target.user}@${target.host}:${target.port}`;
  return new Promise<RemoteResult>((resolve, reject) => {
    const client = new Client();
    let running = false; // the command was started on the target
    const lost = (why: string) =>
      new LinkLostError(
        `ssh ${where}: the link was lost while the command ran (${why}); what it did there is not known here`,
      );
    let settled = false;
    // Past its bound, a command that was started may still be running there: its outcome is not
    // known, as for a lost link.
    const timer = setTimeout(() => {
      const why = `no result within ${opts.timeoutMs ?? 600_000} ms`;
      settled = true;
      client.end();
      if (!running) return reject(new Error(`ssh ${where}: ${why}`));
      const err = lost(why);
      err.timedOut = true;
      reject(err);
    }, opts.timeoutMs ?? 600_000);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      reject(
        hostKeyRejected
          ? new Error(
              `ssh ${where}: host key does not match the pinned pi.hostKey; refusing to connect`,
            )
          : running
            ? lost(err.message)
            : new Error(`ssh ${where}: ${err.message}`),
      );
    };
    client.on("error", fail);
    // A connection closed without an error (the server hung up after its greeting, say) fails
    // at once, not at the bound; once the command's channel has closed, all is settled already.
    client.on("close", () =>
      fail(new Error("the connection closed before the command's result came")),
    );
    client.on("ready", () => {
      client.exec(command, (err, stream) => {
        if (err) return fail(err);
        running = true;
        let stdout = "";
        let stderr = "";
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        // The exit status (or the signal that ended the command) comes before the channel closes;
        // a channel that closes without one went down with the connection (sshd killed, say).
        let exit: { code: number; signal?: string } | undefined;
        stream.on("exit", (code: number | null, signal?: string) => {
          exit = { code: code ?? 255, signal };
        });
        stream.on("close", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          client.end();
          if (!exit) return reject(lost("it closed before the command's exit status came"));
          const killed = exit.signal
            ? `\nlucid: the command was ended by signal ${exit.signal}`
            : "";
          resolve({ code: exit.code, stdout, stderr: stderr + killed });
        });
        if (opts.stdin !== undefined) stream.end(opts.stdin);
        else stream.end();
      });
    });
    client.connect(config);
  });
}
