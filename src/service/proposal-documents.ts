import { rebuildDocument, verifiedTarget } from '../core/documents.js';
import { fail } from '../core/errors.js';
import { documentHash } from '../core/hash.js';
import type { JsonObject } from '../core/json.js';
import type { Operation } from '../core/operations.js';
import { documentStats, getDocument, pruneDocuments } from '../store/documents.js';
import type { ProposalRecord } from '../store/proposals.js';
import type { Service, TargetRuntime } from './context.js';
import type { CurrentDocument } from './document.js';
import { parseDocument } from './document.js';

/*
 * A proposal's two documents, from what it keeps (issue 14): its base, by hash, from the shared
 * `documents` table, and its target rebuilt from that base and its exact operations. Both are
 * checked against the card before anyone uses them — a damaged row is refused, never written.
 */

/**
 * The document `record` was made against, checked against the card's base hash. Fails with
 * `document_not_kept` when the pruning rule already let it go (src/store/documents.ts).
 */
export function proposalBase(service: Service, target: TargetRuntime, record: ProposalRecord): CurrentDocument {
  const { card } = record;
  const text = getDocument(service.db, card.baseHash);
  if (text === null) {
    fail(
      'document_not_kept',
      `The document proposal ${card.id} was made against is no longer kept: only live proposals, the current document and the bases of each target's last ${service.settings.history.keepApplied} applied changes are.`,
      { proposalId: card.id },
    );
  }
  const value = parseDocument(text, target.path);
  const hash = documentHash(service.hashKey, value);
  if (hash !== card.baseHash) {
    fail('document_mismatch', `The stored base document of proposal ${card.id} does not have its base hash.`, {
      proposalId: card.id,
    });
  }
  return { text, value, hash };
}

/**
 * The document applying `record` writes: `base` (its base document, parsed for this call and
 * consumed — it is changed in place) with the stored operations applied, hashed and checked
 * against the card's target hash. Throws `document_mismatch` otherwise; nothing has been changed.
 */
export function proposalTarget(service: Service, record: ProposalRecord, base: JsonObject): CurrentDocument {
  const operations = JSON.parse(record.writeOperations) as Operation[];
  return verifiedTarget(service.hashKey, record.card, rebuildDocument(base, operations));
}

/** Base and target of `record`, both checked (rollback, drills, rebase, restore). */
export function proposalDocuments(
  service: Service,
  target: TargetRuntime,
  record: ProposalRecord,
): { base: CurrentDocument; target: CurrentDocument } {
  const base = proposalBase(service, target, record);
  // Rebuilt on a second parse: the base value is handed back to the caller untouched.
  const rebuilt = proposalTarget(service, record, parseDocument(base.text, target.path));
  return { base, target: rebuilt };
}

/**
 * Deletes the documents nothing keeps any more (the rule is in src/store/documents.ts). Run by
 * `serve`'s periodic sweep; cheap when there is nothing to delete. Never throws: a failed prune
 * only leaves documents for the next one.
 */
export function pruneUnreferencedDocuments(service: Service): number {
  try {
    const removed = pruneDocuments(service.db, service.settings.history.keepApplied);
    if (removed > 0) service.log.info({ removed, ...documentStats(service.db) }, 'pruned unreferenced documents');
    return removed;
  } catch (error) {
    service.log.warn({ err: error }, 'could not prune unreferenced documents');
    return 0;
  }
}
