-- Credentials: only a SHA-256 of each token is kept; the token itself is shown once.
CREATE TABLE tokens (
  id          TEXT PRIMARY KEY,
  token_hash  TEXT NOT NULL UNIQUE,
  role        TEXT NOT NULL CHECK (role IN ('agent', 'owner')),
  name        TEXT NOT NULL,
  surface     TEXT CHECK (surface IN ('cli', 'web', 'chat-dm', 'chat-group')),
  agent_id    TEXT,
  created_at  TEXT NOT NULL,
  revoked_at  TEXT,
  CHECK (role = 'agent' OR surface IS NOT NULL),
  CHECK (role = 'owner' OR agent_id IS NOT NULL)
);

-- The last document the service wrote or accepted, so outside edits can be noticed and diffed.
CREATE TABLE targets (
  name          TEXT PRIMARY KEY,
  last_hash     TEXT NOT NULL,
  last_document TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

CREATE TABLE proposals (
  id              TEXT PRIMARY KEY,
  target          TEXT NOT NULL,
  status          TEXT NOT NULL,
  tier            TEXT NOT NULL,
  token_id        TEXT NOT NULL,
  agent_id        TEXT,
  session_key     TEXT,
  base_hash       TEXT NOT NULL,
  patch_hash      TEXT NOT NULL,
  target_hash     TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  expires_at      TEXT NOT NULL,
  -- The card as shown (redacted); status and resolution live in their own columns.
  card            TEXT NOT NULL,
  -- The exact document to write on apply. It holds secrets: the database file is 0600.
  target_document TEXT NOT NULL,
  resolution      TEXT,
  grant_expires_at TEXT,
  updated_at      TEXT NOT NULL
);
CREATE INDEX proposals_by_status ON proposals (status, expires_at);
CREATE INDEX proposals_by_agent ON proposals (agent_id, created_at);

-- Written before the document is replaced and removed after, so start-up can finish or undo an interrupted apply.
CREATE TABLE apply_intents (
  proposal_id TEXT PRIMARY KEY,
  target      TEXT NOT NULL,
  base_hash   TEXT NOT NULL,
  target_hash TEXT NOT NULL,
  context     TEXT NOT NULL,
  created_at  TEXT NOT NULL
);

-- The hash chain of SPEC §5. `body` is the canonical event without its hash.
CREATE TABLE audit_events (
  seq       INTEGER PRIMARY KEY,
  kind      TEXT NOT NULL,
  at        TEXT NOT NULL,
  body      TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);

CREATE TABLE installation (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
