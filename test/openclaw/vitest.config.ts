import { defineConfig } from 'vitest/config';

// The live OpenClaw suite only (the default config excludes test/openclaw): one gateway,
// tests in order, generous timeouts for its start-up.
export default defineConfig({
  test: {
    include: ['test/openclaw/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
