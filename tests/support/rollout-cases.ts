import { lucidCompose } from "../../infra/lucid";
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
