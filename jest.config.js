/** Two projects: fast unit specs next to the code, and the slower network tests under test/. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
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
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/services/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts'],
    },
    { ...shared, displayName: 'network', testMatch: ['<rootDir>/test/**/*.test.ts'] },
  ],
};
