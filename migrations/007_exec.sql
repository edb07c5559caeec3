-- Exec approvals (SPEC §9): one row per command an agent asked to run, and the standing
-- `allow-for` grants owners made. `request` holds the request as everyone reads it (contract
-- shape, secret env values already "[redacted]"); `plan` the exact plan with real values, which
-- only the consuming agent gets back. Status and resolution have their own columns so that a
-- transition is one conditional UPDATE (exactly one of two racing consumers wins).
CREATE TABLE exec_requests (
  id               TEXT PRIMARY KEY,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'allowed', 'denied', 'expired', 'consumed')),
  agent_id         TEXT NOT NULL,
  session_key      TEXT NOT NULL,
  token_id         TEXT NOT NULL,
  plan_hash        TEXT NOT NULL,
  request          TEXT NOT NULL,
  plan             TEXT NOT NULL,
  resolution       TEXT,
  created_at       TEXT NOT NULL,
  expires_at       TEXT NOT NULL,
  grant_expires_at TEXT,
  updated_at       TEXT NOT NULL
);
CREATE INDEX exec_requests_by_status ON exec_requests (status, expires_at);
CREATE INDEX exec_requests_by_agent ON exec_requests (agent_id, created_at);

CREATE TABLE exec_grants (
  id          TEXT PRIMARY KEY,
  agent_id    TEXT NOT NULL,
  pattern     TEXT NOT NULL,
  arg_pattern TEXT NOT NULL,
  request_id  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  revoked_at  TEXT
);
CREATE INDEX exec_grants_by_agent ON exec_grants (agent_id, expires_at);
