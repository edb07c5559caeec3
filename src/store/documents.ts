import { diffDocuments } from '../core/diff.js';
import { canonical } from '../core/hash.js';
import { isObject, type JsonObject } from '../core/json.js';
import type { Operation } from '../core/operations.js';
import { applyOperations } from '../core/patch.js';
import type { Db } from './database.js';
import { statement } from './statements.js';

/*
 * The `documents` table (migrations/010_documents.sql): every document the service keeps, once,
 * keyed by its document hash. Keyed with the installation's own document hash rather than a
 * plain SHA-256 because every reference to a document already *is* that hash — a proposal's
 * `base_hash`, `targets.last_hash`, the audit chain's base/target hashes that restore looks up —
 * and the service has computed it anyway before it stores anything; a second digest would cost
 * another canonicalisation of a multi-megabyte document per proposal and a second column to keep
 * in step. (A card's target hash can be blinded, plan.ts; targets are never stored, only rebuilt.)
 */

/** Stores `text` under `hash` unless a document with that hash is there already (same content). */
export function putDocument(db: Db, hash: string, text: string, now: Date): void {
  // Checked first so that a multi-megabyte text is not bound and copied into SQLite for nothing.
  if (statement(db, 'SELECT 1 AS found FROM documents WHERE hash = ?').get(hash)) return;
  statement(db, 'INSERT INTO documents (hash, text, bytes, created_at) VALUES (?, ?, ?, ?)').run(
    hash,
    text,
    Buffer.byteLength(text),
    now.toISOString(),
  );
}

/** The text kept under `hash`, or null when no such document is kept (never was, or pruned). */
export function getDocument(db: Db, hash: string): string | null {
  const row = statement(db, 'SELECT text FROM documents WHERE hash = ?').get(hash) as { text: string } | undefined;
  return row?.text ?? null;
}

/**
 * The pruning rule (README, "Installation layout"). A document is kept while any of these names it:
 *
 * - the current state: `targets.last_hash`, the document each target last had written or accepted;
 * - a live proposal: the base of every `pending` or `approved` one (its target is rebuilt from it);
 * - an apply in flight: the base of every apply intent (start-up reconciliation rebuilds from it);
 * - the rollback window: the bases of the `keepApplied` most recently applied proposals of each
 *   target (by the time they were applied). Their targets are rebuilt from base + operations, so
 *   rollback, drills and point-in-time restore reach back exactly that far.
 *
 * Everything else — bases of rejected, expired, stale, failed or withdrawn proposals, of applied
 * ones older than the window, and documents found by drift that no proposal was made against —
 * is deleted.
 */
export function keptHashes(db: Db, keepApplied: number): Set<string> {
  const hashes = db
    .prepare(
      `SELECT last_hash FROM targets
       UNION SELECT base_hash FROM proposals WHERE status IN ('pending', 'approved')
       UNION SELECT base_hash FROM apply_intents`,
    )
    .pluck()
    .all() as string[];
  const kept = new Set(hashes);
  const targets = db
    .prepare(`SELECT DISTINCT target FROM proposals WHERE status = 'applied'`)
    .pluck()
    .all() as string[];
  const window = statement(
    db,
    `SELECT base_hash FROM proposals WHERE target = ? AND status = 'applied'
      ORDER BY json_extract(resolution, '$.at') DESC LIMIT ?`,
  );
  for (const target of targets) {
    for (const row of window.all(target, keepApplied) as Array<{ base_hash: string }>) kept.add(row.base_hash);
  }
  return kept;
}

/** Deletes every document the rule above no longer keeps (of `only`, if given); returns how many went. */
export function pruneDocuments(db: Db, keepApplied: number, only?: readonly string[]): number {
  return db.transaction(() => {
    const kept = keptHashes(db, keepApplied);
    const candidates = only ?? (db.prepare('SELECT hash FROM documents').pluck().all() as string[]);
    const remove = statement(db, 'DELETE FROM documents WHERE hash = ?');
    let removed = 0;
    for (const hash of candidates) if (!kept.has(hash)) removed += remove.run(hash).changes;
    return removed;
  })();
}

/** What the documents table holds: how many, and their bytes. */
export function documentStats(db: Db): { documents: number; bytes: number } {
  return statement(db, 'SELECT count(*) AS documents, coalesce(sum(bytes), 0) AS bytes FROM documents').get() as {
    documents: number;
    bytes: number;
  };
}

/** The whole document as one operation: for a row whose base was never kept. */
function wholeDocument(value: JsonObject): Operation[] {
  return [{ op: 'replace', path: '', value }];
}

/**
 * Operations from `baseText` to `targetText` that rebuild the target exactly (checked here by
 * canonical comparison: no key is needed). The semantic diff's operations are exact by contract;
 * if they ever were not, the target is kept whole rather than wrong.
 */
function legacyOperations(baseText: string | null, targetText: string): Operation[] {
  const target = JSON.parse(targetText) as JsonObject;
  if (baseText === null) return wholeDocument(target);
  try {
    const base = JSON.parse(baseText) as unknown;
    if (!isObject(base) || !isObject(target)) return wholeDocument(target);
    const operations = diffDocuments(base, target).operations.map((placed) => placed.operation);
    const rebuilt = applyOperations(base, operations);
    return canonical(rebuilt) === canonical(target) ? operations : wholeDocument(target);
  } catch {
    return wholeDocument(target);
  }
}

/**
 * Start-up half of migration 010 (the SQL half moved bases and remembered documents): each
 * proposal row from before it still holds its whole target document; it becomes the operations
 * from the row's base, then the column is dropped. One immediate transaction, so a second process
 * starting at the same time waits and then finds nothing left to do; running it again is a no-op.
 */
export function adoptLegacyDocuments(db: Db): number {
  const legacy = () =>
    (db.prepare(`SELECT name FROM pragma_table_info('proposals')`).pluck().all() as string[]).includes(
      'target_document',
    );
  // Looked at first without a write lock: every open of a converted database stops here.
  if (!legacy()) return 0;
  return db
    .transaction(() => {
      if (!legacy()) return 0;
      const ids = db.prepare('SELECT id FROM proposals WHERE operations IS NULL').pluck().all() as string[];
      const read = db.prepare('SELECT base_hash, target_document FROM proposals WHERE id = ?');
      const write = db.prepare('UPDATE proposals SET operations = ? WHERE id = ?');
      for (const id of ids) {
        const row = read.get(id) as { base_hash: string; target_document: string };
        let operations: Operation[];
        try {
          operations = legacyOperations(getDocument(db, row.base_hash), row.target_document);
        } catch {
          // An unparsable stored target: nothing can rebuild it; its verification will say so.
          operations = [];
        }
        write.run(JSON.stringify(operations), id);
      }
      db.exec('ALTER TABLE proposals DROP COLUMN target_document');
      return ids.length;
    })
    .immediate();
}
