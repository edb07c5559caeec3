import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEntry } from '../src/core/audit.js';
import { auditLog, database, hash } from './lib/dist.js';
import { shippedConfig } from './lib/fixtures.js';
import { install } from './lib/install.js';
import { ms, perSecond, ratio, type Section } from './lib/report.js';
import { median } from './lib/stats.js';

const verifyEvents = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const appendEvents = 100_000;
const batch = Number(process.env.BENCH_AUDIT_BATCH ?? 1_000);

/** What a proposal.created record looks like: actor, rule ids, three hashes, paths, reason. */
function entry(index: number): AuditEntry {
  const digest = hash.sha256(`event ${index}`);
  return {
    kind: 'proposal.created',
    at: new Date(Date.UTC(2026, 10, 26) + index * 1000).toISOString(),
    target: 'openclaw',
    actor: { role: 'agent', name: 'main', agentId: 'main', sessionKey: `chat-${index % 97}`, surface: null },
    proposalId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    tier: 'protected',
    ruleIds: ['gateway-restart'],
    policyHash: digest,
    baseHash: digest,
    targetHash: digest,
    patchHash: digest,
    paths: ['gateway.port', `channels.telegram.groups["-100${index}"].requireMention`],
    stepUp: null,
    reason: 'Owner asked for a different port.',
    details: {},
  };
}

type RawRow = { seq: number; kind: string; at: string; body: string; prev_hash: string; hash: string };

export async function run(): Promise<Section> {
  const scratch = mkdtempSync(join(tmpdir(), 'countersign-bench-audit-'));
  try {
    // Batched appends through the audit log (hash chain computed) against raw inserts of the same rows.
    const entries = Array.from({ length: appendEvents }, (_, index) => entry(index));
    const chained = database.openDatabase(join(scratch, 'chained.db'));
    const log = new auditLog.AuditLog(chained);
    log.appendMany(entries.slice(0, batch)); // warm-up, not counted
    let started = performance.now();
    for (let offset = batch; offset < appendEvents; offset += batch)
      log.appendMany(entries.slice(offset, offset + batch));
    const appendSeconds = (performance.now() - started) / 1000;
    const appendRate = (appendEvents - batch) / appendSeconds;
    const rows = chained
      .prepare('SELECT seq, kind, at, body, prev_hash, hash FROM audit_events ORDER BY seq')
      .all() as RawRow[];
    chained.close();

    const raw = database.openDatabase(join(scratch, 'raw.db'));
    const insert = raw.prepare(
      'INSERT INTO audit_events (seq, kind, at, body, prev_hash, hash) VALUES (@seq, @kind, @at, @body, @prev_hash, @hash)',
    );
    const insertBatch = raw.transaction((slice: RawRow[]) => {
      for (const row of slice) insert.run(row);
    });
    insertBatch(rows.slice(0, batch));
    started = performance.now();
    for (let offset = batch; offset < rows.length; offset += batch) insertBatch(rows.slice(offset, offset + batch));
    const rawRate = (rows.length - batch) / ((performance.now() - started) / 1000);
    raw.close();

    // `countersign audit verify` over a million events in a real installation's database.
    const installation = install(shippedConfig());
    let fillRate: number;
    const verifyMs: number[] = [];
    const cliMs: number[] = [];
    const onePassMs: number[] = [];
    let dbBytes = 0;
    try {
      const db = database.openDatabase(join(installation.data, 'countersign.db'));
      const filling = new auditLog.AuditLog(db);
      const fillBatch = 10_000;
      started = performance.now();
      const existing = filling.head()?.seq ?? 0;
      for (let offset = existing; offset < verifyEvents; offset += fillBatch) {
        filling.appendMany(
          Array.from({ length: Math.min(fillBatch, verifyEvents - offset) }, (_, index) => entry(offset + index)),
        );
      }
      fillRate = (verifyEvents - existing) / ((performance.now() - started) / 1000);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      dbBytes = statSync(join(installation.data, 'countersign.db')).size;

      const readonly = database.openDatabase(join(installation.data, 'countersign.db'), { readonly: true });
      const reader = new auditLog.AuditLog(readonly);
      for (let round = 0; round < 2; round++) {
        started = performance.now();
        const result = reader.verify();
        verifyMs.push(performance.now() - started);
        if (!result.ok || result.count !== verifyEvents) throw new Error(`verify: ${JSON.stringify(result)}`);
      }
      readonly.close();
      const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
      // The default (one thread per core, at most 4, at this size) and one pass (`--jobs 1`), alternated.
      for (let round = 0; round < 2; round++) {
        for (const [args, into] of [
          [[], cliMs],
          [['--jobs', '1'], onePassMs],
        ] as const) {
          started = performance.now();
          const done = spawnSync(process.execPath, [cli, 'audit', 'verify', '--data', installation.data, ...args], {
            encoding: 'utf8',
          });
          into.push(performance.now() - started);
          if (done.status !== 0) throw new Error(`audit verify exited ${done.status}: ${done.stdout}${done.stderr}`);
        }
      }
    } finally {
      installation.remove();
    }
    const verify = median(cliMs);
    const onePass = median(onePassMs);
    const inProcess = median(verifyMs);
    const jobs = Math.min(4, availableParallelism());
    return {
      rows: [
        {
          id: 'audit-verify',
          benchmark: `audit verify, ${verifyEvents.toLocaleString('en-US')} events (CLI, end to end, ${jobs} threads)`,
          result: `${ms(verify)} (--jobs 1: ${ms(onePass)})`,
          floor: `${ms(inProcess)} in-process AuditLog.verify, one pass`,
          ratio: '—',
          target: '≤ 3 s',
          met: verify <= 3000,
          figures: {
            events: verifyEvents,
            cliMs: verify,
            cliOnePassMs: onePass,
            jobs,
            inProcessMs: inProcess,
            databaseBytes: dbBytes,
            fillEventsPerSecond: fillRate,
          },
        },
        {
          id: 'audit-append',
          benchmark: `audit appends, batches of ${batch.toLocaleString('en-US')}`,
          result: perSecond(appendRate, 'events/s'),
          floor: `${perSecond(rawRate, 'rows/s')} raw better-sqlite3 inserts`,
          ratio: ratio(appendRate / rawRate),
          target: '≥ 50,000 events/s',
          met: appendRate >= 50_000,
          figures: { eventsPerSecond: appendRate, rawRowsPerSecond: rawRate, ratio: appendRate / rawRate, batch },
        },
      ],
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
