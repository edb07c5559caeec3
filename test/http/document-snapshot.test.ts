/**
 * The current document is read, parsed and hashed only when its file stamp moves
 * (src/service/document.ts). A hostile outside edit must still be seen by the very next
 * proposal: a stale base is refused and the drift recorded, whether the file is young (its text
 * is compared) or settled (its stamp alone is trusted, and any write moves ctime).
 */
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { currentDocument, documentCacheTuning } from '../../src/service/document.js';
import { installation } from '../support/harness.js';

afterEach(() => {
  documentCacheTuning.settleMs = 2000;
});

describe('the current document snapshot', () => {
  for (const settleMs of [2000, 0]) {
    it(`an outside edit keeping size, inode and mtime makes the old base stale (settleMs ${settleMs})`, async () => {
      documentCacheTuning.settleMs = settleMs;
      const h = await installation();
      // A whole-second mtime, so that putting it back after the edit restores it exactly.
      const round = new Date('2026-01-01T00:00:00Z');
      utimesSync(h.configPath, round, round);
      const base = h.currentHash();
      // The service has read the file and holds a snapshot of it.
      const first = await h.http('POST', '/v1/proposals', h.agentToken, {
        baseHash: base,
        patch: { gateway: { port: 18790 } },
        dryRun: true,
      });
      expect(first.status).toBe(200);
      const before = statSync(h.configPath, { bigint: true });
      writeFileSync(h.configPath, h.documentText().replace('"port": 18789', '"port": 18788'));
      utimesSync(h.configPath, round, round);
      const after = statSync(h.configPath, { bigint: true });
      // Only ctime (moved by the write and by utimes alike) tells the edited file apart.
      expect([after.size, after.ino, after.mtimeNs]).toEqual([before.size, before.ino, before.mtimeNs]);
      const stale = await h.http('POST', '/v1/proposals', h.agentToken, {
        baseHash: base,
        patch: { gateway: { port: 18790 } },
      });
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe('stale_base');
      expect(stale.body.error.currentHash).not.toBe(base);
      expect(h.auditKinds()).toContain('config.drift');
    });
  }

  it('is shared between calls and frozen, so nothing can change what later requests are judged against', async () => {
    const h = await installation();
    const target = h.service.targets.get('openclaw');
    if (!target) throw new Error('no openclaw target');
    const one = currentDocument(h.service, target);
    const two = currentDocument(h.service, target);
    expect(two.value).toBe(one.value);
    const gateway = one.value.gateway as Record<string, unknown>;
    expect(Object.isFrozen(one.value)).toBe(true);
    expect(Object.isFrozen(gateway)).toBe(true);
    expect(() => {
      gateway.port = 1;
    }).toThrow(TypeError);
    // A fresh read (the benchmarks' uncached path) still gives the same document and hash.
    const fresh = currentDocument(h.service, target, { fresh: true });
    expect(fresh.hash).toBe(one.hash);
    expect(fresh.value).not.toBe(one.value);
  });
});
