import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

export type Db = Database.Database;

const migrationsDir = new URL('../../migrations/', import.meta.url);

/**
 * Opens (creating if needed) the database with WAL and full fsync: the audit log is the
 * record of what was allowed, so a committed event must survive power loss.
 */
export function openDatabase(file: string, options: { readonly?: boolean; busyTimeoutMs?: number } = {}): Db {
  const isNew = !existsSync(file);
  const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  if (isNew) chmodSync(file, 0o600);
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  }
  return db;
}

/** Applies `migrations/NNN_name.sql` in order, each once, recording it in `schema_migrations`. */
export function migrate(db: Db): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set(db.prepare('SELECT name FROM schema_migrations').pluck().all() as string[]);
  const pending = readdirSync(migrationsDir)
    .filter((name) => /^\d+_[\w-]+\.sql$/.test(name) && !applied.has(name))
    .sort();
  const record = db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)');
  for (const name of pending) {
    const sql = readFileSync(new URL(name, migrationsDir), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      record.run(name, new Date().toISOString());
    })();
  }
  return pending;
}
