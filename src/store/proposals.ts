import type { Card, ProposalStatus, Resolution } from '../core/card.js';
import { withoutWrittenValues } from '../core/mcp-review.js';
import type { Operation } from '../core/operations.js';
import type { Db } from './database.js';
import { putDocument } from './documents.js';
import { statement } from './statements.js';
import { type FilterColumns, listRows, transitionRow } from './status-table.js';

/**
 * What may be shown beyond the owner's card (chat cards, events, webhooks): the same changes
 * with even the proposer's own values at redacted places veiled (SPEC §4). Kept inside the
 * stored card JSON under `public`, never served as part of the card itself.
 */
export type PublicParts = { changes: Card['changes']; operations: Card['operations'] };

export type ProposalRecord = {
  card: Card;
  /** The card as chat bridges, events and webhooks may show it. */
  publicCard: Card;
  tokenId: string;
  grantExpiresAt: string | null;
  /**
   * The exact RFC 6902 operations (real values) from the base document — kept once in the
   * `documents` table under `card.baseHash` — to the document an apply writes, as JSON text.
   * Parsed only where a document is rebuilt (src/service/proposal-documents.ts).
   */
  writeOperations: string;
};

/** What a new or rebased proposal stores: its exact operations, and the base they apply to (kept once, by hash). */
export type ProposalDocuments = { writeOperations: readonly Operation[]; base: { hash: string; text: string } };

type Row = {
  id: string;
  status: ProposalStatus;
  token_id: string;
  card: string;
  operations: string | null;
  resolution: string | null;
  grant_expires_at: string | null;
};

/** The public card: the public parts of the change, and an MCP review without the values the proposer wrote. */
export function publicCardOf(card: Card, parts: PublicParts | undefined): Card {
  return {
    ...card,
    changes: parts?.changes ?? card.changes,
    operations: parts?.operations ?? card.operations,
    review: { ...card.review, mcp: card.review.mcp.map(withoutWrittenValues) },
  };
}

function fromRow(row: Row): ProposalRecord {
  const { public: parts, ...stored } = JSON.parse(row.card) as Card & { public?: PublicParts };
  const card: Card = {
    ...stored,
    status: row.status,
    resolution: row.resolution ? (JSON.parse(row.resolution) as Resolution) : null,
  };
  return {
    card,
    // Rows from before the split hold only fully redacted values: their card is already public.
    publicCard: publicCardOf(card, parts),
    tokenId: row.token_id,
    grantExpiresAt: row.grant_expires_at,
    writeOperations: row.operations ?? '[]',
  };
}

export type ProposalFilter = { status?: ProposalStatus; agentId?: string; target?: string; limit?: number };

const filterColumns: FilterColumns<ProposalFilter> = { status: 'status', agentId: 'agent_id', target: 'target' };

export class ProposalStore {
  constructor(private readonly db: Db) {}

  /** Stores a new proposal and, unless it is kept already, its base document; run inside the audited transaction. */
  insert(record: Omit<ProposalRecord, 'writeOperations'> & { documents: ProposalDocuments }, now: Date): void {
    const { card, publicCard, documents } = record;
    putDocument(this.db, documents.base.hash, documents.base.text, now);
    const { status, resolution, ...rest } = card;
    const staticCard = { ...rest, public: { changes: publicCard.changes, operations: publicCard.operations } };
    statement(
      this.db,
      `INSERT INTO proposals (id, target, status, tier, token_id, agent_id, session_key, base_hash, patch_hash,
           target_hash, created_at, expires_at, card, operations, resolution, grant_expires_at, updated_at)
         VALUES (@id, @target, @status, @tier, @tokenId, @agentId, @sessionKey, @baseHash, @patchHash,
           @targetHash, @createdAt, @expiresAt, @card, @operations, @resolution, NULL, @updatedAt)`,
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
      operations: JSON.stringify(documents.writeOperations),
      resolution: resolution ? JSON.stringify(resolution) : null,
      updatedAt: now.toISOString(),
    });
  }

  get(id: string): ProposalRecord | null {
    const row = statement(this.db, 'SELECT * FROM proposals WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  list(filter: ProposalFilter = {}): ProposalRecord[] {
    return listRows<Row, ProposalFilter>(this.db, 'proposals', filterColumns, filter).map(fromRow);
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
    return transitionRow(this.db, 'proposals', id, from, to, resolution, now, grantExpiresAt);
  }

  /**
   * Replaces the stored card (status and resolution keep their own columns). Only for what is
   * learnt about a proposal after it was made, such as an MCP smoke test; never for its change.
   */
  updateCard(card: Card, now: Date): void {
    const { status, resolution, ...staticCard } = card;
    // The public parts describe the change, which never changes: keep them as stored.
    this.db
      .prepare(
        `UPDATE proposals SET card = CASE WHEN json_extract(card, '$.public') IS NULL THEN json(@card)
           ELSE json_set(@card, '$.public', json_extract(card, '$.public')) END, updated_at = @now WHERE id = @id`,
      )
      .run({ card: JSON.stringify(staticCard), now: now.toISOString(), id: card.id });
  }

  /**
   * Carries a pending proposal over to a new base (a rebase): its card, public card, operations,
   * base and hashes are replaced in one statement, and only if it is still pending with the patch
   * hash the caller rebased from — an approval or a second rebase racing this one wins or loses
   * whole. Status, resolution, expiry, requester and token stay as they were.
   */
  rebase(
    id: string,
    from: { patchHash: string },
    to: { card: Card; publicCard: Card; documents: ProposalDocuments },
    now: Date,
  ): boolean {
    putDocument(this.db, to.documents.base.hash, to.documents.base.text, now);
    const { status: _status, resolution: _resolution, ...rest } = to.card;
    const staticCard = { ...rest, public: { changes: to.publicCard.changes, operations: to.publicCard.operations } };
    const result = statement(
      this.db,
      `UPDATE proposals SET card = @card, base_hash = @baseHash, patch_hash = @patchHash, target_hash = @targetHash,
           operations = @operations, updated_at = @now
         WHERE id = @id AND status = 'pending' AND patch_hash = @previousPatchHash`,
    ).run({
      id,
      card: JSON.stringify(staticCard),
      baseHash: to.card.baseHash,
      patchHash: to.card.patchHash,
      targetHash: to.card.targetHash,
      operations: JSON.stringify(to.documents.writeOperations),
      now: now.toISOString(),
      previousPatchHash: from.patchHash,
    });
    return result.changes === 1;
  }

  /** Open proposals of one target (pending, or approved and waiting for the agent), oldest first. */
  open(target: string): ProposalRecord[] {
    const rows = statement(
      this.db,
      `SELECT * FROM proposals WHERE target = ? AND status IN ('pending', 'approved') ORDER BY created_at, id`,
    ).all(target) as Row[];
    return rows.map(fromRow);
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
