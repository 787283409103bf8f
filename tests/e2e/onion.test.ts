// The onion service survives the set's own rollouts: after api-gateway alone is recreated, after
// tor-proxy alone is, after both, and after the gateway moves to another address on the `tor`
// network, Tor serves the same onion (its address unchanged) and it points at the gateway's
// address now, never a stale one (Tor resolves the target once, when the service is added). On
// the Pi stand-in with Compose v2, in its own stack, project and port. No Tor network is
// reachable here: "serves" is Tor's own list of its onion services (GETINFO onions/detached,
// through tunnel-tools' `status`), and the address is the one tunnel-tools last gave Tor.
import * as fs from "fs";
import * as path from "path";
import { e2eStack, onPiStandIn, tearDown } from "../support/e2e-stack";
import { piDocker, piIds, waitAllHealthy } from "../support/pi";

jest.setTimeout(30 * 60_000);

const PROJECT = "lucid-onion";
const NET = `${PROJECT}_tor`;
let ctx: Awaited<ReturnType<typeof e2eStack>>;
let nginxConf: string;
let torrc: string;
let hostname: string;

const name = (service: string) => `${PROJECT}-${service}-1`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The gateway's address on the `tor` network now. */
const gatewayAddress = () =>
  piDocker([
    "inspect",
    "-f",
    `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`,
    name("api-gateway"),
  ]);

interface Onion {
  hostname: string;
  served: boolean;
  address: string | null;
}
const onion = (): Onion =>
  JSON.parse(
    piDocker(["exec", name("tunnel-tools"), "/usr/bin/python3", "-m", "lucid_tunnel", "status"]),
  ).onion as Onion;

/** Waits (bounded: 60 s) until Tor serves the kept onion, pointing at the gateway's address now. */
async function expectServedAtGateway() {
  let seen: Onion | string = "nothing read";
  for (let i = 0; i < 30; i++) {
    try {
      seen = onion();
      if (seen.served && seen.address === `${gatewayAddress()}:8080`) break;
    } catch (err) {
      seen = String(err); // tunnel-tools or Tor being recreated
    }
    await sleep(2000);
  }
  expect(seen).toEqual({ hostname, served: true, address: `${gatewayAddress()}:8080` });
}

const change = (file: string) => fs.appendFileSync(file, `\n# change ${Date.now()}\n`);

beforeAll(async () => {
  ctx = await e2eStack("onion", onPiStandIn(PROJECT, 18083, "deploy-v2", "linux/amd64"), {
    copyInfra: true,
  });
  nginxConf = path.join(ctx.dir, "infra", "images", "api-gateway", "nginx.conf");
  torrc = path.join(ctx.dir, "infra", "images", "tor-proxy", "torrc");
  await ctx.stack.up({ onOutput: ctx.onOutput });
  await waitAllHealthy(PROJECT, 240);
  for (let i = 0; i < 30 && !hostname; i++) {
    try {
      hostname = onion()?.hostname ?? "";
    } catch {
      // not yet
    }
    if (!hostname) await sleep(2000);
  }
  expect(hostname).toMatch(/^[a-z2-7]{56}\.onion$/);
  await expectServedAtGateway();
});

afterAll(() => tearDown(ctx));

test.each([
  ["api-gateway alone", [() => nginxConf]],
  ["tor-proxy alone", [() => torrc]],
  ["both", [() => nginxConf, () => torrc]],
])(
  "%s recreated by a rollout: the same onion, served, at the gateway's address now",
  async (_what, files) => {
    const before = piIds(PROJECT);
    for (const f of files) change(f());
    await ctx.stack.up({ onOutput: ctx.onOutput });
    const after = piIds(PROJECT);
    const recreated = Object.keys(after)
      .filter((s) => after[s] !== before[s])
      .sort();
    expect(recreated).toEqual(
      files.map((f) => (f() === torrc ? "tor-proxy" : "api-gateway")).sort(),
    );
    await expectServedAtGateway();
  },
);

test("the gateway moved to another address on the tor network: the onion follows it", async () => {
  const old = gatewayAddress();
  const python = piDocker(["inspect", "-f", "{{.Config.Image}}", name("tunnel-tools")]);
  const holder = `${PROJECT}-address-holder`;
  piDocker(["network", "disconnect", NET, name("api-gateway")]);
  try {
    // Another container takes the gateway's old address; the gateway comes back at a new one.
    piDocker([
      "run",
      "-d",
      "--name",
      holder,
      "--network",
      NET,
      "--entrypoint",
      "/usr/bin/python3",
      python,
      "-c",
      "import time; time.sleep(900)",
    ]);
    expect(
      piDocker([
        "inspect",
        "-f",
        `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`,
        holder,
      ]),
    ).toBe(old);
  } finally {
    piDocker(["network", "connect", "--alias", "api-gateway", NET, name("api-gateway")]);
  }
  try {
    expect(gatewayAddress()).not.toBe(old);
    await expectServedAtGateway();
  } finally {
    piDocker(["rm", "-f", holder]);
  }
});
