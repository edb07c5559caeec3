import { lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/core/errors.js';
import { documentHash } from '../../src/core/hash.js';
import { reconcileIntents } from '../../src/service/apply.js';
import { openService } from '../../src/service/context.js';
import { proposalDocuments } from '../../src/service/proposal-documents.js';
import { writeDocumentAtomic } from '../../src/store/document-file.js';
import { type Harness, installation, tempDir } from '../support/harness.js';

const thinkingHigh = { agents: { defaults: { thinkingDefault: 'high' } } };

describe('store', () => {
  it('applies migrations once, in order, and records them', async () => {
    const h = await installation();
    const names = h.service.db.prepare('SELECT name FROM schema_migrations ORDER BY name').pluck().all();
    expect(names).toEqual(
      readdirSync(new URL('../../migrations/', import.meta.url))
        .filter((name) => name.endsWith('.sql'))
        .sort(),
    );
    const reopened = openService(h.dir);
    expect(reopened.db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(names.length);
    expect(reopened.db.pragma('journal_mode', { simple: true })).toBe('wal');
    reopened.close();
  });

  it('keeps tokens only as hashes, and the data directory private', async () => {
    const h = await installation();
    const dump = JSON.stringify(h.service.db.prepare('SELECT * FROM tokens').all());
    expect(dump).not.toContain(h.ownerToken);
    expect(dump).not.toContain(h.agentToken);
    expect(dump).not.toContain(h.ownerToken.slice(9, 30));
    expect(statSync(h.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(h.dir, 'countersign.db')).mode & 0o777).toBe(0o600);
    expect(statSync(join(h.dir, 'countersign.json')).mode & 0o777).toBe(0o600);
  });

  it('revoked tokens stop working at once', async () => {
    const h = await installation();
    h.service.tokens.revoke('main', h.clock.now());
    expect((await h.request('GET', '/v1/config', h.agentToken)).statusCode).toBe(401);
  });
});

describe('atomic document writes', () => {
  it('keeps the file mode, leaves no temporary files, and creates new files 0600', () => {
    const dir = tempDir();
    const file = join(dir, 'doc.json');
    writeFileSync(file, '{}', { mode: 0o640 });
    writeDocumentAtomic(file, '{"a":1}\n');
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n');
    expect(statSync(file).mode & 0o777).toBe(0o640);
    const fresh = join(dir, 'new.json');
    writeDocumentAtomic(fresh, '{}');
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['doc.json', 'new.json']);
  });

  it('refuses a symlinked document, and the link target is untouched', () => {
    const dir = tempDir();
    const real = join(dir, 'real.json');
    writeFileSync(real, '{"keep":true}');
    const link = join(dir, 'link.json');
    symlinkSync(real, link);
    expect(() => writeDocumentAtomic(link, '{}')).toThrow(CountersignError);
    expect(readFileSync(real, 'utf8')).toBe('{"keep":true}');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });
});

/** Proposes an allowlisted change and expects it refused with 503, the document untouched. */
async function expectAuditUnavailable(h: Harness): Promise<void> {
  const before = h.documentText();
  const response = await h.request('POST', '/v1/proposals', h.agentToken, {
    baseHash: h.currentHash(),
    patch: thinkingHigh,
  });
  expect(response.statusCode).toBe(503);
  expect(response.json().error.code).toBe('audit_unavailable');
  expect(h.documentText()).toBe(before);
}

describe('fail closed when the audit log cannot be written', () => {
  it('a read-only database refuses changes with 503 and reads keep working', async () => {
    const h = await installation();
    h.service.db.pragma('query_only = ON');
    await expectAuditUnavailable(h);
    expect((await h.request('GET', '/v1/config', h.agentToken)).statusCode).toBe(200);
    h.service.db.pragma('query_only = OFF');
  });

  it('if the completion record fails after the write, the old document is put back', async () => {
    const h = await installation();
    h.service.db.exec(`CREATE TRIGGER refuse_apply BEFORE INSERT ON audit_events WHEN NEW.kind = 'change.applied'
      BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END`);
    await expectAuditUnavailable(h);
    expect(h.service.audit.list().some((event) => event.kind === 'change.applied')).toBe(false);
    expect(h.service.audit.verify().ok).toBe(true);
  });
});

describe('start-up reconciles an apply interrupted by a crash', () => {
  async function interrupted(writeTarget: boolean) {
    const h = await installation();
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { gateway: { port: 18790 } },
    });
    const card = response.json().proposal;
    const record = h.service.proposals.get(card.id);
    // What the service commits before touching the document:
    h.service.db
      .prepare(
        'INSERT INTO apply_intents (proposal_id, target, base_hash, target_hash, context, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        card.id,
        'openclaw',
        card.baseHash,
        card.targetHash,
        JSON.stringify({
          from: ['pending'],
          reason: {
            actor: { role: 'owner', name: 'owner', agentId: null, sessionKey: null, surface: 'cli' },
            approvedBy: null,
            stepUp: 'none',
            why: 'test',
          },
        }),
        new Date().toISOString(),
      );
    const target = h.service.targets.get('openclaw');
    if (writeTarget && record && target)
      writeDocumentAtomic(h.configPath, proposalDocuments(h.service, target, record).target.text);
    return { h, card };
  }

  it('document already replaced: the apply is completed and audited as recovered', async () => {
    const { h, card } = await interrupted(true);
    expect(reconcileIntents(h.service)).toEqual([{ proposalId: card.id, outcome: 'completed' }]);
    expect(documentHash(h.service.hashKey, h.document())).toBe(card.targetHash);
    const applied = h.service.audit.list().find((event) => event.kind === 'change.applied');
    expect(applied).toMatchObject({ proposalId: card.id, details: { recovered: true } });
    expect((await h.request('GET', `/v1/proposals/${card.id}`, h.ownerToken)).json().status).toBe('applied');
    expect(h.service.audit.verify().ok).toBe(true);
  });

  it('document not replaced: the proposal is failed and the document untouched', async () => {
    const { h, card } = await interrupted(false);
    const before = h.documentText();
    expect(reconcileIntents(h.service)).toEqual([{ proposalId: card.id, outcome: 'failed' }]);
    expect(h.documentText()).toBe(before);
    expect((await h.request('GET', `/v1/proposals/${card.id}`, h.ownerToken)).json().status).toBe('failed');
    expect(h.auditKinds()).toContain('change.failed');
  });
});

describe('init and the data directory', () => {
  const init = async (dir: string) =>
    (await import('../../src/service/install.js')).initInstallation(dir, { demoDocument: {} });

  it('makes an existing empty directory private, and refuses a shared one that holds files', async () => {
    const { chmodSync, mkdirSync } = await import('node:fs');
    const empty = join(tempDir(), 'empty');
    mkdirSync(empty, { mode: 0o755 });
    chmodSync(empty, 0o755);
    await init(empty);
    expect(statSync(empty).mode & 0o777).toBe(0o700);

    const shared = join(tempDir(), 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    writeFileSync(join(shared, 'notes.txt'), 'mine');
    await expect(init(shared)).rejects.toThrow(/readable by other users/);
    expect(statSync(shared).mode & 0o777).toBe(0o755);
    expect(readdirSync(shared)).toEqual(['notes.txt']);
  });
});
