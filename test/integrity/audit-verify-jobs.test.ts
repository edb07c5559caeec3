/**
 * `countersign audit verify --jobs N` splits the chain into ranges checked side by side
 * (src/store/audit-verify-parallel.ts). It must reach exactly the verdict one pass reaches, on
 * every kind of tampering, wherever it falls relative to the range boundaries.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AuditEntry, Verification } from '../../src/core/audit.js';
import { sha256 } from '../../src/core/hash.js';
import { AuditLog } from '../../src/store/audit-log.js';
import { verifyAuditLog } from '../../src/store/audit-verify-parallel.js';
import { openDatabase } from '../../src/store/database.js';
import { cli, tempDir } from '../e2e/cli.js';
import { tempDir as scratchDir } from '../support/harness.js';

function entry(index: number): AuditEntry {
  return {
    kind: 'proposal.created',
    at: new Date(Date.UTC(2026, 10, 26) + index * 1000).toISOString(),
    target: 'openclaw',
    actor: { role: 'agent', name: 'main', agentId: 'main', sessionKey: `chat-${index}`, surface: null },
    proposalId: null,
    tier: 'protected',
    ruleIds: [],
    policyHash: null,
    baseHash: null,
    targetHash: null,
    patchHash: null,
    paths: ['gateway.port'],
    stepUp: null,
    reason: `event ${index}`,
    details: {},
  };
}

type Row = { seq: number; kind: string; at: string; body: string; prev_hash: string; hash: string };

/** The ways a hostile host could rewrite the log, each at a chosen event. */
const tampering = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('edit' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('rehash' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('seq-zero' as const) }),
  fc.record({ kind: fc.constant('renumber' as const), at: fc.nat() }),
);
type Tampering = typeof tampering extends fc.Arbitrary<infer T> ? T : never;

function tamper(db: ReturnType<typeof openDatabase>, events: number, change: Tampering): void {
  if (change.kind === 'none' || events === 0) return;
  const seq = 'at' in change ? (change.at % events) + 1 : 1;
  const row = db.prepare('SELECT * FROM audit_events WHERE seq = ?').get(seq) as Row;
  switch (change.kind) {
    case 'edit':
      db.prepare('UPDATE audit_events SET body = ? WHERE seq = ?').run(row.body.replace('event', 'EVENT'), seq);
      break;
    case 'rehash': {
      // The edited event gets a hash that matches it: the next link breaks instead.
      const body = row.body.replace('event', 'EVENT');
      db.prepare('UPDATE audit_events SET body = ?, hash = ? WHERE seq = ?').run(
        body,
        sha256(row.prev_hash + body),
        seq,
      );
      break;
    }
    case 'delete':
      db.prepare('DELETE FROM audit_events WHERE seq = ?').run(seq);
      break;
    case 'truncate':
      db.prepare('DELETE FROM audit_events WHERE seq >= ?').run(seq);
      break;
    case 'swap': {
      if (seq === events) return;
      const next = db.prepare('SELECT * FROM audit_events WHERE seq = ?').get(seq + 1) as Row;
      const update = db.prepare('UPDATE audit_events SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?');
      update.run(next.body, next.prev_hash, next.hash, seq);
      update.run(row.body, row.prev_hash, row.hash, seq + 1);
      break;
    }
    case 'seq-zero': {
      const first = db.prepare('SELECT * FROM audit_events WHERE seq = 1').get() as Row;
      db.prepare('INSERT INTO audit_events (seq, kind, at, body, prev_hash, hash) VALUES (0, ?, ?, ?, ?, ?)').run(
        first.kind,
        first.at,
        first.body,
        first.prev_hash,
        first.hash,
      );
      break;
    }
    case 'renumber':
      // A gap: the event keeps its body and hash but moves far beyond the end.
      db.prepare('UPDATE audit_events SET seq = ? WHERE seq = ?').run(events + 1000, seq);
      break;
  }
}

const verdict = (result: Verification) =>
  result.ok ? { ok: true, count: result.count, head: result.head } : { ok: false, brokenAt: result.brokenAt };

describe('audit verify in ranges', () => {
  it('reaches the verdict of one pass, for every tampering, expected head and number of ranges', async () => {
    const file = join(scratchDir('countersign-verify-jobs-'), 'countersign.db');
    const db = openDatabase(file);
    onTestFinished(() => db.close());
    const log = new AuditLog(db);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        tampering,
        fc.integer({ min: 2, max: 9 }),
        fc.option(fc.nat(), { nil: undefined }),
        async (events, change, jobs, headAt) => {
          db.prepare('DELETE FROM audit_events').run();
          if (events > 0) log.appendMany(Array.from({ length: events }, (_, index) => entry(index)));
          const recorded = headAt === undefined || events === 0 ? undefined : (headAt % events) + 1;
          const expectHead =
            recorded === undefined ? undefined : { seq: recorded, hash: log.storedHash(recorded) as string };
          tamper(db, events, change);
          const onePass = log.verify(expectHead);
          const ranged = await verifyAuditLog(file, log, { jobs, expectHead, runRange: (job) => log.verifyChain(job) });
          expect(verdict(ranged)).toEqual(verdict(onePass));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the CLI splits a long log over worker threads and finds the same break', async (t) => {
    // The threads run the built worker: without it the CLI would quietly verify in one pass.
    expect(existsSync(new URL('../../dist/store/audit-verify-worker.js', import.meta.url))).toBe(true);
    const data = tempDir(t);
    const init = await cli(['init', '--data', data, '--schema', 'none', '--json']);
    expect(init.code, init.stderr).toBe(0);
    const cliDb = openDatabase(join(data, 'countersign.db'));
    const cliLog = new AuditLog(cliDb);
    const before = cliLog.head()?.seq ?? 0;
    cliLog.appendMany(Array.from({ length: 3000 }, (_, index) => entry(index)));
    const head = cliLog.head();
    const verify = async (jobs: number) => {
      const done = await cli(['audit', 'verify', '--data', data, '--jobs', String(jobs), '--json']);
      return { code: done.code, result: JSON.parse(done.stdout) };
    };
    for (const jobs of [1, 2, 3, 4]) {
      expect(await verify(jobs)).toEqual({ code: 0, result: { ok: true, count: before + 3000, head } });
    }
    // An edit in the third quarter: every split reports the same event.
    const target = before + 2222;
    const row = cliDb.prepare('SELECT body FROM audit_events WHERE seq = ?').get(target) as { body: string };
    cliDb.prepare('UPDATE audit_events SET body = ? WHERE seq = ?').run(row.body.replace('event', 'EVENT'), target);
    cliDb.close();
    for (const jobs of [1, 2, 3, 4]) {
      const { code, result } = await verify(jobs);
      expect(code).toBe(1);
      expect(result).toMatchObject({ ok: false, brokenAt: target });
    }
    const bad = await cli(['audit', 'verify', '--data', data, '--jobs', '0', '--json']);
    expect(bad.code).not.toBe(0);
    expect(JSON.parse(bad.stdout).error.message).toContain('--jobs');
  });
});
