import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { lucidHome } from "../../stacks/workspace";

/** The parts of a manifest the tests and the size bench read: an index's list, an image's layers. */
export interface Manifest {
  manifests: { digest: string; platform: { os: string; architecture: string } }[];
  layers?: { digest: string; size: number }[];
}

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/**
 * GETs a manifest (an index or one platform's image) from the local registry, trusting the
 * bootstrap's CA, bounded to 10 s; with a login when the registry wants one (basic auth).
 */
export function getManifest(
  registry: string,
  repo: string,
  reference: string,
  login?: { username: string; password: string },
): Promise<{ status: number; body: Manifest }> {
  const basic = login && Buffer.from(`${login.username}:${login.password}`).toString("base64");
  const ca = fs.readFileSync(path.join(lucidHome(), "registry", "tls", "ca.crt"));
  const [host, port] = registry.split(":");
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host,
        port: Number(port),
        path: `/v2/${repo}/manifests/${reference}`,
        ca,
        headers: { Accept: ACCEPT, ...(basic ? { Authorization: `Basic ${basic}` } : {}) },
        timeout: 10_000,
      },
      (res) => {
        let data = "";
        res.on("data", (d) => (data += d));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: (res.statusCode === 200 ? JSON.parse(data) : { manifests: [] }) as Manifest,
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("registry did not answer within 10 s")));
    req.on("error", reject);
  });
}
