import type { IdKind, IdMatch } from '../core/id-prefix.js';
import type { Db } from './database.js';
import { statement } from './statements.js';

/** Each kind's table, with a status column (grants have none: live, revoked or expired). */
const queries: Record<IdKind, string> = {
  proposal: 'SELECT id, status, created_at AS createdAt FROM proposals WHERE id >= ? AND id < ? ORDER BY id LIMIT ?',
  exec_request:
    'SELECT id, status, created_at AS createdAt FROM exec_requests WHERE id >= ? AND id < ? ORDER BY id LIMIT ?',
  exec_grant: `SELECT id, CASE WHEN revoked_at IS NOT NULL THEN 'revoked' ELSE 'active' END AS status,
    created_at AS createdAt FROM exec_grants WHERE id >= ? AND id < ? ORDER BY id LIMIT ?`,
};

/**
 * Ids starting with `prefix` as a primary-key range (`~` sorts after every hex digit and dash),
 * so no LIKE pattern is built from the caller's text. The prefix is validated by the caller.
 */
export function idsWithPrefix(db: Db, kind: IdKind, prefix: string, limit: number): IdMatch[] {
  return statement(db, queries[kind]).all(prefix, `${prefix}~`, limit) as IdMatch[];
}
