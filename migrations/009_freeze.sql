-- Manual takeover (SPEC §11): whether agents are frozen out. One row, read on every agent request,
-- so that a freeze written by `countersign freeze --data` in another process takes effect on the
-- running server's next request without a restart. `version` grows with every change, so a server
-- can tell that a freeze happened elsewhere and announce it (SSE, webhooks).
CREATE TABLE freeze_state (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  frozen     INTEGER NOT NULL CHECK (frozen IN (0, 1)),
  since      TEXT,
  reason     TEXT,
  -- The actor (JSON) who froze; null while not frozen.
  frozen_by  TEXT,
  version    INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO freeze_state (id, frozen, since, reason, frozen_by, version, updated_at)
  VALUES (1, 0, NULL, NULL, NULL, 0, '1970-01-01T00:00:00.000Z');

-- `GET /v1/status` reads the newest `drill.ran` and a server announcing a freeze made elsewhere
-- reads the newest freeze event: found through this small partial index instead of a scan of a
-- log that may hold millions of events. Only these rare kinds are indexed, so appends of every
-- other event cost nothing more. Queries repeat the WHERE term below verbatim so SQLite uses it.
CREATE INDEX audit_events_takeover ON audit_events (kind, seq)
  WHERE kind IN ('drill.ran', 'freeze.applied', 'freeze.lifted');
