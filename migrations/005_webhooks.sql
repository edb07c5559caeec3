-- Webhook deliveries (SPEC §8): one row per event sent to one configured webhook, and one row per
-- attempt. The URL is kept only as its origin (scheme, host, port): webhook URLs often carry a
-- secret in their path. Bodies are not kept; the card they carried is in `proposals`.
CREATE TABLE webhook_deliveries (
  id           TEXT PRIMARY KEY,
  webhook      INTEGER NOT NULL,
  origin       TEXT NOT NULL,
  event        TEXT NOT NULL,
  proposal_id  TEXT,
  status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  last_status  INTEGER,
  last_error   TEXT,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  next_attempt_at TEXT
);
CREATE INDEX webhook_deliveries_by_created ON webhook_deliveries (created_at);
CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (status, next_attempt_at);

CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
  attempt     INTEGER NOT NULL,
  at          TEXT NOT NULL,
  status      INTEGER,
  error       TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);
