import {
  driftOf,
  driftReport,
  expectedServices,
  type ContainerView,
  type Observation,
} from "../../components/drift";
import { parseObservation } from "../../components/ssh/observe";

const API = `10.250.0.1:5000/lucid@sha256:${"a".repeat(64)}`;
const TOR = `10.250.0.1:5000/lucid@sha256:${"b".repeat(64)}`;
const want = {
  project: "lucid",
  release: "0123456789abcdef",
  composeSha: `0123456789abcdef${"0".repeat(48)}`,
  environmentSha: "e".repeat(64),
  services: { "api-server": API, "tor-proxy": TOR },
};

const container = (service: string, ref: string, more: Partial<ContainerView> = {}) => ({
  name: `lucid_${service}_1`,
  project: "lucid",
  service,
  ref,
  imageId: `sha256:${service}`,
  state: "running",
  exitCode: 0,
  health: "healthy",
  ...more,
});

const healthy = (): Observation => ({
  current: "releases/0123456789abcdef",
  composeSha: `0123456789abcdef${"0".repeat(48)}`,
  environmentSha: "e".repeat(64),
  containers: [container("api-server", API), container("tor-proxy", TOR)],
  imageIds: { [API]: "sha256:api-server", [TOR]: "sha256:tor-proxy" },
});

const subjects = (o: Observation) => driftOf(want, o).map((d) => `${d.subject}: ${d.found}`);

describe("drift: what was rolled out against what the Pi shows", () => {
  test("none when the Pi runs the release; a starting health check is not drift", () => {
    expect(driftOf(want, healthy())).toEqual([]);
    const o = healthy();
    o.containers[0].health = "starting";
    expect(driftOf(want, o)).toEqual([]);
  });

  test("a stopped container, and one removed", () => {
    const o = healthy();
    o.containers[0] = { ...o.containers[0], state: "exited", exitCode: 137 };
    o.containers.pop();
    expect(driftOf(want, o)).toEqual([
      { subject: "api-server", expected: "running", found: "exited (code 137)" },
      { subject: "tor-proxy", expected: "a running container", found: "no container" },
    ]);
  });

  test("a container of another image, with compose's labels or without them, is recreated", () => {
    const o = healthy();
    o.containers[0] = { ...o.containers[0], ref: "busybox:latest", imageId: "sha256:bb" };
    o.containers[1] = { ...o.containers[1], project: undefined, service: undefined, ref: "nginx" };
    const d = driftOf(want, o);
    expect(d.map((i) => [i.subject, i.recreate])).toEqual([
      ["api-server", true],
      ["tor-proxy", true],
    ]);
    expect(d[0].found).toBe("image busybox:latest (bb)");
    expect(d[1].found).toBe("lucid_tor-proxy_1 from nginx, not made by compose");
  });

  test("the same reference over another image id is drift", () => {
    const o = healthy();
    o.imageIds[API] = "sha256:other";
    expect(subjects(o)).toEqual([
      "api-server: image 10.250.0.1:5000/lucid@sha256:aaaaaaaaaaaa… (api-server)",
    ]);
  });

  test("an extra container in the project, an unhealthy one", () => {
    const o = healthy();
    o.containers[1].health = "unhealthy";
    o.containers.push(container("miner", "evil:1", { name: "lucid_miner_1" }));
    expect(subjects(o)).toEqual([
      "tor-proxy: unhealthy",
      "lucid_miner_1: running container (service miner, image evil:1)",
    ]);
  });

  test("containers of other projects are none of its business", () => {
    const o = healthy();
    o.containers.push(
      container("api-server", "x", { name: "other_api-server_1", project: "other" }),
    );
    expect(driftOf(want, o)).toEqual([]);
  });

  test("the current pointer moved, the compose file edited or gone", () => {
    const o = { ...healthy(), current: "releases/fedcba9876543210", composeSha: "f".repeat(64) };
    expect(subjects(o)).toEqual([
      "release: current -> releases/fedcba9876543210",
      "releases/0123456789abcdef/docker-compose.yml: sha256 ffffffffffffffff… (edited on the Pi)",
    ]);
    expect(subjects({ ...healthy(), current: null, composeSha: null })).toEqual([
      "release: no current release",
      "releases/0123456789abcdef/docker-compose.yml: missing",
    ]);
  });

  test("the environment file edited or gone: said without a value or its hash", () => {
    const edited = driftOf(want, { ...healthy(), environmentSha: "d".repeat(64) });
    expect(edited).toEqual([
      {
        subject: "releases/0123456789abcdef/environment",
        expected: "the release's secret variables",
        found: "other values (edited on the Pi)",
      },
    ]);
    expect(JSON.stringify(edited)).not.toMatch(/dddd|eeee/);
    expect(subjects({ ...healthy(), environmentSha: null })).toEqual([
      "releases/0123456789abcdef/environment: missing",
    ]);
    // a release of provider 4 has env files instead: nothing to compare
    const older = { ...want, environmentSha: undefined };
    expect(driftOf(older, { ...healthy(), environmentSha: null })).toEqual([]);
  });

  test("the report names subject, expectation and finding, one per line", () => {
    const o = healthy();
    o.containers.pop();
    expect(driftReport(driftOf(want, o))).toBe(
      "drift: 1 difference on the Pi\n  tor-proxy  expected a running container; found no container",
    );
    expect(driftReport([])).toMatch(/^no drift/);
  });

  test("the expected services are the compose file's", () => {
    const compose = `version: "2.4"\nservices:\n  api-server:\n    image: ${API}\n  tor-proxy:\n    image: ${TOR}\n`;
    expect(expectedServices(compose)).toEqual(want.services);
  });
});

describe("reading the Pi back", () => {
  test("its answer is parsed into the observation", () => {
    // a JSON object a line, as observe.sh's format makes them
    const inspect = [
      {
        Name: "/lucid_api-server_1",
        Image: "sha256:1",
        Ref: API,
        Project: "lucid",
        Service: "api-server",
        Status: "running",
        ExitCode: 0,
        Health: "healthy",
      },
      {
        Name: "/lucid_x",
        Image: "sha256:2",
        Ref: "x",
        Project: "",
        Service: "",
        Status: "exited",
        ExitCode: 1,
        Health: null,
      },
    ];
    const text = [
      "@current",
      "releases/r",
      "@compose",
      "-",
      "@environment",
      "e".repeat(64),
      "@containers",
      ...inspect.map((c) => JSON.stringify(c)),
      "@images",
      `${API} sha256:1`,
      "a -",
      "",
    ].join("\n");
    expect(parseObservation(text)).toEqual({
      current: "releases/r",
      composeSha: null,
      environmentSha: "e".repeat(64),
      containers: [
        {
          name: "lucid_api-server_1",
          project: "lucid",
          service: "api-server",
          ref: API,
          imageId: "sha256:1",
          state: "running",
          exitCode: 0,
          health: "healthy",
        },
        {
          name: "lucid_x",
          project: undefined,
          service: undefined,
          ref: "x",
          imageId: "sha256:2",
          state: "exited",
          exitCode: 1,
          health: undefined,
        },
      ],
      imageIds: { [API]: "sha256:1", a: null },
    });
  });

  test("an answer cut short is an error, never an empty Pi", () => {
    expect(() => parseObservation("@current\nreleases/r\n")).toThrow("no @compose section");
  });
});
