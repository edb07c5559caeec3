-- TOTP cooldowns per credential (SPEC §4): a code entered through one owner token covers later
-- approvals through that same token only, never through the owner's other tokens. `owner` is
-- kept so that a lockout can end every cooldown of that owner at once.
CREATE TABLE totp_cooldowns (
  token_id TEXT PRIMARY KEY,
  owner    TEXT NOT NULL,
  tier     TEXT NOT NULL,
  until    TEXT NOT NULL
);
CREATE INDEX totp_cooldowns_by_owner ON totp_cooldowns (owner);

-- The per-owner cooldown crossed credentials; it is not carried over (owners enter one new code).
ALTER TABLE totp_owners DROP COLUMN cooldown_until;
ALTER TABLE totp_owners DROP COLUMN cooldown_tier;
