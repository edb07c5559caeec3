import { CountersignError, fail } from '../core/errors.js';
import { documentHash } from '../core/hash.js';
import type { JsonObject } from '../core/json.js';
import { documentAtSeq, type RestoreRequest } from '../core/restore.js';
import { getDocument } from '../store/documents.js';
import { documentEvents } from '../store/history.js';
import type { Credential } from '../store/tokens.js';
import type { Service, TargetRuntime } from './context.js';
import { currentDocument, parseDocument, resolveTarget } from './document.js';
import { proposalDocuments } from './proposal-documents.js';
import { type ProposeOutcome, propose } from './propose.js';
import { requireOwner } from './queries.js';

/**
 * The document `target` held right after audit event `seq`, rebuilt from what the service keeps
 * (see src/core/restore.ts for which event decides, and the README for when it is not kept).
 */
export function documentAfter(service: Service, target: TargetRuntime, seq: number): JsonObject {
  const head = service.audit.head();
  if (!head || seq < 1 || seq > head.seq) {
    fail('unknown_seq', `There is no audit event ${seq}; the log ends at ${head?.seq ?? 0}.`, {
      seq,
      head: head?.seq ?? 0,
    });
  }
  const at = documentAtSeq(documentEvents(service.db, target.name), seq);
  if (at.kind === 'unchanged') return currentDocument(service, target).value;
  if (at.kind === 'unknown') {
    fail('document_not_kept', `Audit event ${at.event.seq} does not say which document it left.`, {
      seq,
      decidedBy: at.event.seq,
    });
  }
  const found = keptDocument(service, target, at.hash, at.kind === 'after' ? at.event.proposalId : null);
  if (found) return found;
  const keep = service.settings.history.keepApplied;
  const why =
    at.kind === 'initial'
      ? `the document ${target.name} held before its first recorded change (event ${at.event.seq}) is not kept: it was never the base of a proposal, or is older than the bases of the last ${keep} applied changes the installation keeps`
      : at.event.kind === 'config.drift'
        ? `it was written outside countersign (config.drift, event ${at.event.seq}) and is not kept: no proposal was made against it afterwards, or it is older than the last ${keep} applied changes`
        : `the proposal that wrote it (event ${at.event.seq}) is no longer in the database or older than the last ${keep} applied changes the installation keeps documents for`;
  return fail('document_not_kept', `Cannot rebuild ${target.name} as it was after audit event ${seq}: ${why}.`, {
    seq,
    decidedBy: at.event.seq,
  });
}

/**
 * The document with hash `hash`, from what the service keeps: the `documents` table by hash (the
 * current document, bases of live proposals and of recent applies), else the target of the
 * proposal that wrote it, rebuilt from that proposal's base and operations. Every candidate is
 * parsed and hashed: only the document with exactly that hash is returned.
 */
function keptDocument(
  service: Service,
  target: TargetRuntime,
  hash: string,
  proposalId: string | null,
): JsonObject | null {
  const text = getDocument(service.db, hash);
  if (text !== null) {
    try {
      const value = parseDocument(text, target.path);
      if (documentHash(service.hashKey, value) === hash) return value;
    } catch {
      // A damaged row: try the proposal's own documents below.
    }
  }
  const record = proposalId ? service.proposals.get(proposalId) : null;
  if (!record || record.card.target !== target.name) return null;
  try {
    const rebuilt = proposalDocuments(service, target, record).target;
    return rebuilt.hash === hash ? rebuilt.value : null;
  } catch (error) {
    if (error instanceof CountersignError) return null;
    throw error;
  }
}

/**
 * `countersign restore --to SEQ`: proposes the whole document as it was after event SEQ, as the
 * owner, through the normal gate — classified by the current policy and schema, pending unless
 * every change is allowlisted, approved and applied like any other proposal.
 */
export function restore(service: Service, caller: Credential, request: RestoreRequest): ProposeOutcome {
  requireOwner(caller);
  const target = resolveTarget(service, request.target);
  const document = documentAfter(service, target, request.toSeq);
  const current = currentDocument(service, target);
  return propose(
    service,
    caller,
    {
      target: target.name,
      baseHash: current.hash,
      replace: document,
      reason: `Restore to audit event ${request.toSeq}${request.reason ? ` (${request.reason})` : ''}`,
    },
    // The document comes from the service's own records, as a rollback's does: its secrets are the document's.
    { trusted: true },
  );
}
