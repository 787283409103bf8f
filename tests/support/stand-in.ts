import * as path from "path";
import { lucidHome } from "../../stacks/workspace";

// The Pi stand-in this test process works on, as scripts/lib.sh makes it: the shared one, or,
// with LUCID_STANDIN=faults (scripts/test.sh sets it for faults.test.ts alone), the faults file's
// own, whose registry, sshd and Engine that file stops while the other files run.

const faults = process.env.LUCID_STANDIN === "faults";
const name = faults ? "pi-faults" : "pi";
const run = (daemon: string) => path.join(process.env.LUCID_RUN ?? "/run/lucid", `${daemon}.pid`);

export const STAND_IN = {
  /** the Pi's address and its deploy user (docker-compose 1.29) */
  host: faults ? "10.250.2.2" : "10.250.0.2",
  user: faults ? "deploy-faults" : "deploy",
  /** its Engine's socket on this machine, and its data root */
  engine: `unix:///run/docker-${name}.sock`,
  dataRoot: path.join(lucidHome(), name, "docker"),
  /** the registry its stacks push to and it pulls from */
  registry: faults ? "10.250.0.1:5002" : "10.250.0.1:5000",
  /** the pid files of its registry, sshd and Engine (scripts/lib.sh's start_daemon) */
  pids: {
    registry: run(faults ? "registry-faults" : "registry"),
    sshd: run(`sshd-${name}`),
    engine: run(`docker-${name}-engine`),
  },
};
