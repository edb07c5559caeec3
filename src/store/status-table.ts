import type { Db } from './database.js';
import { statement } from './statements.js';

/*
 * What the proposals and exec_requests tables share: rows with an id, a status column, a JSON
 * resolution, a grant expiry and created/updated stamps. Table and column names here come from
 * code (the types below), never from a request: only values are bound as parameters.
 */

export type StatusTable = 'proposals' | 'exec_requests';

/** A list filter's keys mapped to the columns they compare (`agentId` → `agent_id`). */
export type FilterColumns<F> = { readonly [K in Exclude<keyof F, 'limit'>]-?: string };

/**
 * Rows of `table`, newest first, matching every filter value that is set (unset and empty ones
 * do not filter), at most `filter.limit` (200 by default).
 */
export function listRows<Row, F extends { limit?: number }>(
  db: Db,
  table: StatusTable,
  columns: FilterColumns<F>,
  filter: F,
): Row[] {
  const clauses: string[] = [];
  const params: Record<string, string | number> = { limit: filter.limit ?? 200 };
  for (const [key, column] of Object.entries(columns) as Array<[string, string]>) {
    const value = (filter as Record<string, string | number | undefined>)[key];
    if (value) {
      clauses.push(`${column} = @${key}`);
      params[key] = value;
    }
  }
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  return db.prepare(`SELECT * FROM ${table} ${where} ORDER BY created_at DESC, id LIMIT @limit`).all(params) as Row[];
}

/**
 * Moves row `id` from one of `from` to `to`. The status check and the update are one
 * statement, so of two racing callers (approvals, resolvers, consumers) exactly one sees
 * `true`. A null resolution or grant expiry keeps the stored one.
 */
export function transitionRow(
  db: Db,
  table: StatusTable,
  id: string,
  from: readonly string[],
  to: string,
  resolution: unknown,
  now: Date,
  grantExpiresAt: string | null,
): boolean {
  const placeholders = from.map(() => '?').join(', ');
  const result = statement(
    db,
    `UPDATE ${table} SET status = ?, resolution = COALESCE(?, resolution), grant_expires_at = COALESCE(?, grant_expires_at),
         updated_at = ? WHERE id = ? AND status IN (${placeholders})`,
  ).run(to, resolution ? JSON.stringify(resolution) : null, grantExpiresAt, now.toISOString(), id, ...from);
  return result.changes === 1;
}
