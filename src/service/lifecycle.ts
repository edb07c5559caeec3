import { resolution } from '../core/card.js';
import type { CountersignError } from '../core/errors.js';
import type { ProposalRecord } from '../store/proposals.js';
import { appendAudit, proposalAuditFields, withAudit } from './audit.js';
import type { Service, TargetRuntime } from './context.js';

/**
 * Expiry is enforced lazily before every read or decision (and by a timer in `serve`), so an
 * expired proposal can never be approved even if no sweep has run.
 */
export function expireOverdue(service: Service): number {
  const overdue = service.proposals.overdue(service.now());
  if (overdue.length === 0) return 0;
  try {
    withAudit(service, () => {
      for (const { id, status } of overdue) {
        const why = status === 'approved' ? 'grant_expired' : 'proposal_expired';
        const moved = service.proposals.transition(
          id,
          [status],
          'expired',
          resolution('expired', service.now(), {
            reason: why === 'grant_expired' ? 'The approval was not used in time.' : 'Nobody decided in time.',
          }),
          service.now(),
        );
        if (moved) appendAudit(service, { kind: 'proposal.expired', proposalId: id, details: { why } });
      }
    });
  } catch (error) {
    service.log.warn({ err: error }, 'could not record expiries');
    return 0;
  }
  for (const { id } of overdue) {
    const record = service.proposals.get(id);
    if (record) service.events.emit('proposal.resolved', record.publicCard);
  }
  return overdue.length;
}

/**
 * Something the approval was bound to has moved (the document, or a reviewed program): the
 * approval is void, so the proposal becomes stale — audited — and the caller gets `error`.
 */
export function voidAsStale(
  service: Service,
  target: TargetRuntime,
  record: ProposalRecord,
  why: string,
  details: Record<string, string>,
  error: CountersignError,
): never {
  markStale(service, target, record, why, details);
  throw error;
}

/**
 * Moves an open proposal to `stale`, audited as `proposal.stale` and announced as
 * `proposal.resolved` (with the public card), so lists and open pages stop offering it. Only
 * the call that actually moved it records anything: a proposal already voided (say, when the
 * document moved) is not voided twice. Returns whether it moved.
 */
export function markStale(
  service: Service,
  target: TargetRuntime,
  record: ProposalRecord,
  why: string,
  details: Record<string, string>,
): boolean {
  const { card } = record;
  const moved = withAudit(service, () => {
    const changed = service.proposals.transition(
      card.id,
      ['pending', 'approved'],
      'stale',
      resolution('stale', service.now(), { reason: why }),
      service.now(),
    );
    if (changed) {
      appendAudit(service, {
        kind: 'proposal.stale',
        ...proposalAuditFields(target, card),
        details: { ...details, why },
      });
    }
    return changed;
  });
  const updated = moved ? service.proposals.get(card.id) : null;
  if (updated) service.events.emit('proposal.resolved', updated.publicCard);
  return moved;
}
