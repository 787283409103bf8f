// An attacker on the Pi's LAN: a host of its own (a network namespace this test makes), joined to
// the Pi stand-in by a veth pair (Pi side 10.250.1.1, the host 10.250.1.2), with one route per
// address it is given via the Pi: what `ip route add <container subnet> via <the Pi>` gives any
// machine of a real LAN. It sends only to the Pi and the Pi's containers; it has no default route.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import { piDocker, piNetworks } from "./pi";

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

// Opens COUNT connections to HOST:PORT and sends on each half a request's headers (MODE "headers")
// or a whole request's headers with its body withheld (MODE "body", 15 a second), then waits (at most SECONDS)
// for the server to drop them: how many connected, how many it dropped, the statuses it sent.
const SLOW = `
import json, select, socket, sys, time
host, port, count, seconds, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
request = {
    "headers": b"GET /health HTTP/1.1\\r\\nHost: lucid\\r\\n",
    "body": b"POST /api/verify HTTP/1.1\\r\\nHost: lucid\\r\\nContent-Type: application/json\\r\\nContent-Length: 1000\\r\\n\\r\\n",
}[mode]
# bodies withheld: 15 a second, under the gateway's rate limit (20/s), so only in-flight counts
pace = 1 / 15 if mode == "body" else 0
held, statuses = [], {}
for _ in range(count):
    time.sleep(pace)
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, port))
        s.sendall(request)
        s.setblocking(False)
        held.append(s)
    except OSError:
        s.close()
connected, dropped, answered = len(held), 0, set()
deadline = time.monotonic() + seconds
while held and time.monotonic() < deadline:
    ready, _, _ = select.select(held[:500], [], [], 0.5)
    for s in ready:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if data and s not in answered:
            answered.add(s)
            status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "?"
            statuses[status] = statuses.get(status, 0) + 1
        if not data:
            held.remove(s)
            s.close()
            dropped += 1
print(json.dumps({"connected": connected, "dropped": dropped, "statuses": statuses}))
`;

/**
 * `curl` of url from inside a network namespace (`/var/run/netns/<name>`): its exit code (7:
 * refused) and the HTTP status it printed ("000" when none came), bounded (5 s, 20 s in all).
 */
export const curlIn = (name: string, url: string) =>
  spawnSync(
    "nsenter",
    [
      `--net=${netns(name)}`,
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

export interface LanHost {
  address: string;
  /** Adds a route via the Pi for each subnet (CIDR), as a LAN machine would. */
  route(subnets: string[]): void;
  /** Tries a TCP connection to each host:port, in order. */
  reach(targets: string[]): Reach[];
  /** GET http://host:port/path from the LAN host: the status code, 0 when nothing answered. */
  get(url: string): number;
  /**
   * `count` connections to host:port from the LAN host, each sending half a request's headers
   * ("headers") or a request whose body never comes ("body"), held until the server drops them
   * (at most `seconds`): how many connected, how many the server dropped, the statuses it
   * answered with. Runs beside the caller (a child process).
   */
  slowClient(
    host: string,
    port: number,
    count: number,
    seconds: number,
    mode: "headers" | "body",
  ): Promise<{ connected: number; dropped: number; statuses: Record<string, number> }>;
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
    get: (url) => Number(curlIn(LAN_NETNS, url).stdout) || 0,
    slowClient: (host, port, count, seconds, mode) =>
      new Promise((resolve, reject) => {
        const child = spawn(
          "nsenter",
          [
            `--net=${netns(LAN_NETNS)}`,
            "python3",
            "-c",
            SLOW,
            host,
            `${port}`,
            `${count}`,
            `${seconds}`,
            mode,
          ],
          { stdio: ["ignore", "pipe", "pipe"], timeout: (seconds + count * 2 + 10) * 1000 },
        );
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("close", (code) =>
          code === 0
            ? resolve(JSON.parse(out))
            : reject(new Error(`slow client: exit ${code}: ${err}`)),
        );
      }),
    remove: removeLan,
  };
}

function removeLan() {
  if (fs.existsSync(netns(LAN_NETNS))) run(["ip", "netns", "del", LAN_NETNS]); // its veth goes with it
}

/** The subnets of the project's networks on the Pi: network name -> CIDR. */
export function piSubnets(project: string): Record<string, string> {
  return Object.fromEntries(
    piNetworks(project).map((n) => [
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
