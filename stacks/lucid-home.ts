import * as os from "os";
import * as path from "path";

/** Where the bootstrap keeps tools, keys and state, and the program its caches (LUCID_HOME). */
export const lucidHome = (env: NodeJS.ProcessEnv = process.env): string =>
  env.LUCID_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "lucid");
