import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // better-sqlite3 is a native addon: forks isolate it more predictably than worker threads.
    pool: 'forks',
  },
});
