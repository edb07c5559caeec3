import type { DocumentEvent } from '../core/restore.js';
import type { Db } from './database.js';
import { statement } from './statements.js';

/*
 * Read-only queries over what the service keeps of past documents, for drills and point-in-time
 * restore: the audit events that changed a document (their hashes and paths; never values). The
 * documents themselves are in the `documents` table, by hash (src/store/documents.ts).
 */

/** A `change.applied` event: which proposal changed which target, at which seq. */
export type AppliedEvent = { seq: number; proposalId: string; target: string };

/** The latest `change.applied` events, newest first (of one target, and before one seq, if given). */
export function latestApplied(db: Db, options: { limit: number; target?: string; beforeSeq?: number }): AppliedEvent[] {
  const rows = statement(
    db,
    `SELECT seq, json_extract(body, '$.proposalId') AS proposalId, json_extract(body, '$.target') AS target
       FROM audit_events
      WHERE kind = 'change.applied' AND seq < @before
        AND (@target IS NULL OR json_extract(body, '$.target') = @target)
      ORDER BY seq DESC LIMIT @limit`,
  ).all({
    target: options.target ?? null,
    limit: options.limit,
    before: options.beforeSeq ?? Number.MAX_SAFE_INTEGER,
  }) as Array<{ seq: number; proposalId: string | null; target: string | null }>;
  return rows.flatMap((row) =>
    row.proposalId && row.target ? [{ seq: row.seq, proposalId: row.proposalId, target: row.target }] : [],
  );
}

type DocumentRow = {
  seq: number;
  kind: DocumentEvent['kind'];
  proposalId: string | null;
  baseHash: string | null;
  targetHash: string | null;
  paths: string | null;
};

/** Every event that changed `target`'s document (applies and outside edits), oldest first, after `afterSeq`. */
export function documentEvents(db: Db, target: string, afterSeq = 0): Array<DocumentEvent & { paths: string[] }> {
  const rows = statement(
    db,
    `SELECT seq, kind, json_extract(body, '$.proposalId') AS proposalId, json_extract(body, '$.baseHash') AS baseHash,
            json_extract(body, '$.targetHash') AS targetHash, json_extract(body, '$.paths') AS paths
       FROM audit_events
      WHERE seq > ? AND kind IN ('change.applied', 'config.drift') AND json_extract(body, '$.target') = ?
      ORDER BY seq`,
  ).all(afterSeq, target) as DocumentRow[];
  return rows.map((row) => ({
    seq: row.seq,
    kind: row.kind,
    proposalId: row.proposalId,
    baseHash: row.baseHash,
    targetHash: row.targetHash,
    paths: row.paths ? (JSON.parse(row.paths) as string[]) : [],
  }));
}
