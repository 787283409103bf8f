/**
 * A module of the checkout that runs `pulumi` now, found when a dynamic provider runs. A
 * provider's code is serialized into state and run by Pulumi's dynamic-provider host,
 * node_modules/@pulumi/pulumi/cmd/dynamic-provider of that checkout: the module is that
 * checkout's components/<name>, as `npm run build` compiled it into dist/ when that build is newer
 * than every source of components/; else (the plain `pulumi` CLI runs the TypeScript and builds
 * nothing) compiled from source as it loads, by ts-node. No path of the checkout that wrote the
 * state is kept (it may be gone, moved, or another machine's), so nothing a provider's methods
 * call may be an import of its own file: only what this returns.
 */
export const checkoutCode = async <T>(name: string): Promise<T> => {
  const path = await import("path");
  const fs = await import("fs");
  const host = require.main?.filename ?? process.argv[1] ?? "";
  const marker = `${path.sep}node_modules${path.sep}`;
  const root = host.includes(marker) ? host.slice(0, host.lastIndexOf(marker)) : "";
  const built = path.join(root, "dist", "components", `${name}.js`);
  const sources = path.join(root, "components");
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return Math.max(t, newest(p));
      return e.name.endsWith(".ts") ? Math.max(t, fs.statSync(p).mtimeMs) : t;
    }, 0);
  if (root && fs.existsSync(built)) {
    if (!fs.existsSync(sources) || fs.statSync(built).mtimeMs >= newest(sources))
      return (await import(built)) as T;
  }
  const source = path.join(sources, `${name}.ts`);
  const registered = Symbol.for("ts-node.register.instance"); // ts-node's own mark on process
  if (!(registered in process)) {
    let tsNode: typeof import("ts-node");
    try {
      if (!root || !fs.existsSync(source)) throw new Error("no source");
      tsNode = (await import(require.resolve("ts-node", { paths: [root] }))) as typeof tsNode;
    } catch {
      throw new Error(
        `the provider's code is neither built (${built}) nor runnable from source (${source}, ` +
          "with ts-node): in the checkout, run npm ci, then npm run build",
      );
    }
    tsNode.register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
  }
  return (await import(source)) as T;
};
