import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Needs a local OpenClaw install (OPENCLAW_BIN, OPENCLAW_NODE_BIN): `npm run test:openclaw`.
    exclude: ['test/openclaw/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // better-sqlite3 is a native addon: forks isolate it more predictably than worker threads.
    pool: 'forks',
  },
});
