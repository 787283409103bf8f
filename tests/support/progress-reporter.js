// A jest reporter for long runs (scripts/test.sh): a line as each slow or failed test ends, and
// while one runs,
// a line every 30 s naming it and how long it has run, so the terminal is never silent
// for a minute (jest's own reporter prints a file only when the whole file is done: minutes, for an
// end-to-end suite). Plain JavaScript: jest loads reporters as they are, untransformed.
const path = require("path");

const EVERY_MS = Number(process.env.LUCID_PROGRESS_MS ?? 30_000);
const SLOW_MS = 2_000;

const clock = (ms) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
};

class ProgressReporter {
  constructor(globalConfig) {
    this.root = globalConfig.rootDir;
    this.started = Date.now();
    this.files = { done: 0, total: 0 };
    this.current = null; // { file, since, test, testSince }
    this.timer = null;
  }

  say(text) {
    const t = new Date().toISOString().slice(11, 19);
    process.stderr.write(`[lucid ${t}] ${text}\n`);
  }

  onRunStart(results) {
    this.files.total = results.numTotalTestSuites;
    this.timer = setInterval(() => this.tick(), EVERY_MS);
    this.timer.unref();
  }

  onTestFileStart(test) {
    const file = path.relative(this.root, test.path);
    this.current = {
      file,
      since: Date.now(),
      test: "its setup (beforeAll)",
      testSince: Date.now(),
    };
    this.say(`file ${this.files.done + 1}/${this.files.total}: ${file}`);
  }

  onTestCaseStart(_test, info) {
    if (this.current) Object.assign(this.current, { test: info.fullName, testSince: Date.now() });
  }

  onTestCaseResult(_test, result) {
    // the slow and the failed, by name: a file of quick unit tests is one line at its end
    if (result.status === "passed" && (result.duration ?? 0) < SLOW_MS) return;
    const mark = { passed: "ok  ", failed: "FAIL", pending: "skip", todo: "todo" }[result.status];
    this.say(`  ${mark ?? result.status} ${result.fullName} (${clock(result.duration ?? 0)})`);
    if (this.current)
      Object.assign(this.current, { test: "the next test or a hook", testSince: Date.now() });
  }

  onTestFileResult(_test, result) {
    this.files.done++;
    const { numPassingTests: p, numFailingTests: f } = result;
    this.say(
      `  ${this.current?.file}: ${p} passed, ${f} failed in ${clock(Date.now() - (this.current?.since ?? Date.now()))}`,
    );
    this.current = null;
  }

  tick() {
    const c = this.current;
    if (!c) return;
    this.say(
      `  still running (${clock(Date.now() - this.started)} in all): ${c.file} ${clock(Date.now() - c.since)}, ` +
        `${c.test} ${clock(Date.now() - c.testSince)}`,
    );
  }

  onRunComplete() {
    clearInterval(this.timer);
  }

  getLastError() {
    return undefined;
  }
}

module.exports = ProgressReporter;
