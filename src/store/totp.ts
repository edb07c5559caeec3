import type { Db } from './database.js';

export type TotpOwner = {
  owner: string;
  secret: string;
  enrolledAt: string;
  lastStep: number | null;
};

/** A cooldown opened by a code entered through one owner token (SPEC §4): it covers that token only. */
export type TotpCooldown = { tokenId: string; owner: string; tier: string; until: string };

type Row = {
  owner: string;
  secret: string;
  enrolled_at: string;
  last_step: number | null;
};

type CooldownRow = { token_id: string; owner: string; tier: string; until: string };

export class TotpStore {
  constructor(private readonly db: Db) {}

  get(owner: string): TotpOwner | null {
    const row = this.db.prepare('SELECT * FROM totp_owners WHERE owner = ?').get(owner) as Row | undefined;
    if (!row) return null;
    return { owner: row.owner, secret: row.secret, enrolledAt: row.enrolled_at, lastStep: row.last_step };
  }

  /**
   * Enrolling again replaces the secret and forgets the old step, cooldowns and failures; the old
   * recovery codes are replaced by `recoveryHashes` (none given: the owner has none).
   */
  enroll(owner: string, secret: string, now: Date, recoveryHashes: readonly string[] = []): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO totp_owners (owner, secret, enrolled_at) VALUES (?, ?, ?)
           ON CONFLICT (owner) DO UPDATE SET secret = excluded.secret, enrolled_at = excluded.enrolled_at,
             last_step = NULL`,
        )
        .run(owner, secret, now.toISOString());
      this.db.prepare('DELETE FROM totp_failures WHERE owner = ?').run(owner);
      this.endCooldowns(owner);
      this.replaceRecoveryCodes(owner, recoveryHashes, now);
    })();
  }

  /** Replaces every recovery code of `owner` (used or not) by the given hashes. */
  replaceRecoveryCodes(owner: string, hashes: readonly string[], now: Date): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM totp_recovery_codes WHERE owner = ?').run(owner);
      const insert = this.db.prepare('INSERT INTO totp_recovery_codes (owner, code_hash, created_at) VALUES (?, ?, ?)');
      for (const hash of hashes) insert.run(owner, hash, now.toISOString());
    })();
  }

  /** The hashes of the owner's recovery codes that are still unused. */
  unusedRecoveryHashes(owner: string): string[] {
    return this.db
      .prepare('SELECT code_hash FROM totp_recovery_codes WHERE owner = ? AND used_at IS NULL')
      .pluck()
      .all(owner) as string[];
  }

  recoveryCodesLeft(owner: string): number {
    return this.db
      .prepare('SELECT count(*) FROM totp_recovery_codes WHERE owner = ? AND used_at IS NULL')
      .pluck()
      .get(owner) as number;
  }

  /**
   * Spends one recovery code. The update is conditional on the code being unused, so of two
   * approvals presenting the same code at once exactly one gets `true`.
   */
  useRecoveryCode(owner: string, hash: string, now: Date): boolean {
    return (
      this.db
        .prepare('UPDATE totp_recovery_codes SET used_at = ? WHERE owner = ? AND code_hash = ? AND used_at IS NULL')
        .run(now.toISOString(), owner, hash).changes === 1
    );
  }

  disable(owner: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM totp_failures WHERE owner = ?').run(owner);
      this.endCooldowns(owner);
      this.db.prepare('DELETE FROM totp_recovery_codes WHERE owner = ?').run(owner);
      return this.db.prepare('DELETE FROM totp_owners WHERE owner = ?').run(owner).changes === 1;
    })();
  }

  /**
   * Records an accepted code and opens (or replaces) the cooldown of the token it came through.
   * The step only moves forward, and the update is conditional on it, so the same code presented
   * twice concurrently is accepted once — and opens at most one cooldown.
   */
  accept(owner: string, step: number, cooldown: Omit<TotpCooldown, 'owner'>): boolean {
    return this.db.transaction(() => {
      const moved =
        this.db
          .prepare('UPDATE totp_owners SET last_step = ? WHERE owner = ? AND (last_step IS NULL OR last_step < ?)')
          .run(step, owner, step).changes === 1;
      if (!moved) return false;
      this.db
        .prepare(
          `INSERT INTO totp_cooldowns (token_id, owner, tier, until) VALUES (?, ?, ?, ?)
           ON CONFLICT (token_id) DO UPDATE SET owner = excluded.owner, tier = excluded.tier, until = excluded.until`,
        )
        .run(cooldown.tokenId, owner, cooldown.tier, cooldown.until);
      return true;
    })();
  }

  /** The cooldown of one credential, if it has one. It belongs to `owner` or it does not count. */
  cooldown(tokenId: string, owner: string): TotpCooldown | null {
    const row = this.db.prepare('SELECT * FROM totp_cooldowns WHERE token_id = ? AND owner = ?').get(tokenId, owner) as
      | CooldownRow
      | undefined;
    return row ? { tokenId: row.token_id, owner: row.owner, tier: row.tier, until: row.until } : null;
  }

  /** Ends every cooldown of `owner`, on every credential: a lockout, a re-enrolment, a disable. */
  endCooldowns(owner: string): number {
    return this.db.prepare('DELETE FROM totp_cooldowns WHERE owner = ?').run(owner).changes;
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
