import { resolution } from '../core/card.js';
import { appendAudit, withAudit } from './audit.js';
import type { Service } from './context.js';

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
    if (record) service.events.emit('proposal.resolved', record.card);
  }
  return overdue.length;
}
