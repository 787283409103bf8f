// What a failed Pulumi run said, shown to the user once (bin/lucid.ts).
import type * as auto from "@pulumi/pulumi/automation";

/** A CommandError's stderr (the Automation API folds it into the message). */
export const stderrOf = (err: auto.CommandError): string =>
  /\n stderr: ([\s\S]*?)(\n err\?: |$)/.exec(err.message)?.[1] ?? "";

/**
 * The errors Pulumi wrote to stderr (a preview's go there only), each once: a line `error: ...`
 * with its indented lines, minus those already shown on stdout.
 */
export function unseenErrors(stderr: string, shown: string): string[] {
  const blocks: string[] = [];
  let block: string[] | undefined;
  for (const line of stderr.split("\n")) {
    if (line.startsWith("error: ")) blocks.push((block = [line.slice(7)]).join("\n"));
    else if (block && /^\s+\S/.test(line)) {
      block.push(line);
      blocks[blocks.length - 1] = block.join("\n");
    } else block = undefined;
  }
  const plain = (t: string) => t.replace(/\s+/g, " ").trim();
  const seen = plain(shown);
  return [...new Set(blocks)].filter((b) => !seen.includes(plain(b)));
}
