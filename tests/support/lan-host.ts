// An attacker on the Pi's LAN: a host of its own (a network namespace this test makes), joined to
// the Pi stand-in by a veth pair (Pi side 10.250.1.1, the host 10.250.1.2), with one route per
// address it is given via the Pi: what `ip route add <container subnet> via <the Pi>` gives any
// machine of a real LAN. It sends only to the Pi and the Pi's containers; it has no default route.
import { spawnSync } from "child_process";
import * as fs from "fs";
import { piDocker } from "./pi";

const LAN_NETNS = "lucid-lan";
const PI_NETNS = process.env.LUCID_PI_NETNS ?? "lucid-pi";
const PI_ON_LAN = "10.250.1.1";
const LAN_HOST = "10.250.1.2";
const netns = (name: string) => `/var/run/netns/${name}`;

function run(argv: string[], timeoutMs = 20_000): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr || r.error || r.status}`);
  return r.stdout;
}
const inNs = (name: string, argv: string[], timeoutMs?: number) =>
  run(["nsenter", `--net=${netns(name)}`, ...argv], timeoutMs);

/** What a connection from the LAN host found: a listener, a closed port (a reset), or nothing. */
export type Reach = "open" | "refused" | "no answer";

// Each connection bounded (2 s); prints one word per target.
const CONNECT = `
import socket, sys
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, int(port)))
        print("open")
    except ConnectionRefusedError:
        print("refused")
    except OSError:
        print("no answer")
    finally:
        s.close()
`;

export interface LanHost {
  address: string;
  /** Adds a route via the Pi for each subnet (CIDR), as a LAN machine would. */
  route(subnets: string[]): void;
  /** Tries a TCP connection to each host:port, in order. */
  reach(targets: string[]): Reach[];
  /** GET http://host:port/path from the LAN host: the status code, 0 when nothing answered. */
  get(url: string): number;
  remove(): void;
}

/** Makes the LAN host (again: one left by an earlier run is removed first). */
export function lanHost(): LanHost {
  removeLan();
  run(["ip", "netns", "add", LAN_NETNS]);
  run([
    "ip",
    "link",
    "add",
    "lucid-lan0",
    "netns",
    PI_NETNS,
    "type",
    "veth",
    "peer",
    "name",
    "eth0",
    "netns",
    LAN_NETNS,
  ]);
  inNs(PI_NETNS, ["ip", "addr", "add", `${PI_ON_LAN}/30`, "dev", "lucid-lan0"]);
  inNs(PI_NETNS, ["ip", "link", "set", "lucid-lan0", "up"]);
  inNs(LAN_NETNS, ["ip", "addr", "add", `${LAN_HOST}/30`, "dev", "eth0"]);
  inNs(LAN_NETNS, ["ip", "link", "set", "eth0", "up"]);
  inNs(LAN_NETNS, ["ip", "link", "set", "lo", "up"]);
  return {
    address: LAN_HOST,
    route: (subnets) => {
      for (const s of subnets) inNs(LAN_NETNS, ["ip", "route", "replace", s, "via", PI_ON_LAN]);
    },
    reach: (targets) =>
      inNs(LAN_NETNS, ["python3", "-c", CONNECT, ...targets], 5_000 + targets.length * 3_000)
        .trim()
        .split("\n") as Reach[],
    get: (url) => {
      const r = spawnSync(
        "nsenter",
        [
          `--net=${netns(LAN_NETNS)}`,
          "curl",
          "-s",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "--max-time",
          "5",
          url,
        ],
        { encoding: "utf8", timeout: 20_000 },
      );
      return Number(r.stdout) || 0;
    },
    remove: removeLan,
  };
}

function removeLan() {
  if (fs.existsSync(netns(LAN_NETNS))) run(["ip", "netns", "del", LAN_NETNS]); // its veth goes with it
}

/** The subnets of the project's networks on the Pi: network name -> CIDR. */
export function piSubnets(project: string): Record<string, string> {
  const names = piDocker([
    "network",
    "ls",
    "--format",
    "{{.Name}}",
    "--filter",
    `label=com.docker.compose.project=${project}`,
  ])
    .split("\n")
    .filter(Boolean);
  return Object.fromEntries(
    names.map((n) => [
      n,
      piDocker(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", n]),
    ]),
  );
}

/** A container's address on each of its networks: network name -> address. */
export function piAddresses(container: string): Record<string, string> {
  const networks = JSON.parse(
    piDocker(["inspect", "-f", "{{json .NetworkSettings.Networks}}", container]),
  ) as Record<string, { IPAddress: string }>;
  return Object.fromEntries(Object.entries(networks).map(([n, v]) => [n, v.IPAddress]));
}
