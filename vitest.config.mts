import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'main/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/globalSetup.ts'],
    // tfjs-wasm is single-threaded and heavy: one test file per worker keeps memory predictable
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
