import { describe, expect, it } from 'vitest';
import { type Harness, installation } from '../support/harness.js';

async function withEvents(count: number): Promise<Harness> {
  const h = await installation();
  for (let index = 0; index < count; index++) {
    await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { agents: { defaults: { thinkingDefault: index % 2 ? 'low' : 'high' } } },
    });
  }
  return h;
}

type Row = { seq: number; kind: string; at: string; body: string; prev_hash: string; hash: string };

describe('audit verify catches tampering done directly in SQLite', () => {
  it('an intact chain verifies', async () => {
    const h = await withEvents(3);
    expect(h.service.audit.verify()).toMatchObject({ ok: true, count: 8 });
  });

  it('an edited event', async () => {
    const h = await withEvents(3);
    const row = h.service.db.prepare('SELECT * FROM audit_events WHERE seq = 4').get() as Row;
    const body = JSON.parse(row.body);
    body.actor.name = 'someone-else';
    h.service.db.prepare('UPDATE audit_events SET body = ? WHERE seq = 4').run(JSON.stringify(body));
    expect(h.service.audit.verify()).toMatchObject({ ok: false, brokenAt: 4 });
  });

  it('an edited event whose hash was recomputed breaks the next link', async () => {
    const h = await withEvents(3);
    const { canonical, sha256 } = await import('../../src/core/hash.js');
    const row = h.service.db.prepare('SELECT * FROM audit_events WHERE seq = 4').get() as Row;
    const body = JSON.parse(row.body);
    body.reason = 'rewritten';
    const hash = sha256(body.prevHash + canonical(body));
    h.service.db.prepare('UPDATE audit_events SET body = ?, hash = ? WHERE seq = 4').run(canonical(body), hash);
    expect(h.service.audit.verify()).toMatchObject({ ok: false, brokenAt: 5 });
  });

  it('a deleted event', async () => {
    const h = await withEvents(3);
    h.service.db.prepare('DELETE FROM audit_events WHERE seq = 3').run();
    expect(h.service.audit.verify()).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it('an inserted event', async () => {
    const h = await withEvents(3);
    const rows = h.service.db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as Row[];
    h.service.db.prepare('DELETE FROM audit_events').run();
    const insert = h.service.db.prepare(
      'INSERT INTO audit_events (seq, kind, at, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)',
    );
    let seq = 1;
    for (const row of rows) {
      if (row.seq === 5) {
        const forged = rows[1] as Row;
        insert.run(seq++, forged.kind, forged.at, forged.body, forged.prev_hash, forged.hash);
      }
      insert.run(seq++, row.kind, row.at, row.body, row.prev_hash, row.hash);
    }
    const result = h.service.audit.verify();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.brokenAt).toBe(5);
  });

  it('two events swapped', async () => {
    const h = await withEvents(3);
    const a = h.service.db.prepare('SELECT * FROM audit_events WHERE seq = 4').get() as Row;
    const b = h.service.db.prepare('SELECT * FROM audit_events WHERE seq = 5').get() as Row;
    const update = h.service.db.prepare(
      'UPDATE audit_events SET kind = ?, at = ?, body = ?, prev_hash = ?, hash = ? WHERE seq = ?',
    );
    update.run(b.kind, b.at, b.body, b.prev_hash, b.hash, 4);
    update.run(a.kind, a.at, a.body, a.prev_hash, a.hash, 5);
    expect(h.service.audit.verify()).toMatchObject({ ok: false, brokenAt: 4 });
  });

  it('truncation after a recorded head is caught with expectHead', async () => {
    const h = await withEvents(3);
    const head = h.service.audit.head();
    expect(head).not.toBeNull();
    if (!head) return;
    expect(h.service.audit.verify(head)).toMatchObject({ ok: true });
    h.service.db.prepare('DELETE FROM audit_events WHERE seq >= ?').run(head.seq - 1);
    expect(h.service.audit.verify()).toMatchObject({ ok: true });
    expect(h.service.audit.verify(head)).toMatchObject({ ok: false, brokenAt: head.seq - 1 });
    const response = await h.request('GET', `/v1/audit/verify?expectHead=${head.seq}:${head.hash}`, h.ownerToken);
    expect(response.json()).toMatchObject({ ok: false, brokenAt: head.seq - 1 });
  });

  it('a rewritten history with a new head is caught with expectHead', async () => {
    const h = await withEvents(2);
    const head = h.service.audit.head();
    if (!head) throw new Error('no head');
    h.service.db.prepare('DELETE FROM audit_events WHERE seq >= 2').run();
    for (let index = 0; index < 6; index++) {
      await h.request('POST', '/v1/proposals', h.agentToken, {
        baseHash: h.currentHash(),
        patch: { agents: { defaults: { reasoningDefault: index % 2 ? 'off' : 'on' } } },
      });
    }
    expect(h.service.audit.verify()).toMatchObject({ ok: true });
    expect(h.service.audit.verify(head)).toMatchObject({ ok: false, brokenAt: head.seq });
  });
});
