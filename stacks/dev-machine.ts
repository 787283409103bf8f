import type * as auto from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as path from "path";
import { setConfigValue } from "./config-set";
import { lucidHome } from "./workspace";

/** The dev stack's secrets are local test keys; its passphrase is no secret. */
export const DEV_PASSPHRASE = "lucid-dev";

/** The config paths this machine pins into the dev stack (see pinDevMachine). */
export const DEV_PINNED = ["lucid:pi.hostKey", "lucid:sshPrivateKey"] as const;

/** What the bootstrap made for this machine's Pi stand-in: its host key and the deploy key. */
export function devMachineKeys(env: NodeJS.ProcessEnv = process.env) {
  const dir = path.join(lucidHome(env), "pi");
  const read = (f: string) => {
    const file = path.join(dir, f);
    if (!fs.existsSync(file)) {
      throw new Error(
        `${file} is missing: run scripts/bootstrap.sh first (it creates the Pi stand-in)`,
      );
    }
    return fs.readFileSync(file, "utf8").trim();
  };
  return { hostKey: read("host_key.pub"), privateKey: `${read("deploy_key")}\n` };
}

/**
 * Pins this machine's Pi stand-in in a stack's config: its host key, and the deploy key as a
 * secret. Writes only what differs, so an unchanged machine leaves the config file alone.
 * Returns the stack's config as it stands after (read again only if something was written).
 */
export async function pinDevMachine(
  stack: auto.Stack,
  env: NodeJS.ProcessEnv = process.env,
): Promise<auto.ConfigMap> {
  const keys = devMachineKeys(env);
  const current = await stack.getAllConfig();
  let wrote = false;
  if (current["lucid:pi"]?.value !== undefined) {
    const pi = JSON.parse(current["lucid:pi"].value) as { hostKey?: string };
    if (pi.hostKey !== keys.hostKey) {
      await stack.setConfig("lucid:pi.hostKey", { value: keys.hostKey }, true);
      wrote = true;
    }
  }
  const key = current["lucid:sshPrivateKey"];
  if (key?.value !== keys.privateKey || !key.secret) {
    await setConfigValue(stack, "lucid:sshPrivateKey", { value: keys.privateKey, secret: true });
    wrote = true;
  }
  return wrote ? stack.getAllConfig() : current;
}
