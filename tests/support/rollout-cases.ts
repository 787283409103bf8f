import { lucidCompose } from "../../infra/lucid";
import type { FakePi } from "./fake-pi";
import { SERVICES } from "../../infra/services";

// What the remote programs' unit files (tests/unit/rollout-program/) roll out: the real compose
// file of the set, its images named by made-up digests.

export const REPO = "10.250.0.1:5000/lucid/lucid";
export const digestOf = (seed: string) =>
  Buffer.from(seed).toString("hex").padEnd(64, "0").slice(0, 64);
export const ref = (svc: string, version: string) =>
  `${REPO}@sha256:${digestOf(`${svc}-${version}`)}`;
/** The real compose file of the set, every service at `version` unless `changed` says otherwise. */
export const composeAt = (version: string, changed: Record<string, string> = {}) =>
  lucidCompose(
    Object.fromEntries(SERVICES.map((s) => [s.name, ref(s.name, changed[s.name] ?? version)])),
    { gatewayPort: 8080, platform: "linux/arm64" },
  );
export const NAMES = SERVICES.map((s) => s.name).sort();

/** The environment of a run of rollout.sh on `p` for `release`, as these tests set it. */
export function envFor(p: FakePi, release: string) {
  return {
    LUCID_DIR: p.dir,
    LUCID_PROJECT: "lucid",
    LUCID_RELEASE: release,
    LUCID_RUN_ID: `run-${release}`,
    LUCID_HEALTH_TIMEOUT: 5,
    LUCID_KEEP: 3,
    LUCID_LOCK_WAIT: 1,
    LUCID_FOLLOW_BOUND: 30,
    LUCID_POLL: 0.05,
  };
}
