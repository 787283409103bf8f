// The jest reporter that keeps a long test run from going silent (tests/support/progress-reporter.js).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ProgressReporter = require("../support/progress-reporter.js");

describe("ProgressReporter", () => {
  let lines: string[];
  let spy: jest.SpyInstance;
  beforeEach(() => {
    jest.useFakeTimers({ now: Date.parse("2026-11-27T10:00:00Z") });
    lines = [];
    spy = jest.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
      lines.push(String(s).replace(/^\[lucid \d\d:\d\d:\d\d\] /, ""));
      return true;
    });
  });
  afterEach(() => {
    spy.mockRestore();
    jest.useRealTimers();
  });

  test("names the file, then the running test every 30 s, then slow or failed tests as they end", () => {
    const r = new ProgressReporter({ rootDir: "/repo" });
    r.onRunStart({ numTotalTestSuites: 2 });
    r.onTestFileStart({ path: "/repo/tests/e2e/faults.test.ts" });
    r.onTestCaseStart({}, { fullName: "faults a wrong deploy key" });
    jest.advanceTimersByTime(29_000);
    expect(lines).toEqual(["file 1/2: tests/e2e/faults.test.ts\n"]);
    jest.advanceTimersByTime(1_000);
    expect(lines[1]).toBe(
      "  still running (0m30s in all): tests/e2e/faults.test.ts 0m30s, faults a wrong deploy key 0m30s\n",
    );
    r.onTestCaseResult({}, { status: "passed", fullName: "faults quick", duration: 10 });
    r.onTestCaseResult({}, { status: "passed", fullName: "faults slow", duration: 42_000 });
    r.onTestCaseResult({}, { status: "failed", fullName: "faults broken", duration: 10 });
    r.onTestFileResult({}, { numPassingTests: 2, numFailingTests: 1 });
    expect(lines.slice(2)).toEqual([
      "  ok   faults slow (0m42s)\n",
      "  FAIL faults broken (0m00s)\n",
      "  tests/e2e/faults.test.ts: 2 passed, 1 failed in 0m30s\n",
    ]);
    jest.advanceTimersByTime(60_000); // between files: nothing runs, nothing to say
    expect(lines).toHaveLength(5);
    r.onRunComplete();
  });
});
