import { followAfterLoss } from "../../components/pi-remote";
import { LinkLostError, type RemoteResult } from "../../components/ssh/executor";

// After a link lost mid-rollout, the client reaches the Pi again, bounded, and follows the same run
// to its end: the outcome is the Pi's. (The follower itself: tests/unit/rollout-program/link-cut.test.ts;
// over real SSH: tests/e2e/faults.test.ts.)

const lost = new LinkLostError("ssh deploy@pi:22: the link was lost while the command ran (x)");
const FAST = { windowMs: 400, pauseMs: 50, connectTimeoutMs: 100 };

test("the Pi reached again on a later try: its outcome, whatever it is, is the result", async () => {
  let tries = 0;
  const done: RemoteResult = { code: 1, stdout: "", stderr: "rolled back to release r1" };
  const result = await followAfterLoss(
    lost,
    "/home/deploy/lucid/runs/x",
    async () => {
      if (++tries < 3) throw new Error("connect ECONNREFUSED");
      return done;
    },
    FAST,
  );
  expect([tries, result]).toEqual([3, done]);
});

test("a Pi not reached within the window: the outcome not known yet, and where the Pi keeps it", async () => {
  let tries = 0;
  const started = Date.now();
  const failure = followAfterLoss(
    lost,
    "/home/deploy/lucid/runs/x",
    async () => {
      tries++;
      throw new Error("Timed out while waiting for handshake");
    },
    FAST,
  );
  await expect(failure).rejects.toThrow(LinkLostError);
  await expect(failure).rejects.toThrow(
    /^ssh deploy@pi:22: the link was lost while the command ran \(x\)\. The Pi could not be reached again within 0\.4 s to learn the outcome \(Timed out while waiting for handshake\)\. The rollout goes on there by itself, to its end: it commits or rolls back, never leaves half a release current; its record is \/home\/deploy\/lucid\/runs\/x\/log on the Pi\./,
  );
  expect(Date.now() - started).toBeLessThan(FAST.windowMs + FAST.pauseMs + 200);
  expect(tries).toBeGreaterThanOrEqual(2);
  expect(tries).toBeLessThanOrEqual(FAST.windowMs / FAST.pauseMs + 1);
});
