// The README promises Node.js 20. `npm ci` warned (EBADENGINE) because two transitive
// dependencies declared Node >= 22: content-disposition@3 (via @fastify/static) and cookie@2
// (via light-my-request). package.json `overrides` pins releases with the same API that declare
// Node 20; this keeps every package the lock file installs on Node 20.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';

// semver is fastify's own dependency; read through it rather than re-implementing ranges.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies: (version: string, range: string) => boolean;
};

type LockEntry = { version?: string; engines?: { node?: string }; optional?: boolean; os?: string[]; cpu?: string[] };
const root = new URL('../../', import.meta.url);
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, LockEntry>;
};
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  engines: { node: string };
  overrides?: Record<string, unknown>;
};

/** The oldest Node 20 the dev tools accept (vite and rolldown want 20.19). */
const node20 = '20.19.0';

it('package.json promises Node 20', () => {
  expect(semver.satisfies(node20, manifest.engines.node)).toBe(true);
});

it('every package in the lock file accepts Node 20 (npm ci prints no EBADENGINE)', () => {
  const refusing = Object.entries(lock.packages)
    // Platform binaries for other systems are never installed here.
    .filter(([, entry]) => !(entry.optional && (entry.os || entry.cpu)))
    .filter(([, entry]) => entry.engines?.node && !semver.satisfies(node20, entry.engines.node))
    .map(([path, entry]) => `${path}@${entry.version}: node ${entry.engines?.node}`);
  expect(refusing).toEqual([]);
});

it('the two overrides stay on the Node 20 releases', () => {
  /** Every version of `name` the lock installs, wherever it is nested. */
  const versions = (name: string) =>
    Object.entries(lock.packages)
      .filter(([path]) => path.endsWith(`node_modules/${name}`))
      .map(([, entry]) => entry.version);
  expect(versions('content-disposition').every((version) => version?.startsWith('2.'))).toBe(true);
  expect(versions('cookie').some((version) => version?.startsWith('1.'))).toBe(true);
  expect(versions('cookie').some((version) => version?.startsWith('2.'))).toBe(false);
  expect(manifest.overrides).toMatchObject({
    '@fastify/static': { 'content-disposition': '^2.0.1' },
    'light-my-request': { cookie: '^1.1.1' },
  });
});
