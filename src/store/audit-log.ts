import {
  type AuditEntry,
  type AuditEvent,
  type ChainHead,
  type ChainRange,
  ChainVerifier,
  GENESIS_HASH,
  sealEventWithBody,
  type Verification,
} from '../core/audit.js';
import type { Db } from './database.js';
import { statement } from './statements.js';

type Row = { seq: number; body: string; hash: string };

function toEvent(row: Row): AuditEvent {
  // `{ ...parsed, hash }` without the copy: the parsed body is a fresh object.
  const event = JSON.parse(row.body) as AuditEvent;
  event.hash = row.hash;
  return event;
}

const rowsPerInsert = 100;
const insertSql = new Map<number, string>();

/** `INSERT INTO audit_events … VALUES (…), (…)` for `rows` rows. */
function insertRows(rows: number): string {
  let sql = insertSql.get(rows);
  if (!sql) {
    sql = `INSERT INTO audit_events (seq, kind, at, body, prev_hash, hash) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}`;
    insertSql.set(rows, sql);
  }
  return sql;
}

/** The append-only, hash-chained audit log. Appends must run inside the caller's transaction. */
export class AuditLog {
  constructor(private readonly db: Db) {}

  head(): ChainHead | null {
    const row = statement(this.db, 'SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as
      | ChainHead
      | undefined;
    return row ?? null;
  }

  append(entry: AuditEntry): AuditEvent {
    const head = this.head();
    return this.insert(entry, (head?.seq ?? 0) + 1, head?.hash ?? GENESIS_HASH);
  }

  /**
   * Appends entries in order in one transaction (nested in the caller's, if any): one head
   * read, one commit, and rows inserted up to 100 per statement. For bulk writers such as
   * imports; the chain is the same as appending them one by one. Returns the new head (the
   * events themselves are not kept: a bulk writer has no use for a copy of each).
   */
  appendMany(entries: readonly AuditEntry[]): ChainHead | null {
    return this.db.transaction(() => {
      const head = this.head();
      let seq = head?.seq ?? 0;
      let prevHash = head?.hash ?? GENESIS_HASH;
      let values: unknown[] = [];
      const flush = () => {
        const rows = values.length / 6;
        if (rows > 0) statement(this.db, insertRows(rows)).run(...values);
        values = [];
      };
      for (const entry of entries) {
        const { event, body } = sealEventWithBody(entry, seq + 1, prevHash);
        values.push(event.seq, event.kind, event.at, body, event.prevHash, event.hash);
        seq = event.seq;
        prevHash = event.hash;
        if (values.length === 6 * rowsPerInsert) flush();
      }
      flush();
      return seq === 0 ? null : { seq, hash: prevHash };
    })();
  }

  private insert(entry: AuditEntry, seq: number, prevHash: string): AuditEvent {
    const { event, body } = sealEventWithBody(entry, seq, prevHash);
    statement(this.db, insertRows(1)).run(event.seq, event.kind, event.at, body, event.prevHash, event.hash);
    return event;
  }

  list(options: { after?: number; limit?: number; proposalId?: string } = {}): AuditEvent[] {
    const rows = options.proposalId
      ? (this.db
          .prepare(
            `SELECT seq, body, hash FROM audit_events
             WHERE seq > ? AND json_extract(body, '$.proposalId') = ? ORDER BY seq LIMIT ?`,
          )
          .all(options.after ?? 0, options.proposalId, options.limit ?? 500) as Row[])
      : (this.db
          .prepare('SELECT seq, body, hash FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?')
          .all(options.after ?? 0, options.limit ?? 500) as Row[]);
    return rows.map(toEvent);
  }

  /** Every event in order, streamed, for export. */
  *iterate(): Generator<AuditEvent> {
    for (const row of this.db
      .prepare('SELECT seq, body, hash FROM audit_events ORDER BY seq')
      .iterate() as Iterable<Row>) {
      yield toEvent(row);
    }
  }

  /** The stored hash of event `seq`, or null when there is no such row. */
  storedHash(seq: number): string | null {
    const row = statement(this.db, 'SELECT hash FROM audit_events WHERE seq = ?').get(seq) as
      | { hash: string }
      | undefined;
    return row?.hash ?? null;
  }

  /**
   * Recomputes the chain over the stored rows, streaming so memory stays flat: the whole log,
   * or (`part`) one range of it started from the stored hash of the event before it. The first
   * range has no lower bound and the last no upper one, so a row outside 1..head (a seq of 0, a
   * row appended since) is seen exactly as one pass over the whole log would see it.
   */
  verifyChain(part?: { range: ChainRange; prevHash: string; first: boolean; last: boolean }): Verification {
    const verifier = part ? new ChainVerifier({ seq: part.range.from, prevHash: part.prevHash }) : new ChainVerifier();
    const lower = part && !part.first ? part.range.from : null;
    const upper = part && !part.last ? part.range.to : null;
    // Bounds written into the statement (not `? IS NULL OR …`) so that SQLite seeks the rowid range.
    const where = [lower === null ? null : 'seq >= @lower', upper === null ? null : 'seq <= @upper'].filter(Boolean);
    // Rows as arrays, not objects: at a million rows the difference is measurable.
    const rows = this.db
      .prepare(
        `SELECT seq, body, hash FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`,
      )
      .raw(true);
    const bounds = { ...(lower === null ? {} : { lower }), ...(upper === null ? {} : { upper }) };
    for (const [seq, body, hash] of (where.length ? rows.iterate(bounds) : rows.iterate()) as Iterable<
      [number, string, string]
    >) {
      if (!verifier.push(seq, hash, body)) break;
    }
    return verifier.result();
  }

  /**
   * The whole chain in one pass. With `expectHead` (a head recorded elsewhere earlier), a chain
   * that was cut back or rewritten at or before that event fails too.
   */
  verify(expectHead?: ChainHead): Verification {
    return this.checkExpectedHead(this.verifyChain(), expectHead);
  }

  /** `result` of a verified chain, failed when it no longer holds `expectHead` as it was recorded. */
  checkExpectedHead(result: Verification, expectHead?: ChainHead): Verification {
    if (!result.ok || !expectHead) return result;
    if (expectHead.seq > result.head.seq) {
      return {
        ok: false,
        brokenAt: result.count + 1,
        reason: `the log ends at event ${result.count}, before the recorded head ${expectHead.seq}: it was truncated`,
      };
    }
    // The chain is intact, so the stored hash of every event in it is the one its chain proves.
    if (this.storedHash(expectHead.seq) !== expectHead.hash) {
      return { ok: false, brokenAt: expectHead.seq, reason: `event ${expectHead.seq} is not the one recorded as head` };
    }
    return result;
  }
}
