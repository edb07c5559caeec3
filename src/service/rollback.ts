import { fail } from '../core/errors.js';
import { planRollback } from '../core/rollback.js';
import type { Credential } from '../store/tokens.js';
import type { Service } from './context.js';
import { currentDocument, resolveTarget } from './document.js';
import { proposalDocuments } from './proposal-documents.js';
import { type ProposeOutcome, propose } from './propose.js';
import { requireOwner } from './queries.js';

/**
 * Rollback goes through the same gate as any change: the inverse of an applied proposal is
 * proposed against the current document and classified by the current policy, so undoing a
 * dangerous change is itself approved (or applied at once if everything it touches is allowlisted).
 */
export function rollback(service: Service, caller: Credential, id: string): ProposeOutcome {
  requireOwner(caller);
  const record = service.proposals.get(id);
  if (!record) fail('not_found', `There is no proposal ${id}.`);
  const { card } = record;
  if (card.status !== 'applied')
    fail('not_applied', `Proposal ${id} is ${card.status}; only applied changes can be rolled back.`);
  const target = resolveTarget(service, card.target);
  // Both documents from what the proposal keeps, checked against its card: `document_not_kept`
  // once the change is older than the installation keeps (settings `history.keepApplied`).
  const documents = proposalDocuments(service, target, record);
  const current = currentDocument(service, target);
  const plan = planRollback(documents.base.value, documents.target.value, current.value);
  if (plan.kind === 'conflict') {
    fail('rollback_conflict', 'Later changes touched the same paths; roll those back first or propose a fix by hand.', {
      paths: plan.paths,
    });
  }
  return propose(
    service,
    caller,
    {
      target: target.name,
      baseHash: current.hash,
      replace: plan.document,
      reason: `Rollback of ${id}${card.reason ? ` (${card.reason})` : ''}`,
    },
    { trusted: true },
  );
}
