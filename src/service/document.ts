import { diffDocuments } from '../core/diff.js';
import { fail } from '../core/errors.js';
import { documentHash } from '../core/hash.js';
import { isObject, type JsonObject } from '../core/json.js';
import { formatPath } from '../core/path.js';
import { readDocumentText } from '../store/document-file.js';
import { pruneDocuments, putDocument } from '../store/documents.js';
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

/** The text each target's file held when last hashed, and its hash. */
const lastHashed = new WeakMap<TargetRuntime, { text: string; hash: string }>();

/**
 * `documentHash(value)` for `value` parsed from `text`. The hash is a function of the text, and
 * the file rarely changes between requests, so the same text is not canonicalised and hashed
 * again (canonical JSON of a large document costs far more than reading and comparing it).
 */
function hashOfText(service: Service, target: TargetRuntime, text: string, value: JsonObject): string {
  const known = lastHashed.get(target);
  if (known !== undefined && known.text === text) return known.hash;
  const hash = documentHash(service.hashKey, value);
  lastHashed.set(target, { text, hash });
  return hash;
}

/**
 * Reads the document as it is now. If it no longer matches what the service last wrote, the
 * outside edit is recorded as `config.drift` (with its changed paths, never values) before
 * anything is judged against it. Proposals made on the old hash then fail as stale.
 */
export function currentDocument(service: Service, target: TargetRuntime): CurrentDocument {
  const text = readDocumentText(target.path);
  const value = parseDocument(text, target.path);
  const hash = hashOfText(service, target, text, value);
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
