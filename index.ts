// The program: load the stack's config (all of it validated before any resource exists), check
// its buildx builder, define the graph, export its outputs. The only side effects of this project
// live here.
import { debianPackageArgs } from "./infra/debian-packages";
import { defineLucid } from "./infra/lucid";
import { SERVICES } from "./infra/services";
import { builderProblems, inspectBuilder } from "./stacks/builder-check";
import { ConfigError, loadConfig } from "./stacks/config";
import { lucidHome } from "./stacks/lucid-home";
import { signingToolProblems } from "./stacks/signing-tools";

export = async () => {
  const cfg = loadConfig(SERVICES.map((s) => s.name));
  const problems = [
    ...builderProblems(cfg.builder, inspectBuilder(cfg.builder)),
    ...signingToolProblems(cfg.signing),
  ];
  if (problems.length) throw new ConfigError(problems);
  return defineLucid(cfg, debianPackageArgs(cfg.bases.debian, cfg.bases.mirror, lucidHome()));
};
