import { builderProblems, inspectBuilder } from "./builder-check";
import type { StackSettings } from "./config";
import { signingToolProblems } from "./signing-tools";

/**
 * What this machine lacks for the stack's run, asked before Pulumi runs anything: its buildx
 * builder (lucid:builder) and, with lucid:signing, cosign and syft. The lucid CLI asks once, so a
 * problem is named once; the program asks too, for the plain `pulumi` CLI.
 */
export const machineProblems = (settings: Pick<StackSettings, "builder" | "signing">): string[] => [
  ...builderProblems(settings.builder, inspectBuilder(settings.builder)),
  ...signingToolProblems(settings.signing),
];
