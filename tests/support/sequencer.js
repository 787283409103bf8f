// The order of the test files in a jest: jest's own (the slowest and last failed first), except
// at the end:
// - faults.test.ts goes last. It stops the registry and restarts the Pi's Engine on purpose, so
//   nothing else may use them meanwhile. (The whole suite, scripts/test.sh with no arguments,
//   runs it in a jest of its own once every other jest that uses them has ended.)
// - dev-command.test.ts goes just before it: the whole suite stops the dev set and starts it
//   again when its side jest ends, a minute or two before the main jest's end; that file, the
//   main jest's last, then finds it healthy (and, first, it would run it beside every arm64 set).
const Sequencer = require("@jest/test-sequencer").default;

const LAST = [/[/\\]dev-command\.test\.ts$/, /[/\\]faults\.test\.ts$/];

class LucidSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const rank = (t) => LAST.findIndex((re) => re.test(t.path));
    return [
      ...sorted.filter((t) => rank(t) < 0),
      ...LAST.flatMap((_, i) => sorted.filter((t) => rank(t) === i)),
    ];
  }
}

module.exports = LucidSequencer;
