import { diffDocuments } from '../core/diff.js';
import { fail } from '../core/errors.js';
import { documentHash } from '../core/hash.js';
import { deepFreeze, isObject, type JsonObject } from '../core/json.js';
import { formatPath } from '../core/path.js';
import { readDocumentText } from '../store/document-file.js';
import { pruneDocuments, putDocument } from '../store/documents.js';
import { type FileStamp, fileStamp, sameStamp, settled } from '../store/file-stamp.js';
import { statement } from '../store/statements.js';
import { appendAudit, withAudit } from './audit.js';
import type { Service, TargetRuntime } from './context.js';
import { afterBaseMoved } from './rebase.js';

export type CurrentDocument = { text: string; value: JsonObject; hash: string };

export function resolveTarget(service: Service, name: string | undefined): TargetRuntime {
  const target = service.targets.get(name ?? service.defaultTarget);
  if (!target) fail('not_found', `There is no target named "${name}".`, { target: name ?? null });
  return target;
}

export function parseDocument(text: string, path: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('internal', `The managed document ${path} is not valid JSON; fix it by hand before proposing changes.`);
  }
  if (!isObject(value)) fail('internal', `The managed document ${path} is not a JSON object.`);
  return value;
}

type TargetRow = { last_hash: string; last_document: string | null };

/** One version of a target's file as read: its text, the parsed (frozen) value and its hash. */
type Snapshot = { stamp: FileStamp; text: string; value: JsonObject; hash: string; settled: boolean };

/** The last version read of each target's file. Exported for tests: `settleMs` can be set to 0. */
export const documentCacheTuning = { settleMs: 2000 };

const snapshots = new WeakMap<TargetRuntime, Snapshot>();

/**
 * The file as it is now, read, parsed and hashed only when it changed. The stamp (inode, size,
 * mtime, ctime; src/store/file-stamp.ts) is taken before reading, so a write between the two
 * leaves an old stamp on new text, which only costs a recompute next time. While the stamp is
 * younger than `settleMs` a same-tick rewrite could keep it, so the text is read and compared
 * (no parse, no hash) until the file has been still that long. Symlinks and missing files have
 * no stamp and take the uncached path, which refuses them exactly as before. `fresh` reads,
 * parses and hashes whatever the stamp says (the benchmarks' "before" path).
 */
function readCurrent(service: Service, target: TargetRuntime, fresh: boolean): CurrentDocument {
  const stamp = fileStamp(target.path);
  const known = fresh ? undefined : snapshots.get(target);
  if (known && stamp && sameStamp(known.stamp, stamp)) {
    if (known.settled) return known;
    if (readDocumentText(target.path) === known.text) {
      known.settled = settled(stamp, documentCacheTuning.settleMs);
      return known;
    }
  }
  const text = readDocumentText(target.path);
  // Shared by every request until the file changes: frozen, so nothing can edit it in place.
  const value = deepFreeze(parseDocument(text, target.path));
  const hash = documentHash(service.hashKey, value);
  if (stamp) snapshots.set(target, { stamp, text, value, hash, settled: settled(stamp, documentCacheTuning.settleMs) });
  else snapshots.delete(target);
  return { text, value, hash };
}

/**
 * Reads the document as it is now. If it no longer matches what the service last wrote, the
 * outside edit is recorded as `config.drift` (with its changed paths, never values) before
 * anything is judged against it. Proposals made on the old hash then fail as stale. The value
 * is shared with later calls and frozen: copy it before changing anything.
 */
export function currentDocument(
  service: Service,
  target: TargetRuntime,
  options: { fresh?: boolean } = {},
): CurrentDocument {
  const { text, value, hash } = readCurrent(service, target, options.fresh ?? false);
  // The remembered document is only needed when the file moved on: read the hash alone first.
  const remembered = statement(service.db, 'SELECT last_hash FROM targets WHERE name = ?').get(target.name) as
    | Pick<TargetRow, 'last_hash'>
    | undefined;
  if (remembered?.last_hash === hash) return { text, value, hash };
  // The remembered document is kept once, by hash, in `documents` (issue 14).
  const row = statement(
    service.db,
    'SELECT last_hash, text AS last_document FROM targets LEFT JOIN documents ON hash = last_hash WHERE name = ?',
  ).get(target.name) as TargetRow | undefined;
  if (row?.last_hash === hash) return { text, value, hash };
  let drifted = false;
  try {
    withAudit(service, () => {
      if (row) {
        drifted = true;
        // Without the old text (a damaged row) the drift is still recorded, without its paths.
        const previous = row.last_document === null ? null : parseDocument(row.last_document, target.path);
        const paths = previous ? diffDocuments(previous, value).leaves.map((leaf) => formatPath(leaf.path)) : [];
        appendAudit(service, {
          kind: 'config.drift',
          target: target.name,
          baseHash: row.last_hash,
          targetHash: hash,
          paths,
          reason: 'The document was changed outside countersign.',
        });
      }
      rememberDocument(service, target.name, hash, text);
    });
  } catch (error) {
    // Reads keep working while the database is unwritable; writes will fail closed on their own.
    service.log.warn({ err: error, target: target.name }, 'could not record the document state');
  }
  // Proposals made on the old document can never apply: void them now, not at approval time.
  if (drifted) afterBaseMoved(service, target, { text, value, hash }, { cause: 'outside' });
  return { text, value, hash };
}

/** Remembers the document the service wrote or accepted; must run inside an audited transaction. */
export function rememberDocument(service: Service, name: string, hash: string, text: string): void {
  putDocument(service.db, hash, text, service.now());
  const previous = statement(service.db, 'SELECT last_hash FROM targets WHERE name = ?').get(name) as
    | { last_hash: string }
    | undefined;
  statement(
    service.db,
    `INSERT INTO targets (name, last_hash, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET last_hash = excluded.last_hash, updated_at = excluded.updated_at`,
  ).run(name, hash, service.now().toISOString());
  // The document this one replaces goes at once unless something still keeps it (an applied
  // proposal's base, a live one's): a drifted document nobody proposed on is not kept (issue 14).
  if (previous && previous.last_hash !== hash) {
    pruneDocuments(service.db, service.settings.history.keepApplied, [previous.last_hash]);
  }
}
