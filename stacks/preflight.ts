import { builderProblems, inspectBuilder } from "./builder-check";
import type { StackSettings } from "./config";
import { signingToolProblems } from "./signing-tools";

/**
 * What this machine lacks for the stack's run, asked before Pulumi runs anything: its buildx
 * builder (lucid:builder) and, with lucid:signing, cosign and syft, all three asked side by side
 * (the slowest answer is the wait). The lucid CLI asks once, and runs the program that does not
 * ask again; the plain `pulumi` CLI runs the program that asks.
 */
export async function machineProblems(
  settings: Pick<StackSettings, "builder" | "signing">,
): Promise<string[]> {
  const [builder, tools] = await Promise.all([
    inspectBuilder(settings.builder),
    signingToolProblems(settings.signing),
  ]);
  return [...builderProblems(settings.builder, builder), ...tools];
}
