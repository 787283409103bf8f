// The program: load the stack's config (all of it validated before any resource exists), check
// this machine (its buildx builder, the signing tools), define the graph, export its outputs. The
// only side effects of this project live here.
import { debianPackageArgs } from "./infra/debian-packages";
import { defineLucid } from "./infra/lucid";
import { SERVICES } from "./infra/services";
import { ConfigError, loadConfig } from "./stacks/config";
import { lucidHome } from "./stacks/lucid-home";
import { machineProblems } from "./stacks/preflight";

/** The program; `checkMachine` false when the caller (the lucid CLI) has asked already. */
const lucid = (checkMachine: boolean) => async () => {
  const cfg = loadConfig(SERVICES.map((s) => s.name));
  const problems = checkMachine ? await machineProblems(cfg) : [];
  if (problems.length) throw new ConfigError(problems);
  return defineLucid(cfg, debianPackageArgs(cfg.bases.debian, cfg.bases.mirror, lucidHome()));
};

// What `pulumi` runs (it checks the machine), and the same program for a caller that checked it.
export = Object.assign(lucid(true), { machineChecked: lucid(false) });
