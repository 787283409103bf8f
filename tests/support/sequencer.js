// The order of the test files in a jest: jest's own (the slowest and last failed first), except
// that faults.test.ts goes last. It stops the registry and restarts the Pi's Engine on purpose;
// the files scripts/test.sh runs beside the e2e files (hardening pulls from the registry,
// bad-config reads it, compose-v2 rolls out on the Pi) are long done by then.
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
