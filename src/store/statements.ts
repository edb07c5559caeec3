import type Database from 'better-sqlite3';
import type { Db } from './database.js';

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * A prepared statement for `sql`, prepared once per database connection and reused: preparing
 * costs more than running most of the small statements on a request's path. Only for
 * statements run with `run`, `get` or `all` in their default mode; a statement being iterated
 * cannot be shared, and `pluck`/`raw` would change it for every other user.
 */
export function statement(db: Db, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) {
    cache = new Map();
    statements.set(db, cache);
  }
  let prepared = cache.get(sql);
  if (!prepared) {
    prepared = db.prepare(sql);
    cache.set(sql, prepared);
  }
  return prepared;
}
