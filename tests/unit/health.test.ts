import * as fs from "fs";
import * as path from "path";
import { SERVICES } from "../../infra/services";

// The catalog is the one home of each health check; the image declares the same (for `docker
// run` without compose), and this holds the two equal without building anything.
const IMAGES = path.join(__dirname, "..", "..", "infra", "images");

/** A Dockerfile's HEALTHCHECK: its flags (seconds) and its exec-form argv. */
function declared(service: string) {
  const text = fs.readFileSync(path.join(IMAGES, service, "Dockerfile"), "utf8");
  const m = /^HEALTHCHECK ((?:--[a-z-]+=\S+ )*)\\\n\s+CMD (\[.*\])$/m.exec(text);
  if (!m) throw new Error(`${service}/Dockerfile: no exec-form HEALTHCHECK`);
  const flags = Object.fromEntries(
    m[1]
      .trim()
      .split(/\s+/)
      .map((f) => f.slice(2).split("=") as [string, string]),
  );
  const seconds = (v: string | undefined) =>
    v === undefined ? undefined : Number(v.replace(/s$/, ""));
  return {
    test: JSON.parse(m[2]) as string[],
    interval: seconds(flags.interval),
    startPeriod: seconds(flags["start-period"]),
    timeout: seconds(flags.timeout),
    retries: flags.retries === undefined ? undefined : Number(flags.retries),
  };
}

test.each(SERVICES.map((s) => [s.name, s.health] as const))(
  "%s: the Dockerfile declares the catalog's health check, timings and all",
  (name, health) => {
    expect(declared(name)).toEqual(health);
  },
);
