import {
  type AuditEntry,
  type AuditEvent,
  type ChainHead,
  ChainVerifier,
  GENESIS_HASH,
  sealEvent,
  type Verification,
} from '../core/audit.js';
import { canonical } from '../core/hash.js';
import type { Db } from './database.js';

type Row = { seq: number; body: string; hash: string };

function toEvent(row: Row): AuditEvent {
  return { ...(JSON.parse(row.body) as Omit<AuditEvent, 'hash'>), hash: row.hash };
}

/** The append-only, hash-chained audit log. Appends must run inside the caller's transaction. */
export class AuditLog {
  constructor(private readonly db: Db) {}

  head(): ChainHead | null {
    const row = this.db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as
      | ChainHead
      | undefined;
    return row ?? null;
  }

  append(entry: AuditEntry): AuditEvent {
    const head = this.head();
    const event = sealEvent(entry, (head?.seq ?? 0) + 1, head?.hash ?? GENESIS_HASH);
    const { hash, ...body } = event;
    this.db
      .prepare('INSERT INTO audit_events (seq, kind, at, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)')
      .run(event.seq, event.kind, event.at, canonical(body), event.prevHash, hash);
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

  /**
   * Recomputes the whole chain from the stored rows, streaming so memory stays flat. With
   * `expectHead` (a head recorded elsewhere earlier), a chain that was cut back or rewritten
   * at or before that event fails too.
   */
  verify(expectHead?: ChainHead): Verification {
    const verifier = new ChainVerifier();
    let seenExpected = false;
    for (const row of this.db
      .prepare('SELECT seq, body, hash FROM audit_events ORDER BY seq')
      .iterate() as Iterable<Row>) {
      let body: Omit<AuditEvent, 'hash'>;
      try {
        body = JSON.parse(row.body) as Omit<AuditEvent, 'hash'>;
      } catch {
        return { ok: false, brokenAt: row.seq, reason: `event ${row.seq} is not valid JSON` };
      }
      if (!verifier.push(row.seq, row.hash, body)) break;
      if (expectHead && row.seq === expectHead.seq) {
        if (row.hash !== expectHead.hash) {
          return { ok: false, brokenAt: row.seq, reason: `event ${row.seq} is not the one recorded as head` };
        }
        seenExpected = true;
      }
    }
    const result = verifier.result();
    if (result.ok && expectHead && !seenExpected) {
      return {
        ok: false,
        brokenAt: result.count + 1,
        reason: `the log ends at event ${result.count}, before the recorded head ${expectHead.seq}: it was truncated`,
      };
    }
    return result;
  }
}
