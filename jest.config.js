/**
 * Two projects: fast unit specs next to the code (and under bench/), and the slower network tests under test/.
 * ts-jest transpiles each file on its own (no type-check here: `npm run build` and `npm run typecheck` do that), which
 * keeps the suite fast; it is pure JavaScript, so a clean `npm ci` needs no platform-specific binary.
 */
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
};
const shared = {
  testEnvironment: 'node',
  transform,
  moduleNameMapper: {
    '^@kadfleet/kademlia$': '<rootDir>/libs/kademlia/src/index.ts',
    '^@kadfleet/platform$': '<rootDir>/libs/platform/src/index.ts',
  },
};
module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/libs/**/*.spec.ts',
        '<rootDir>/services/**/*.spec.ts',
        '<rootDir>/bench/**/*.spec.ts',
        '<rootDir>/tools/**/*.spec.ts',
      ],
    },
    { ...shared, displayName: 'network', testMatch: ['<rootDir>/test/**/*.test.ts'] },
  ],
};
