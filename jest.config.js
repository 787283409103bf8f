/** Two projects: unit (milliseconds, Pulumi mocks, pure code) and e2e (the real local parts). */
const common = { preset: "ts-jest", testEnvironment: "node", roots: ["<rootDir>/tests"] };

module.exports = {
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/tests/unit/**/*.test.ts"] },
    { ...common, displayName: "e2e", testMatch: ["<rootDir>/tests/e2e/**/*.test.ts"] },
  ],
};
