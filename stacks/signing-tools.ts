import { commandResult, type CommandResult } from "../components/command-result";
import { NAMESPACE } from "./config";

/** The tools signing runs on the build machine: cosign signs, Syft makes the SBOMs. */
export const SIGNING_TOOLS = ["cosign", "syft"] as const;

/** What `<tool> version` gave: its exit code (null when it could not run) and errors. */
export type ToolResult = Pick<CommandResult, "status" | "stderr" | "error">;

/**
 * `<tool> version`, bounded (20 s), without a shell; found on this PATH as the code sees it
 * (`openStack` puts the locally built tools first; a test runner's sandbox keeps its own copy).
 */
export const toolVersion = (tool: string): Promise<ToolResult> =>
  commandResult(tool, ["version"], 20_000);

/**
 * What keeps the stack from signing (lucid:signing): a tool that is not on PATH or does not run;
 * one line each, naming the key and how to get the tool or turn signing off. Both tools are asked
 * at once.
 */
export async function signingToolProblems(
  signing: boolean,
  run: (tool: string) => Promise<ToolResult> = toolVersion,
): Promise<string[]> {
  if (!signing) return [];
  const off = `or set ${NAMESPACE}:signing false`;
  const results = await Promise.all(SIGNING_TOOLS.map((tool) => run(tool)));
  return SIGNING_TOOLS.flatMap((tool, i) => {
    const r = results[i];
    if (r.error?.code === "ENOENT")
      return [
        `${NAMESPACE}:signing: ${tool} is not on PATH (scripts/bootstrap.sh builds it into ` +
          `~/.cache/lucid/bin; put that on PATH), ${off}`,
      ];
    if (r.error || r.status !== 0) {
      const why = r.error?.message || r.stderr.trim().split("\n").at(-1) || `exit ${r.status}`;
      return [`${NAMESPACE}:signing: \`${tool} version\` failed (${why}), ${off}`];
    }
    return [];
  });
}
