import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** One stored proposal: the base it applies to, its card and operations, and its audit event's body. */
export type LeanProposal = { baseHash: string; card: string; operations: string; event: string };

/**
 * The least a stored proposal can be in SQLite, whatever the schema: a row carrying the card and
 * a chained audit event, in two tables with integer keys and no secondary index, inserted in one
 * transaction. countersign's own tables (text ids, indexes for listing and expiry) cost more.
 * Used by `storageFloorMicros` and by the required-work server (bench/servers/required.ts).
 */
export function leanProposalStore(
  db: Database.Database,
  chain: (previousHash: string, event: string) => string,
): (proposal: LeanProposal) => void {
  db.exec(`CREATE TABLE IF NOT EXISTS lean_proposals (id INTEGER PRIMARY KEY, uid TEXT, base_hash TEXT, operations TEXT, card TEXT, at TEXT);
    CREATE TABLE IF NOT EXISTS lean_events (seq INTEGER PRIMARY KEY, body TEXT, prev_hash TEXT, hash TEXT);
    INSERT OR IGNORE INTO lean_events VALUES (0, '{}', '', 'genesis');`);
  const insertProposal = db.prepare(
    'INSERT INTO lean_proposals (uid, base_hash, operations, card, at) VALUES (?, ?, ?, ?, ?)',
  );
  const head = db.prepare('SELECT seq, hash FROM lean_events ORDER BY seq DESC LIMIT 1');
  const insertEvent = db.prepare('INSERT INTO lean_events (seq, body, prev_hash, hash) VALUES (?, ?, ?, ?)');
  return db.transaction(({ baseHash, card, operations, event }: LeanProposal) => {
    insertProposal.run(randomUUID(), baseHash, operations, card, new Date().toISOString());
    const previous = head.get() as { seq: number; hash: string };
    insertEvent.run(previous.seq + 1, event, previous.hash, chain(previous.hash, event));
  });
}

/**
 * Microseconds for one `leanProposalStore` transaction with a card of `cardBytes`, in WAL mode
 * with `synchronous = NORMAL` (the fsync is left out: group commit moves it off the event loop).
 *
 * better-sqlite3 runs on the event loop, so a server that stores a proposal per request spends
 * this on top of everything a bare route spends: no implementation on this stack can answer
 * faster than 1 / (bare request time + this).
 */
export function storageFloorMicros(cardBytes: number, seconds = 2): number {
  const directory = mkdtempSync(join(tmpdir(), 'countersign-storage-floor-'));
  const db = new Database(join(directory, 'floor.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Storage alone: the chain hash is a constant here (the required-work server computes it).
    const store = leanProposalStore(db, () => `sha256:${'0'.repeat(64)}`);
    const card = 'x'.repeat(cardBytes);
    const proposal: LeanProposal = {
      baseHash: `hmac-sha256:${'0'.repeat(64)}`,
      card,
      operations: '[{"op":"replace","path":"/gateway/port","value":18790}]',
      event: card.slice(0, 400),
    };
    // Warm up until the WAL has wrapped at least once, then time whole batches.
    for (let index = 0; index < 2000; index++) store(proposal);
    let done = 0;
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      for (let index = 0; index < 500; index++) store(proposal);
      done += 500;
    }
    return ((performance.now() - started) * 1000) / done;
  } finally {
    db.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
