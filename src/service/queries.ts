import type { Card } from '../core/card.js';
import { fail } from '../core/errors.js';
import type { ProposalFilter, ProposalRecord } from '../store/proposals.js';
import type { Credential } from '../store/tokens.js';
import type { Service } from './context.js';
import { expireOverdue } from './lifecycle.js';

export function requireOwner(caller: Credential): void {
  if (caller.role !== 'owner') fail('forbidden', 'This needs an owner token.');
}

/** Owners see every proposal; an agent sees only its own. */
export function listProposals(service: Service, caller: Credential, filter: ProposalFilter): Card[] {
  expireOverdue(service);
  const scoped = caller.role === 'owner' ? filter : { ...filter, agentId: caller.agentId ?? '' };
  return service.proposals.list(scoped).map((record) => record.card);
}

/** Another agent's proposal is reported as missing, so ids cannot be probed. */
export function getProposalRecord(service: Service, caller: Credential, id: string): ProposalRecord {
  expireOverdue(service);
  const record = service.proposals.get(id);
  if (!record || (caller.role === 'agent' && record.card.requestedBy.agentId !== caller.agentId)) {
    fail('not_found', `There is no proposal ${id}.`);
  }
  return record;
}

export function getProposal(service: Service, caller: Credential, id: string): Card {
  return getProposalRecord(service, caller, id).card;
}
