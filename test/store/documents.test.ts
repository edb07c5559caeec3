import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openService, type Service } from '../../src/service/context.js';
import { approve } from '../../src/service/decide.js';
import { runDrill } from '../../src/service/drill.js';
import { proposalDocuments, pruneUnreferencedDocuments } from '../../src/service/proposal-documents.js';
import { documentAfter } from '../../src/service/restore.js';
import { rollback } from '../../src/service/rollback.js';
import { adoptLegacyDocuments } from '../../src/store/documents.js';
import { type Harness, installation } from '../support/harness.js';

type Card = { id: string; patchHash: string; baseHash: string; targetHash: string; status: string };

async function propose(h: Harness, patch: unknown): Promise<Card> {
  const response = await h.request('POST', '/v1/proposals', h.agentToken, { baseHash: h.currentHash(), patch });
  expect(response.statusCode, response.body).toBeLessThan(300);
  return response.json().proposal as Card;
}

async function applied(h: Harness, patch: unknown): Promise<Card> {
  const card = await propose(h, patch);
  if (card.status === 'applied') return card;
  const response = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
    patchHash: card.patchHash,
  });
  expect(response.statusCode, response.body).toBe(200);
  return card;
}

function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('expected a value');
  return value;
}

function count(service: Service, sql: string, ...params: unknown[]): number {
  return service.db
    .prepare(sql)
    .pluck()
    .get(...params) as number;
}

function columns(db: Database.Database, table: string): string[] {
  return db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[];
}

function appliedSeq(h: Harness, proposalId: string): number {
  const event = h.service.audit
    .list({ limit: 1000 })
    .find((entry) => entry.kind === 'change.applied' && (entry as { proposalId?: string }).proposalId === proposalId);
  if (!event) throw new Error(`no change.applied for ${proposalId}`);
  return event.seq;
}

describe('content-addressed documents (issue 14)', () => {
  it('proposals on one base share one stored copy of it, and a row keeps only its operations', async () => {
    const h = await installation();
    const before = count(h.service, 'SELECT count(*) FROM documents');
    const first = await propose(h, { gateway: { port: 20001 } });
    const second = await propose(h, { gateway: { port: 20002 } });
    expect(first.status).toBe('pending');
    expect(first.baseHash).toBe(second.baseHash);
    // The base is the current document, kept once already (init remembered it).
    expect(count(h.service, 'SELECT count(*) FROM documents')).toBe(before);
    expect(count(h.service, 'SELECT count(*) FROM documents WHERE hash = ?', first.baseHash)).toBe(1);
    expect(columns(h.service.db, 'proposals')).not.toContain('target_document');
    expect(columns(h.service.db, 'proposals')).not.toContain('base_document');
    const sizes = h.service.db.prepare('SELECT length(operations) FROM proposals').pluck().all() as number[];
    expect(Math.max(...sizes)).toBeLessThan(200);
  });

  it('apply writes the target rebuilt from base + operations, secrets included, blinded target hash or not', async () => {
    const h = await installation();
    const token = (h.document().gateway as { auth: { token: string } }).auth.token;
    await applied(h, { gateway: { port: 18790 } });
    expect((h.document().gateway as { port: number; auth: { token: string } }).port).toBe(18790);
    expect((h.document().gateway as { auth: { token: string } }).auth.token).toBe(token);
    // The proposer writes a secret: the card's target hash is blinded, the rebuilt document is still checked.
    await applied(h, { channels: { telegram: { botToken: '999:ROTATED_SECRET_123' } } });
    expect((h.document().channels as { telegram: { botToken: string } }).telegram.botToken).toBe(
      '999:ROTATED_SECRET_123',
    );
    expect((h.document().gateway as { auth: { token: string } }).auth.token).toBe(token);
  });

  it('a rebuilt document that is not the card target is refused before anything is written', async () => {
    const h = await installation();
    const card = await propose(h, { gateway: { port: 20003 } });
    const text = h.documentText();
    h.service.db
      .prepare('UPDATE proposals SET operations = ? WHERE id = ?')
      .run(JSON.stringify([{ op: 'replace', path: '/gateway/port', value: 20004 }]), card.id);
    const response = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(response.statusCode).toBe(500);
    expect(response.json().error.code).toBe('document_mismatch');
    expect(h.documentText()).toBe(text);
    expect(h.service.proposals.get(card.id)?.card.status).toBe('pending');
    expect(h.auditKinds()).not.toContain('change.applied');
    expect(count(h.service, 'SELECT count(*) FROM apply_intents')).toBe(0);
  });

  it('a damaged stored base is refused by rollback with document_mismatch', async () => {
    const h = await installation();
    const card = await applied(h, { gateway: { port: 18790 } });
    h.service.db.prepare('UPDATE documents SET text = ? WHERE hash = ?').run('{"gateway":{}}\n', card.baseHash);
    const response = await h.request('POST', `/v1/proposals/${card.id}/rollback`, h.ownerToken);
    expect(response.json().error.code).toBe('document_mismatch');
  });

  it('pruning keeps the current document, live proposals and the last keepApplied applied bases; nothing else', async () => {
    const h = await installation();
    h.service.settings.history.keepApplied = 1;
    const initial = h.currentHash();
    // The window is ordered by the time of each apply: the test clock moves as a real one would.
    const a1 = await applied(h, { gateway: { port: 18790 } });
    h.clock.advance(1);
    const a2 = await applied(h, { gateway: { port: 18791 } });
    h.clock.advance(1);
    const a3 = await applied(h, { gateway: { port: 18792 } });
    const pending = await propose(h, { gateway: { port: 18793 } });
    const denied = await propose(h, { gateway: { reload: { mode: 'off' } } });
    await h.request('POST', `/v1/proposals/${denied.id}/deny`, h.ownerToken, {});
    const hashes = () => new Set(h.service.db.prepare('SELECT hash FROM documents').pluck().all() as string[]);
    expect(hashes()).toContain(initial);

    const removed = pruneUnreferencedDocuments(h.service);
    expect(removed).toBe(2); // the document before a1, and a1's target (a2's base)
    const kept = hashes();
    expect(kept).not.toContain(a1.baseHash);
    expect(kept).not.toContain(a2.baseHash);
    expect(kept).toContain(a3.baseHash); // inside the window of one
    expect(kept).toContain(pending.baseHash); // the current document, base of the live proposal
    expect(pruneUnreferencedDocuments(h.service)).toBe(0);

    // A drill over the last three changes: the newest is inside the window, the two before it say why not.
    const drill = runDrill(h.service, null, { last: 3 });
    expect(drill.changes.map((change) => [change.proposalId, change.restorable, change.code ?? null])).toEqual([
      [a3.id, true, null],
      [a2.id, false, 'base_not_kept'],
      [a1.id, false, 'base_not_kept'],
    ]);

    // Inside the window everything still works: rollback, restore to its seq, and the live proposal applies.
    const rolled = rollback(h.service, must(h.service.tokens.authenticate(h.ownerToken)), a3.id);
    expect(rolled.httpStatus).toBe(202);
    const target = must(h.service.targets.get('openclaw'));
    expect((documentAfter(h.service, target, appliedSeq(h, a2.id)).gateway as { port: number }).port).toBe(18791);
    // Outside it, a clear refusal.
    const old = await h.request('POST', `/v1/proposals/${a1.id}/rollback`, h.ownerToken);
    expect(old.statusCode).toBe(409);
    expect(old.json().error.code).toBe('document_not_kept');
    expect(() => documentAfter(h.service, target, appliedSeq(h, a1.id))).toThrow(/not kept|no longer/);
    const approved = await h.request('POST', `/v1/proposals/${pending.id}/approve`, h.ownerToken, {
      patchHash: pending.patchHash,
    });
    expect(approved.statusCode).toBe(200);
    expect((h.document().gateway as { port: number }).port).toBe(18793);
  });
});

const migrations = new URL('../../migrations/', import.meta.url);

/**
 * A database as the code before issue 14 left it: migrations 001–009 only, and proposal and
 * target rows holding whole documents — copied from a real installation's rows, so the hashes,
 * cards and audit chain are the ones real code made.
 */
function legacyCopy(service: Service, file: string): void {
  const old = new Database(file);
  old.exec('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  for (const name of readdirSync(migrations)
    .filter((entry) => /^00\d_.*\.sql$/.test(entry))
    .sort()) {
    old.exec(readFileSync(new URL(name, migrations), 'utf8'));
    old.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(name, new Date().toISOString());
  }
  expect(columns(old, 'proposals')).toContain('target_document');
  const copy = (table: string) => {
    const shared = columns(old, table).join(', ');
    old.exec(`DELETE FROM ${table}`);
    const rows = service.db.prepare(`SELECT ${shared} FROM ${table}`).all() as Array<Record<string, unknown>>;
    const insert = old.prepare(
      `INSERT INTO ${table} (${shared}) VALUES (${columns(old, table)
        .map((name) => `@${name}`)
        .join(', ')})`,
    );
    for (const row of rows) insert.run(row);
  };
  for (const table of ['tokens', 'audit_events', 'installation', 'freeze_state', 'apply_intents']) copy(table);
  const base = (hash: string) =>
    service.db.prepare('SELECT text FROM documents WHERE hash = ?').pluck().get(hash) as string | undefined;
  const insertTarget = old.prepare(
    'INSERT INTO targets (name, last_hash, last_document, updated_at) VALUES (?, ?, ?, ?)',
  );
  for (const row of service.db.prepare('SELECT name, last_hash, updated_at FROM targets').all() as Array<{
    name: string;
    last_hash: string;
    updated_at: string;
  }>) {
    insertTarget.run(row.name, row.last_hash, base(row.last_hash), row.updated_at);
  }
  const insertProposal = old.prepare(
    `INSERT INTO proposals (id, target, status, tier, token_id, agent_id, session_key, base_hash, patch_hash, target_hash,
       created_at, expires_at, card, target_document, resolution, grant_expires_at, updated_at, base_document)
     VALUES (@id, @target, @status, @tier, @token_id, @agent_id, @session_key, @base_hash, @patch_hash, @target_hash,
       @created_at, @expires_at, @card, @target_document, @resolution, @grant_expires_at, @updated_at, @base_document)`,
  );
  const target = must(service.targets.get('openclaw'));
  for (const record of service.proposals.list()) {
    const row = service.db.prepare('SELECT * FROM proposals WHERE id = ?').get(record.card.id) as Record<
      string,
      unknown
    >;
    const documents = proposalDocuments(service, target, record);
    delete row.operations;
    insertProposal.run({ ...row, target_document: documents.target.text, base_document: documents.base.text });
  }
  old.close();
}

describe('migration 010 on a database from before it', () => {
  it('moves every document into the documents table, once, drops the old columns, and the service keeps working', async () => {
    const h = await installation();
    const a1 = await applied(h, { gateway: { port: 18790 } });
    const secret = await applied(h, { channels: { telegram: { botToken: '999:ROTATED_SECRET_123' } } });
    const pending = await propose(h, { gateway: { reload: { mode: 'off' } } });
    const other = await propose(h, { gateway: { port: 18795 } });
    const expectedDocument = h.documentText();

    const data = h.dir;
    const legacy = join(data, 'legacy.db');
    legacyCopy(h.service, legacy);
    // A row from before rollback support (migration 004) has no base document at all.
    const stripped = new Database(legacy);
    stripped.prepare('UPDATE proposals SET base_document = NULL WHERE id = ?').run(a1.id);
    stripped.close();
    h.service.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(data, `countersign.db${suffix}`), { force: true });
    renameSync(legacy, join(data, 'countersign.db'));

    const service = openService(data, { now: h.clock.now });
    try {
      expect(columns(service.db, 'proposals')).not.toContain('target_document');
      expect(columns(service.db, 'proposals')).not.toContain('base_document');
      expect(columns(service.db, 'targets')).not.toContain('last_document');
      // Idempotent: nothing left to convert.
      expect(adoptLegacyDocuments(service.db)).toBe(0);
      // Two proposals on one base, and that base is also the current document: one copy.
      expect(pending.baseHash).toBe(other.baseHash);
      expect(service.db.prepare('SELECT count(*) FROM documents WHERE hash = ?').pluck().get(pending.baseHash)).toBe(1);
      const target = must(service.targets.get('openclaw'));
      // Every converted proposal rebuilds to exactly its card's target; the one without a base
      // keeps its target whole, as one operation.
      for (const record of service.proposals.list()) {
        if (record.card.id === a1.id) continue;
        expect(() => proposalDocuments(service, target, record)).not.toThrow();
      }
      const whole = JSON.parse(must(service.proposals.get(a1.id)).writeOperations) as Array<{
        op: string;
        path: string;
      }>;
      expect(whole.map((operation) => [operation.op, operation.path])).toEqual([['replace', '']]);
      expect(readFileSync(target.path, 'utf8')).toBe(expectedDocument);

      const owner = must(service.tokens.authenticate(h.ownerToken));
      expect(approve(service, owner, pending.id, { patchHash: pending.patchHash }).status).toBe('applied');
      expect((JSON.parse(readFileSync(target.path, 'utf8')).gateway as { reload: { mode: string } }).reload.mode).toBe(
        'off',
      );
      // Rollback of a change applied before the migration: its base came across. The row that
      // never had one still cannot be rolled back, and says so.
      expect(rollback(service, owner, secret.id).httpStatus).toBe(202);
      expect(() => rollback(service, owner, a1.id)).toThrow(/no longer kept/);
    } finally {
      service.close();
    }
  });
});
