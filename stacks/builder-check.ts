import { commandResult, type CommandResult } from "../components/command-result";
import { NAMESPACE } from "./config";

/** What a `docker buildx` call gave: its exit code (null when it could not run) and output. */
export type BuildxResult = CommandResult;

const KEY = `${NAMESPACE}:builder`;
const lastLine = (text: string) =>
  text
    .trim()
    .split("\n")
    .filter((l) => l.trim())
    .at(-1)
    ?.replace(/^ERROR:\s*/, "") ?? "";

/**
 * What is wrong with the stack's buildx builder, as `docker buildx inspect --bootstrap <name>` sees
 * it (it starts a stopped docker-container builder, and reaches a remote one): none, or one line
 * naming lucid:builder and the builder. Without a `docker` CLI there is nothing to ask: none (the
 * first build then says what it finds).
 */
export function builderProblems(name: string, inspect: BuildxResult): string[] {
  if (inspect.error?.code === "ENOENT") return [];
  if (inspect.error?.code === "ETIMEDOUT")
    return [
      `${KEY}: buildx builder "${name}" did not answer within 60 s; is its BuildKit running?`,
    ];
  if (inspect.status !== 0) {
    const why = lastLine(inspect.stderr) || lastLine(inspect.stdout);
    if (/no builder .* found/.test(why))
      return [
        `${KEY}: no buildx builder "${name}" on this machine (\`docker buildx ls\` lists them; ` +
          "`docker buildx create --driver docker-container` makes one)",
      ];
    return [`${KEY}: buildx builder "${name}" is not running: ${why || `exit ${inspect.status}`}`];
  }
  const driver = /^Driver:\s*(\S+)/m.exec(inspect.stdout)?.[1];
  if (driver === "docker")
    return [
      `${KEY}: "${name}" uses buildx's docker driver, which cannot build for the registry's ` +
        "platforms: name a docker-container builder (`docker buildx create --driver docker-container`) or a remote one",
    ];
  const statuses = [...inspect.stdout.matchAll(/^Status:\s*(\S+)/gm)].map((m) => m[1]);
  if (!statuses.includes("running"))
    return [
      `${KEY}: buildx builder "${name}" is not running (status: ${statuses.join(", ") || "unknown"})`,
    ];
  return [];
}

/** `docker buildx inspect --bootstrap <name>`, bounded (60 s), without a shell. */
export const inspectBuilder = (name: string): Promise<BuildxResult> =>
  commandResult("docker", ["buildx", "inspect", "--bootstrap", name], 60_000);
