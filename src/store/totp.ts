import type { Db } from './database.js';

export type TotpOwner = {
  owner: string;
  secret: string;
  enrolledAt: string;
  lastStep: number | null;
  cooldownUntil: string | null;
  cooldownTier: string | null;
};

type Row = {
  owner: string;
  secret: string;
  enrolled_at: string;
  last_step: number | null;
  cooldown_until: string | null;
  cooldown_tier: string | null;
};

export class TotpStore {
  constructor(private readonly db: Db) {}

  get(owner: string): TotpOwner | null {
    const row = this.db.prepare('SELECT * FROM totp_owners WHERE owner = ?').get(owner) as Row | undefined;
    if (!row) return null;
    return {
      owner: row.owner,
      secret: row.secret,
      enrolledAt: row.enrolled_at,
      lastStep: row.last_step,
      cooldownUntil: row.cooldown_until,
      cooldownTier: row.cooldown_tier,
    };
  }

  /** Enrolling again replaces the secret and forgets the old step, cooldown and failures. */
  enroll(owner: string, secret: string, now: Date): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO totp_owners (owner, secret, enrolled_at) VALUES (?, ?, ?)
           ON CONFLICT (owner) DO UPDATE SET secret = excluded.secret, enrolled_at = excluded.enrolled_at,
             last_step = NULL, cooldown_until = NULL, cooldown_tier = NULL`,
        )
        .run(owner, secret, now.toISOString());
      this.db.prepare('DELETE FROM totp_failures WHERE owner = ?').run(owner);
    })();
  }

  disable(owner: string): boolean {
    this.db.prepare('DELETE FROM totp_failures WHERE owner = ?').run(owner);
    return this.db.prepare('DELETE FROM totp_owners WHERE owner = ?').run(owner).changes === 1;
  }

  /**
   * Records an accepted code. The step only moves forward, and the update is conditional on it,
   * so the same code presented twice concurrently is accepted once.
   */
  accept(owner: string, step: number, cooldownUntil: string, cooldownTier: string): boolean {
    return (
      this.db
        .prepare(
          `UPDATE totp_owners SET last_step = ?, cooldown_until = ?, cooldown_tier = ?
           WHERE owner = ? AND (last_step IS NULL OR last_step < ?)`,
        )
        .run(step, cooldownUntil, cooldownTier, owner, step).changes === 1
    );
  }

  recordFailure(owner: string, now: Date): void {
    this.db.prepare('INSERT INTO totp_failures (owner, at) VALUES (?, ?)').run(owner, now.toISOString());
  }

  failuresSince(owner: string, since: Date): string[] {
    return this.db
      .prepare('SELECT at FROM totp_failures WHERE owner = ? AND at > ? ORDER BY at')
      .pluck()
      .all(owner, since.toISOString()) as string[];
  }
}
