/** @type {import('jest').Config} */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/test/e2e/', '<rootDir>/test/instances/'],
    },
    {
      // The bot suites again with STORE=azure: every repository and the bot state on Azurite.
      displayName: 'bot-azure',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/bot/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/azureStoreProject.js'],
    },
    {
      // Several bot processes, Azurite and a proxy per file: npm run test:instances.
      displayName: 'instances',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/instances/**/*.test.ts'],
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      // Browser + two servers per file: one at a time on a 2-core machine.
      maxWorkers: 1,
    },
  ],
  testTimeout: 30000,
};
