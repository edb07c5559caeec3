import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { openService } from '../../src/service/context.js';
import { installation } from '../support/harness.js';

const thinkingHigh = { agents: { defaults: { thinkingDefault: 'high' } } };
const synchronous = (service: { db: { pragma: (sql: string, options: { simple: true }) => unknown } }) =>
  service.db.pragma('synchronous', { simple: true });

describe('group commit', () => {
  it('the HTTP server runs synchronous = NORMAL with a barrier; a command on the data directory keeps FULL', async () => {
    const h = await installation();
    expect(h.service.durability.groupCommit).toBe(true);
    expect(synchronous(h.service)).toBe(1);
    // What every CLI command does: open the data directory without the HTTP server.
    const command = openService(h.dir);
    expect(command.durability.groupCommit).toBe(false);
    expect(synchronous(command)).toBe(2);
    command.close();
  });

  it('an answer leaves only after an fsync that covers its commit, and concurrent writes share fsyncs', async () => {
    const h = await installation();
    const { durability } = h.service;
    const base = h.currentHash();
    const before = durability.syncs;
    const one = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: base,
      patch: { gateway: { port: 1 } },
    });
    expect(one.statusCode).toBe(202);
    // Nothing else ran: the fsync that let the answer go covered everything committed.
    expect(durability.unsynced()).toBe(false);
    expect(durability.syncs).toBe(before + 1);

    const many = 40;
    const started = durability.syncs;
    const replies = await Promise.all(
      Array.from({ length: many }, (_, index) =>
        h.http('POST', '/v1/proposals', h.agentToken, { baseHash: base, patch: { gateway: { port: 100 + index } } }),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array(many).fill(202));
    expect(durability.unsynced()).toBe(false);
    const fsyncs = durability.syncs - started;
    expect(fsyncs).toBeGreaterThanOrEqual(1);
    expect(fsyncs).toBeLessThan(many);
  });

  it('an allowlisted apply makes its intent durable before it writes the document', async () => {
    const h = await installation();
    const before = h.service.durability.syncs;
    const applied = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: thinkingHigh,
    });
    expect(applied.statusCode).toBe(200);
    expect(applied.json().status).toBe('applied');
    // One synchronous fsync between the intent and the document, one for the answer.
    expect(h.service.durability.syncs).toBe(before + 2);
  });

  it('fails closed: once an fsync fails, a success becomes 503 and nothing is acknowledged until a restart', async () => {
    const h = await installation();
    const base = h.currentHash();
    // A real failure without a faulty disk: the -wal file is no longer where it was, so the
    // barrier cannot vouch for it (SQLite itself keeps writing to the file it has open).
    const wal = join(h.dir, 'countersign.db-wal');
    renameSync(wal, `${wal}.moved`);
    try {
      const refused = await h.request('POST', '/v1/proposals', h.agentToken, {
        baseHash: base,
        patch: { gateway: { port: 2 } },
      });
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error.code).toBe('audit_unavailable');
      // Poisoned: a later fsync that succeeded would prove nothing (the failed pages may be gone).
      const again = await h.request('POST', '/v1/proposals', h.agentToken, {
        baseHash: base,
        patch: { gateway: { port: 3 } },
      });
      expect(again.statusCode).toBe(503);
      // An allowlisted change never reaches the document: the intent could not be made durable.
      const documentBefore = h.documentText();
      const apply = await h.request('POST', '/v1/proposals', h.agentToken, { baseHash: base, patch: thinkingHigh });
      expect(apply.statusCode).toBe(503);
      expect(h.documentText()).toBe(documentBefore);
      // An error answer claims nothing, so it keeps its own status.
      const stale = await h.request('POST', '/v1/proposals', h.agentToken, {
        baseHash: `hmac-sha256:${'0'.repeat(64)}`,
        patch: thinkingHigh,
      });
      expect(stale.statusCode).toBe(409);
    } finally {
      renameSync(`${wal}.moved`, wal);
    }
  });

  it('turned off, answers do not wait and commits fsync themselves', async () => {
    const h = await installation();
    const service = openService(h.dir);
    const app = await buildApp(service, { logRequests: false, rateLimit: false, groupCommit: false });
    try {
      expect(synchronous(service)).toBe(2);
      expect(service.durability.unsynced()).toBe(false);
    } finally {
      await app.close();
      service.close();
    }
  });
});
