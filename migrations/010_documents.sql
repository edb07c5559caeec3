-- Content-addressed documents (issue 14). Each distinct document is kept once, keyed by its
-- document hash (SPEC §1: the keyed HMAC of its canonical JSON — the same string cards, the audit
-- chain and the `targets` table already name it by, so no second hash is computed or stored).
-- Proposals name their base by `base_hash` and keep the exact operations to their target
-- (`operations`); `targets.last_hash` names the document last written or accepted. Documents
-- nobody references any more are pruned (src/store/documents.ts says which are kept).
-- Holds secrets, as the columns it replaces did: the database file is 0600.
CREATE TABLE documents (
  hash       TEXT PRIMARY KEY,
  text       TEXT NOT NULL,
  bytes      INTEGER NOT NULL,
  created_at TEXT NOT NULL
);

-- The exact RFC 6902 operations from the base document to the one an apply writes (real values,
-- unlike the card's). Null only on rows from before this migration until start-up converts them
-- (adoptLegacyDocuments diffs the old `target_document` against the base, which needs code SQL
-- does not have, and then drops that column).
ALTER TABLE proposals ADD COLUMN operations TEXT;

-- What SQL can move on its own, moved here: bases and remembered documents are already keyed by
-- their document hash. Targets become operations in code (see above).
INSERT OR IGNORE INTO documents (hash, text, bytes, created_at)
  SELECT base_hash, base_document, length(CAST(base_document AS BLOB)), created_at
    FROM proposals WHERE base_document IS NOT NULL;
INSERT OR IGNORE INTO documents (hash, text, bytes, created_at)
  SELECT last_hash, last_document, length(CAST(last_document AS BLOB)), updated_at FROM targets;
ALTER TABLE targets DROP COLUMN last_document;
ALTER TABLE proposals DROP COLUMN base_document;

-- Pruning keeps the bases of each target's latest applied proposals (by when they were applied):
-- read newest first from this index, not by sorting every applied proposal. Queries repeat the
-- expression verbatim so SQLite uses it.
CREATE INDEX proposals_applied ON proposals (target, status, json_extract(resolution, '$.at'));
