// lucid:builder checked before any resource: what `docker buildx inspect --bootstrap` says of it,
// read into one line naming the key and the builder (e2e/builder.test.ts asks real builders).
import { builderProblems, type BuildxResult } from "../../stacks/builder-check";

const said = (status: number | null, stdout: string, stderr = ""): BuildxResult => ({
  status,
  stdout,
  stderr,
});
const running = (driver: string) =>
  said(
    0,
    `Name:   b\nDriver: ${driver}\n\nNodes:\nName:      b0\nEndpoint:  x\nStatus:    running\n`,
  );

test("a running docker-container or remote builder: no problem", () => {
  expect(builderProblems("b", running("docker-container"))).toEqual([]);
  expect(builderProblems("b", running("remote"))).toEqual([]);
});

test("no builder of that name: named, with how to list and make one", () => {
  expect(builderProblems("nosuch", said(1, "", 'ERROR: no builder "nosuch" found\n'))).toEqual([
    'lucid:builder: no buildx builder "nosuch" on this machine (`docker buildx ls` lists them; `docker buildx create --driver docker-container` makes one)',
  ]);
});

test("a builder whose BuildKit does not answer: not running, in buildx's last words", () => {
  const dead = said(
    1,
    "",
    "#1 [internal] waiting for connection\n------\nERROR: context deadline exceeded\n",
  );
  expect(builderProblems("dead", dead)).toEqual([
    'lucid:builder: buildx builder "dead" is not running: context deadline exceeded',
  ]);
  const stopped = said(0, "Name: b\nDriver: docker-container\nNodes:\nName: b0\nStatus: stopped\n");
  expect(builderProblems("b", stopped)).toEqual([
    'lucid:builder: buildx builder "b" is not running (status: stopped)',
  ]);
  const silent = { ...said(null, ""), error: Object.assign(new Error("t"), { code: "ETIMEDOUT" }) };
  expect(builderProblems("b", silent)).toEqual([
    'lucid:builder: buildx builder "b" did not answer within 60 s; is its BuildKit running?',
  ]);
});

test("the docker driver (Docker Desktop's default): refused, with what to name instead", () => {
  expect(builderProblems("desktop-linux", running("docker"))[0]).toMatch(
    /^lucid:builder: "desktop-linux" uses buildx's docker driver, .* docker-container builder/,
  );
});

test("no docker CLI to ask: nothing said (the build says what it finds)", () => {
  const none = { ...said(null, ""), error: Object.assign(new Error("x"), { code: "ENOENT" }) };
  expect(builderProblems("b", none)).toEqual([]);
});
