-- TOTP recovery codes (SPEC §6): one-time codes an owner keeps on paper in case the phone is
-- lost. Only keyed hashes are stored (see src/core/recovery-codes.ts); a code is spent by one
-- conditional UPDATE (`used_at IS NULL`), so of two approvals racing with the same code exactly
-- one wins. Re-enrolment and regeneration replace an owner's whole set; removing the owner's
-- secret removes the codes with it.
CREATE TABLE totp_recovery_codes (
  owner      TEXT NOT NULL REFERENCES totp_owners (owner) ON DELETE CASCADE,
  code_hash  TEXT NOT NULL,
  created_at TEXT NOT NULL,
  used_at    TEXT,
  PRIMARY KEY (owner, code_hash)
);
