/** Jest runs the pure-logic modules (src/urls.ts) through ts-jest as CommonJS. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testRegex: '__tests__/.*\\.spec\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { module: 'commonjs', types: ['jest'], esModuleInterop: true } }]
  }
};
