/**
 * unit: pure code and Pulumi mocks (milliseconds); setup: the bootstrap scripts' errors, made for
 * real; e2e: the real CLI, BuildKit, registry, Engine and SSH target; images: every image, both
 * platforms, inspected and run.
 */
// The Pulumi SDK keeps protobuf state on the global object across test files: leave it there.
// ts-jest transpiles each file alone (tsconfig.jest.json: isolatedModules), without type-checking:
// `npm run build` (tsc, over the tests too) checks the types before any test runs.
const common = {
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.jest.json" }] },
  testEnvironment: "node",
  testEnvironmentOptions: { globalsCleanup: "off" },
  roots: ["<rootDir>/tests"],
};

module.exports = {
  // jest's own, and progress while a long file runs (tests/support/progress-reporter.js)
  reporters: ["default", "<rootDir>/tests/support/progress-reporter.js"],
  // faults.test.ts last (it takes the registry and the Pi's Engine down): tests/support/sequencer.js
  testSequencer: "<rootDir>/tests/support/sequencer.js",
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/tests/unit/**/*.test.ts"] },
    { ...common, displayName: "setup", testMatch: ["<rootDir>/tests/setup/**/*.test.ts"] },
    { ...common, displayName: "e2e", testMatch: ["<rootDir>/tests/e2e/**/*.test.ts"] },
    { ...common, displayName: "images", testMatch: ["<rootDir>/tests/images/**/*.test.ts"] },
  ],
};
