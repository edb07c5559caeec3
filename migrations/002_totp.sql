-- TOTP step-up, per owner name (all of an owner's tokens share one authenticator).
CREATE TABLE totp_owners (
  owner          TEXT PRIMARY KEY,
  secret         TEXT NOT NULL,
  enrolled_at    TEXT NOT NULL,
  last_step      INTEGER,
  cooldown_until TEXT,
  cooldown_tier  TEXT
);

CREATE TABLE totp_failures (
  owner TEXT NOT NULL,
  at    TEXT NOT NULL
);
CREATE INDEX totp_failures_by_owner ON totp_failures (owner, at);
