import type { Card, ProposalStatus, Resolution } from '../core/card.js';
import type { Db } from './database.js';
import { statement } from './statements.js';

export type ProposalRecord = {
  card: Card;
  tokenId: string;
  grantExpiresAt: string | null;
  /** The exact document to write on apply, as canonical-order JSON text. */
  targetDocument: string;
  /** The document as it was when proposed (null for rows from before rollback support). */
  baseDocument: string | null;
};

type Row = {
  id: string;
  status: ProposalStatus;
  token_id: string;
  card: string;
  target_document: string;
  base_document: string | null;
  resolution: string | null;
  grant_expires_at: string | null;
};

function fromRow(row: Row): ProposalRecord {
  const card = JSON.parse(row.card) as Card;
  return {
    card: {
      ...card,
      status: row.status,
      resolution: row.resolution ? (JSON.parse(row.resolution) as Resolution) : null,
    },
    tokenId: row.token_id,
    grantExpiresAt: row.grant_expires_at,
    targetDocument: row.target_document,
    baseDocument: row.base_document,
  };
}

export type ProposalFilter = { status?: ProposalStatus; agentId?: string; target?: string; limit?: number };

export class ProposalStore {
  constructor(private readonly db: Db) {}

  insert(record: ProposalRecord, now: Date): void {
    const { card } = record;
    const { status, resolution, ...staticCard } = card;
    statement(
      this.db,
      `INSERT INTO proposals (id, target, status, tier, token_id, agent_id, session_key, base_hash, patch_hash,
           target_hash, created_at, expires_at, card, target_document, base_document, resolution, grant_expires_at, updated_at)
         VALUES (@id, @target, @status, @tier, @tokenId, @agentId, @sessionKey, @baseHash, @patchHash,
           @targetHash, @createdAt, @expiresAt, @card, @targetDocument, @baseDocument, @resolution, NULL, @updatedAt)`,
    ).run({
      id: card.id,
      target: card.target,
      status,
      tier: card.tier,
      tokenId: record.tokenId,
      agentId: card.requestedBy.agentId,
      sessionKey: card.requestedBy.sessionKey,
      baseHash: card.baseHash,
      patchHash: card.patchHash,
      targetHash: card.targetHash,
      createdAt: card.createdAt,
      expiresAt: card.expiresAt,
      card: JSON.stringify(staticCard),
      targetDocument: record.targetDocument,
      baseDocument: record.baseDocument,
      resolution: resolution ? JSON.stringify(resolution) : null,
      updatedAt: now.toISOString(),
    });
  }

  get(id: string): ProposalRecord | null {
    const row = statement(this.db, 'SELECT * FROM proposals WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  list(filter: ProposalFilter = {}): ProposalRecord[] {
    const clauses: string[] = [];
    const params: Record<string, string | number> = { limit: filter.limit ?? 200 };
    if (filter.status) {
      clauses.push('status = @status');
      params.status = filter.status;
    }
    if (filter.agentId) {
      clauses.push('agent_id = @agentId');
      params.agentId = filter.agentId;
    }
    if (filter.target) {
      clauses.push('target = @target');
      params.target = filter.target;
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = this.db
      .prepare(`SELECT * FROM proposals ${where} ORDER BY created_at DESC, id LIMIT @limit`)
      .all(params) as Row[];
    return rows.map(fromRow);
  }

  /**
   * Moves a proposal from one of `from` to `to`. The status check and the update are one
   * statement, so two racing approvals cannot both win: the loser sees `false`.
   */
  transition(
    id: string,
    from: readonly ProposalStatus[],
    to: ProposalStatus,
    resolution: Resolution | null,
    now: Date,
    grantExpiresAt: string | null = null,
  ): boolean {
    const placeholders = from.map(() => '?').join(', ');
    const result = statement(
      this.db,
      `UPDATE proposals SET status = ?, resolution = COALESCE(?, resolution), grant_expires_at = COALESCE(?, grant_expires_at),
           updated_at = ? WHERE id = ? AND status IN (${placeholders})`,
    ).run(to, resolution ? JSON.stringify(resolution) : null, grantExpiresAt, now.toISOString(), id, ...from);
    return result.changes === 1;
  }

  /**
   * Replaces the stored card (status and resolution keep their own columns). Only for what is
   * learnt about a proposal after it was made, such as an MCP smoke test; never for its change.
   */
  updateCard(card: Card, now: Date): void {
    const { status, resolution, ...staticCard } = card;
    this.db
      .prepare('UPDATE proposals SET card = ?, updated_at = ? WHERE id = ?')
      .run(JSON.stringify(staticCard), now.toISOString(), card.id);
  }

  /** Pending proposals past their expiry, and approved ones whose grant ran out. */
  overdue(now: Date): Array<{ id: string; status: ProposalStatus }> {
    const stamp = now.toISOString();
    return this.db
      .prepare(
        `SELECT id, status FROM proposals
         WHERE (status = 'pending' AND expires_at <= ?) OR (status = 'approved' AND grant_expires_at <= ?)`,
      )
      .all(stamp, stamp) as Array<{ id: string; status: ProposalStatus }>;
  }
}
