import { fail } from '../core/errors.js';
import { documentHash } from '../core/hash.js';
import type { JsonObject } from '../core/json.js';
import { documentAtSeq, type RestoreRequest } from '../core/restore.js';
import { documentCandidates, documentEvents } from '../store/history.js';
import type { Credential } from '../store/tokens.js';
import type { Service, TargetRuntime } from './context.js';
import { currentDocument, parseDocument, resolveTarget } from './document.js';
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
  for (const text of documentCandidates(
    service.db,
    target.name,
    at.hash,
    at.kind === 'after' ? at.event.proposalId : null,
  )) {
    let value: JsonObject;
    try {
      value = parseDocument(text, target.path);
    } catch {
      continue;
    }
    if (documentHash(service.hashKey, value) === at.hash) return value;
  }
  const why =
    at.kind === 'initial'
      ? `the document ${target.name} held before its first recorded change (event ${at.event.seq}) was never the base of a proposal, so no copy was kept`
      : at.event.kind === 'config.drift'
        ? `it was written outside countersign (config.drift, event ${at.event.seq}) and no proposal was made against it afterwards, so no copy was kept`
        : `the proposal that wrote it (event ${at.event.seq}) is not in the database`;
  return fail('document_not_kept', `Cannot rebuild ${target.name} as it was after audit event ${seq}: ${why}.`, {
    seq,
    decidedBy: at.event.seq,
  });
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
