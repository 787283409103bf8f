// A link to the Pi gone silent while a command runs (packets dropped both ways, no FIN or RST: the
// Wi-Fi gone, a cable pulled at a switch): the client gives up within its keepalive bound, not the
// command's (a rollout's is up to 15 minutes), and says that what the command did is not known.
// On the stand-in's real sshd; only this test's own connection is cut (by its client port), so
// the files running beside it keep theirs.
import { spawnSync } from "child_process";
import * as fs from "fs";
import { KEEPALIVE, LinkLostError, runRemote } from "../../components/ssh/executor";
import { devMachineKeys } from "../../stacks/dev-machine";

jest.setTimeout(3 * 60_000);

const NETNS = process.env.LUCID_PI_NETNS ?? "lucid-pi";
/** Where the command on the Pi says which connection it came on ($SSH_CONNECTION). */
const MARK = `/tmp/lucid-half-open-${process.pid}`;
/** The command's sleep: a length nothing else on the Pi sleeps, so it can be ended after. */
const SLEEP = "sleep 297";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inPi = (args: string[]) =>
  spawnSync("ip", ["netns", "exec", NETNS, ...args], { encoding: "utf8", timeout: 20_000 });

test("a link gone silent mid-command fails within the keepalive bound, the outcome said unknown", async () => {
  const { hostKey, privateKey } = devMachineKeys();
  const target = { host: "10.250.0.2", port: 22, user: "deploy", hostKey, privateKey };
  const run = runRemote(target, `echo "$SSH_CONNECTION" > ${MARK}; exec ${SLEEP}`, {
    timeoutMs: 600_000,
  }).then(
    () => "answered",
    (e: Error) => e,
  );
  let port = ""; // the connection's client port, as sshd saw it
  for (let i = 0; i < 100 && !port; i++) {
    await sleep(100);
    if (fs.existsSync(MARK)) port = fs.readFileSync(MARK, "utf8").trim().split(" ")[1] ?? "";
  }
  expect(port).toMatch(/^\d+$/);
  const rules = [
    ["INPUT", "-p", "tcp", "--dport", "22", "--sport", port, "-j", "DROP"],
    ["OUTPUT", "-p", "tcp", "--sport", "22", "--dport", port, "-j", "DROP"],
  ];
  try {
    for (const r of rules) expect(inPi(["iptables", "-I", ...r]).stderr).toBe("");
    const dropped = Date.now();
    const result = await Promise.race([run, sleep(60_000).then(() => "no answer in 60 s")]);
    const seconds = (Date.now() - dropped) / 1000;
    expect(result).toBeInstanceOf(LinkLostError);
    expect((result as LinkLostError).timedOut).toBe(false); // lost: a rollout reaches the Pi again
    expect((result as Error).message).toMatch(
      /^ssh deploy@10\.250\.0\.2:22: the link was lost while the command ran \(.+\); what it did there is not known here$/,
    );
    // unanswered keepalives, one interval apart, and the first one's wait
    const bound = (KEEPALIVE.intervalMs * (KEEPALIVE.countMax + 1)) / 1000;
    expect({ seconds: Math.round(seconds), within: seconds <= bound + 5 }).toEqual({
      seconds: Math.round(seconds),
      within: true,
    });
  } finally {
    for (const r of rules) inPi(["iptables", "-D", ...r]);
    spawnSync("pkill", ["-u", "deploy", "-f", `^${SLEEP}$`]);
    fs.rmSync(MARK, { force: true });
  }
});
