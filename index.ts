// The program: load the stack's config (all of it validated before any resource exists), check
// this machine (its buildx builder, the signing tools), define the graph, export its outputs. The
// only side effects of this project live here.
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { debianPackageArgs } from "./infra/debian-packages";
import { defineLucid } from "./infra/lucid";
import { SERVICES } from "./infra/services";
import { ConfigError, loadConfig } from "./stacks/config";
import { lucidHome } from "./stacks/lucid-home";
import { machineProblems } from "./stacks/preflight";

/**
 * The program. `root` is the stack's project directory (where Pulumi.yaml is, and where Pulumi
 * runs the providers): the plain CLI's language host names it; a caller that runs the program
 * in-process (the lucid CLI, through the Automation API) gives it. `checkMachine` is false when
 * that caller has asked already.
 */
const lucid = (checkMachine: boolean, root?: string) => async () => {
  // without a language host the SDK's answer is a placeholder ("rootDirectory"), not a path
  const projectDir = root ?? pulumi.getRootDirectory();
  if (!path.isAbsolute(projectDir)) throw new Error("the program runs through `pulumi` or `lucid`");
  const cfg = loadConfig(SERVICES.map((s) => s.name));
  const problems = checkMachine ? await machineProblems(cfg) : [];
  if (problems.length) throw new ConfigError(problems);
  return defineLucid(
    cfg,
    debianPackageArgs(cfg.bases.debian, cfg.bases.mirror, lucidHome()),
    projectDir,
  );
};

/** The program in-process, for a stack whose project directory is `root`. */
const inProject = (root: string, { checkMachine = true } = {}) => lucid(checkMachine, root);

// What `pulumi` runs (it checks the machine); the same program for an in-process caller.
export = Object.assign(lucid(true), { inProject });
