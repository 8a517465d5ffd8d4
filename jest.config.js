// The project is ESM (NestJS 12 is ESM-only); jest runs it through ts-jest's ESM mode,
// which needs NODE_OPTIONS=--experimental-vm-modules (set in the npm scripts).
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }],
  },
  testMatch: ['<rootDir>/{src,projections,test}/**/*.spec.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  testTimeout: 60000,
  // Two test files at a time, each worker on a PostgreSQL server of its own (see
  // test/support/start-test-postgres.ts). A server named by DATABASE_URL is one cluster for all,
  // so its files run one at a time.
  maxWorkers: process.env.DATABASE_URL ? 1 : 2,
  // Jest's own output, then the slowest single tests of the run (suites only get a total).
  reporters: ['default', ['<rootDir>/test/support/slowest-tests.reporter.mjs', { count: 12, overMs: 3000 }]],
};
