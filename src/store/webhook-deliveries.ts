import type { Db } from './database.js';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export type WebhookDelivery = {
  id: string;
  webhook: number;
  origin: string;
  event: string;
  proposalId: string | null;
  status: DeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  nextAttemptAt: string | null;
};

export type WebhookAttempt = {
  attempt: number;
  at: string;
  status: number | null;
  error: string | null;
  durationMs: number;
};

type Row = {
  id: string;
  webhook: number;
  origin: string;
  event: string;
  proposal_id: string | null;
  status: DeliveryStatus;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  next_attempt_at: string | null;
};

function toDelivery(row: Row): WebhookDelivery {
  return {
    id: row.id,
    webhook: row.webhook,
    origin: row.origin,
    event: row.event,
    proposalId: row.proposal_id,
    status: row.status,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    nextAttemptAt: row.next_attempt_at,
  };
}

/** The webhook delivery log (migrations/005_webhooks.sql): one row per delivery, one per attempt. */
export class WebhookDeliveryStore {
  constructor(private readonly db: Db) {}

  create(input: {
    id: string;
    webhook: number;
    origin: string;
    event: string;
    proposalId: string | null;
    now: Date;
  }): void {
    const at = input.now.toISOString();
    this.db
      .prepare(
        `INSERT INTO webhook_deliveries (id, webhook, origin, event, proposal_id, status, attempts, created_at, updated_at, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)`,
      )
      .run(input.id, input.webhook, input.origin, input.event, input.proposalId, at, at, at);
  }

  /** Records one attempt and the delivery's new state in one transaction. */
  recordAttempt(
    id: string,
    attempt: WebhookAttempt,
    outcome: { status: DeliveryStatus; nextAttemptAt: string | null },
  ): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO webhook_attempts (delivery_id, attempt, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(id, attempt.attempt, attempt.at, attempt.status, attempt.error, attempt.durationMs);
      this.db
        .prepare(
          `UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?, updated_at = ?,
             next_attempt_at = ? WHERE id = ?`,
        )
        .run(outcome.status, attempt.attempt, attempt.status, attempt.error, attempt.at, outcome.nextAttemptAt, id);
    })();
  }

  /** A delivery given up without a further attempt (the server stopped while it waited). */
  abandon(id: string, reason: string, now: Date): void {
    this.db
      .prepare(
        `UPDATE webhook_deliveries SET status = 'failed', last_error = ?, updated_at = ?, next_attempt_at = NULL
         WHERE id = ? AND status = 'pending'`,
      )
      .run(reason, now.toISOString(), id);
  }

  get(id: string): WebhookDelivery | null {
    const row = this.db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?').get(id) as Row | undefined;
    return row ? toDelivery(row) : null;
  }

  list(options: { limit?: number } = {}): WebhookDelivery[] {
    const rows = this.db
      .prepare('SELECT * FROM webhook_deliveries ORDER BY created_at, rowid LIMIT ?')
      .all(options.limit ?? 500) as Row[];
    return rows.map(toDelivery);
  }

  attempts(id: string): WebhookAttempt[] {
    return (
      this.db
        .prepare(
          'SELECT attempt, at, status, error, duration_ms FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt',
        )
        .all(id) as Array<{
        attempt: number;
        at: string;
        status: number | null;
        error: string | null;
        duration_ms: number;
      }>
    ).map((row) => ({
      attempt: row.attempt,
      at: row.at,
      status: row.status,
      error: row.error,
      durationMs: row.duration_ms,
    }));
  }
}
