import { parse } from "yaml";
import { renderCompose } from "../../components/compose";
import { lucidSet } from "../../infra/lucid";
import { SERVICES } from "../../infra/services";

const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const set = lucidSet(
  Object.fromEntries(SERVICES.map((s, i) => [s.name, `docker.io/pickme/lucid@${digest(i + 1)}`])),
  { gatewayPort: 8080, platform: "linux/arm64" },
);
const services = set.services;
const doc = parse(renderCompose(set));

describe("renderCompose", () => {
  test("uses format 2.4 and no top-level name (docker-compose 1.29 refuses one)", () => {
    expect(doc.version).toBe("2.4");
    expect(Object.keys(doc)).toEqual(["version", "services", "networks", "volumes"]);
  });

  test.each(SERVICES.map((s) => s.name))("%s is pinned by digest and hardened", (name) => {
    const s = doc.services[name];
    expect(s.image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(s).toMatchObject({
      read_only: true,
      cap_drop: ["ALL"],
      security_opt: ["no-new-privileges:true"],
      user: "65532:65532",
      restart: "unless-stopped",
      platform: "linux/arm64",
    });
    expect(s.mem_limit).toMatch(/^\d+m$/);
    expect(s.cpus).toBeGreaterThan(0);
    expect(s.pids_limit).toBeGreaterThan(0);
    expect(s.healthcheck.test[0]).toBe("CMD"); // exec form: no shell in the image
  });

  test("only the gateway publishes a port", () => {
    const published = Object.entries(doc.services as Record<string, { ports?: string[] }>)
      .filter(([, s]) => s.ports)
      .map(([n, s]) => [n, s.ports]);
    expect(published).toEqual([["api-gateway", ["8080:8080"]]]);
  });

  test("Tor's and the API's networks are internal; Tor alone has a way out", () => {
    expect(doc.networks).toEqual({
      backend: { internal: true },
      edge: {},
      egress: {},
      tor: { internal: true },
    });
    const on = (net: string) =>
      Object.keys(doc.services).filter((n) => doc.services[n].networks.includes(net));
    expect(on("egress")).toEqual(["tor-proxy"]);
    expect(on("edge")).toEqual(["api-gateway"]);
    expect(on("backend").sort()).toEqual(["api-gateway", "api-server", "server-tools"]);
  });

  test("state lives in named volumes; tunnel-tools reads Tor's read-only", () => {
    expect(Object.keys(doc.volumes)).toEqual([
      "api-state",
      "tools-data",
      "tor-data",
      "tor-sockets",
      "tunnel-state",
    ]);
    expect(doc.services["tunnel-tools"].volumes).toEqual([
      "tor-data:/var/lib/tor:ro",
      "tor-sockets:/run/lucid-tor:ro",
      "tunnel-state:/var/lib/lucid-tunnel",
    ]);
  });

  test("Tor's sockets reach tor-proxy, tunnel-tools and server-tools alone; the others never", () => {
    const mounting = Object.entries(doc.services as Record<string, { volumes?: string[] }>)
      .map(([name, svc]) => [name, svc.volumes?.find((v) => v.startsWith("tor-sockets:"))])
      .filter(([, mount]) => mount);
    expect(mounting).toEqual([
      ["server-tools", "tor-sockets:/run/lucid-tor:ro"],
      ["tor-proxy", "tor-sockets:/run/lucid-tor"],
      ["tunnel-tools", "tor-sockets:/run/lucid-tor:ro"],
    ]);
  });

  test("the same input renders the same bytes (the release hash depends on it)", () => {
    expect(renderCompose({ services, internalNetworks: ["backend", "tor"] })).toBe(
      renderCompose({ services, internalNetworks: ["backend", "tor"] }),
    );
    // in any order of its services: state gives them back sorted by name
    expect(
      renderCompose({ services: [...services].reverse(), internalNetworks: ["backend", "tor"] }),
    ).toBe(renderCompose(set));
  });

  test("the gateway is published at the stack's port, to the port it listens on", () => {
    const moved = lucidSet(Object.fromEntries(services.map((s) => [s.name, s.image])), {
      gatewayPort: 9443,
      platform: "linux/arm64",
    });
    expect(parse(renderCompose(moved)).services["api-gateway"].ports).toEqual(["9443:8080"]);
  });

  test("lucid:pi.gatewayAddress publishes it on that address of the Pi alone", () => {
    const onLan = lucidSet(Object.fromEntries(services.map((s) => [s.name, s.image])), {
      gatewayPort: 8080,
      gatewayAddress: "192.168.1.50",
      platform: "linux/arm64",
    });
    expect(parse(renderCompose(onLan)).services["api-gateway"].ports).toEqual([
      "192.168.1.50:8080:8080",
    ]);
  });

  test("refuses an image that is not pinned by digest", () => {
    const bad = [{ ...services[0], image: "docker.io/pickme/lucid:tor-proxy" }];
    expect(() => renderCompose({ services: bad, internalNetworks: [] })).toThrow(
      "service tor-proxy: image must be pinned by digest, got docker.io/pickme/lucid:tor-proxy",
    );
  });
});
