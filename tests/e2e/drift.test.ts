// Hand changes on the Pi stand-in after a clean up: refresh reads each back as drift, the report
// names it, and the next up restores the release without touching the services that did not
// drift. On the real CLI, registry, Engine and sshd; its own stack, project and port. (An
// unreachable Pi during refresh is a fault: tests/e2e/faults.test.ts.)
import { spawnSync } from "child_process";
import * as fs from "fs";
import { driftReport, type DriftItem } from "../../components/drift";
import { refreshDrift } from "../../stacks/drift-check";
import { e2eStack, onPiStandIn, repositoryFor, tearDown } from "../support/e2e-stack";
import { piContainers, piDocker, piIds } from "../support/pi";
import { SERVICE_NAMES } from "../../infra/services";

jest.setTimeout(30 * 60_000);

const PROJECT = "lucid-drift";
const DIR = `/home/deploy/${PROJECT}`;
const SERVICES = [...SERVICE_NAMES].sort();
let ctx: Awaited<ReturnType<typeof e2eStack>>;
let release: string;

const ids = () => piIds(PROJECT);
const name = (service: string) => `${PROJECT}_${service}_1`;
const imageOf = (service: string) =>
  piDocker(["inspect", "-f", "{{.Config.Image}}", name(service)]);
/** A container that just sleeps, from an image of the set (they have no shell). */
const sleeper = (args: string[]) =>
  piDocker([
    "run",
    "-d",
    ...args,
    "--entrypoint",
    "/usr/bin/python3",
    imageOf("server-tools"),
    "-c",
    "import time; time.sleep(3600)",
  ]);

/** The files on the Pi belong to the deploy user: hand edits are made as that user. */
const asDeploy = (script: string) => {
  const r = spawnSync("su", ["deploy", "-s", "/bin/bash", "-c", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`as deploy: ${script}: ${r.stderr}`);
};

const subjects = (items: DriftItem[]) => items.map((i) => i.subject).sort();

beforeAll(async () => {
  // The e2e suite's repository: the same sources build the same digests, nothing new to push.
  const standIn = onPiStandIn(PROJECT, 18082, "deploy", "linux/amd64");
  ctx = await e2eStack("drift", {
    ...standIn,
    registry: { ...standIn.registry, repository: repositoryFor("lucid-e2e", "linux/amd64") },
  });
  const result = await ctx.stack.up({ onOutput: ctx.onOutput });
  release = result.outputs.release.value as string;
});

afterAll(() => tearDown(ctx));

describe("drift on the Pi", () => {
  test("with no hand changes, refresh finds none (three times over)", async () => {
    for (let i = 0; i < 3; i++) expect(await refreshDrift(ctx.stack, { write: true })).toEqual([]);
  });

  const cases: [string, () => void, string[]][] = [
    ["a container stopped", () => piDocker(["stop", name("api-gateway")]), ["api-gateway"]],
    ["a container removed", () => piDocker(["rm", "-f", name("api-gateway")]), ["api-gateway"]],
    [
      "a container recreated from another image under the same name",
      () => {
        piDocker(["rm", "-f", name("api-gateway")]);
        sleeper(["--name", name("api-gateway")]);
      },
      ["api-gateway"],
    ],
    [
      "the compose file in the release directory edited",
      () => asDeploy(`echo '# edited by hand' >> ${DIR}/releases/${release}/docker-compose.yml`),
      ["releases/<release>/docker-compose.yml"],
    ],
    [
      "a secret in the release's environment file edited",
      () => asDeploy(`sed -i 's/=.*/=edited-by-hand/' ${DIR}/releases/${release}/environment`),
      ["releases/<release>/environment"],
    ],
    [
      "an extra container started in the project",
      () =>
        sleeper([
          "--name",
          `${PROJECT}_miner_1`,
          "--label",
          `com.docker.compose.project=${PROJECT}`,
          "--label",
          "com.docker.compose.service=miner",
        ]),
      [`${PROJECT}_miner_1`],
    ],
    [
      "the current release pointer moved to an older release",
      () =>
        asDeploy(
          `cp -a ${DIR}/releases/${release} ${DIR}/releases/0000000000000000 && ` +
            `ln -sfn releases/0000000000000000 ${DIR}/current`,
        ),
      ["release"],
    ],
  ];

  test.each(cases)("%s: refresh reports it, up heals it alone", async (_what, act, named) => {
    const drifted = named.map((s) => s.replace("<release>", release)); // known once up ran
    const before = ids();
    act();
    const found = await refreshDrift(ctx.stack, { write: true });
    expect(subjects(found ?? [])).toEqual(drifted);
    const report = driftReport(found ?? []);
    for (const d of found ?? []) expect(report).toContain(`${d.subject}  expected ${d.expected}`);
    expect(report).not.toContain("edited-by-hand"); // an environment's values are never shown

    await ctx.stack.up({ onOutput: ctx.onOutput });
    expect(await refreshDrift(ctx.stack, { write: false })).toEqual([]);
    const after = piContainers(PROJECT);
    expect(Object.keys(after).sort()).toEqual(SERVICES);
    for (const s of SERVICES) {
      expect([s, after[s].health]).toEqual([s, "healthy"]);
      // the services that did not drift keep their containers
      if (!drifted.includes(s)) expect([s, after[s].id]).toEqual([s, before[s]]);
    }
    expect(fs.readlinkSync(`${DIR}/current`)).toBe(`releases/${release}`);
  });
});
