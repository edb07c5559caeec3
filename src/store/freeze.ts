import type { Actor } from '../core/card.js';
import type { FreezeState } from '../core/freeze.js';
import type { Db } from './database.js';
import { statement } from './statements.js';

type Row = { frozen: number; since: string | null; reason: string | null; frozen_by: string | null; version: number };

export type StoredFreeze = FreezeState & { version: number };

/**
 * The single `freeze_state` row (migrations/009_freeze.sql). Never cached: the running server
 * reads it on every agent request, so a freeze written by another process (the CLI on the data
 * directory) counts from the next request on. A prepared primary-key read costs microseconds.
 */
export class FreezeStore {
  constructor(private readonly db: Db) {}

  get(): StoredFreeze {
    const row = statement(
      this.db,
      'SELECT frozen, since, reason, frozen_by, version FROM freeze_state WHERE id = 1',
    ).get() as Row | undefined;
    // The migration inserts the row; a database without it was tampered with, and fails closed.
    if (!row)
      return {
        frozen: true,
        since: null,
        reason: 'the freeze state is missing from the database',
        by: null,
        version: -1,
      };
    return {
      frozen: row.frozen === 1,
      since: row.since,
      reason: row.reason,
      by: row.frozen_by ? (JSON.parse(row.frozen_by) as Actor) : null,
      version: row.version,
    };
  }

  /** Freezes; false (nothing written) if already frozen. Run inside the caller's transaction. */
  freeze(reason: string, by: Actor, now: Date): boolean {
    const result = statement(
      this.db,
      `UPDATE freeze_state SET frozen = 1, since = ?, reason = ?, frozen_by = ?, version = version + 1, updated_at = ?
         WHERE id = 1 AND frozen = 0`,
    ).run(now.toISOString(), reason, JSON.stringify(by), now.toISOString());
    return result.changes === 1;
  }

  /** Unfreezes; false (nothing written) if not frozen. Run inside the caller's transaction. */
  unfreeze(now: Date): boolean {
    const result = statement(
      this.db,
      `UPDATE freeze_state SET frozen = 0, since = NULL, reason = NULL, frozen_by = NULL, version = version + 1,
           updated_at = ? WHERE id = 1 AND frozen = 1`,
    ).run(now.toISOString());
    return result.changes === 1;
  }

  /** Agents' `by-agent` grants still open: approved proposals an agent made. */
  approvedAgentProposals(): string[] {
    return this.db
      .prepare(`SELECT id FROM proposals WHERE status = 'approved' AND agent_id IS NOT NULL ORDER BY created_at`)
      .pluck()
      .all() as string[];
  }

  /** Exec requests allowed but not yet run (consumed), whatever their consume window. */
  allowedExecRequests(): string[] {
    return this.db
      .prepare(`SELECT id FROM exec_requests WHERE status = 'allowed' ORDER BY created_at`)
      .pluck()
      .all() as string[];
  }

  /** Whether any owner has an authenticator: then lifting a freeze needs a code (SPEC §11). */
  anyTotpOwner(): boolean {
    const row = statement(this.db, 'SELECT EXISTS (SELECT 1 FROM totp_owners) AS found').get() as { found: number };
    return row.found === 1;
  }
}
