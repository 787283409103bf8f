// The order of the test files in a jest: jest's own (the slowest and last failed first), except
// that faults.test.ts goes last. It stops the registry and restarts the Pi's Engine on purpose,
// so nothing else may use them meanwhile. (The whole suite, scripts/test.sh with no arguments,
// runs it in a jest of its own once every other jest that uses them has ended.)
const Sequencer = require("@jest/test-sequencer").default;

const LAST = /[/\\]faults\.test\.ts$/;

class LucidSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [
      ...sorted.filter((t) => !LAST.test(t.path)),
      ...sorted.filter((t) => LAST.test(t.path)),
    ];
  }
}

module.exports = LucidSequencer;
