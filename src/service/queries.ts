import type { Card } from '../core/card.js';
import { fail } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import type { ProposalFilter, ProposalRecord } from '../store/proposals.js';
import type { Credential } from '../store/tokens.js';
import type { Service } from './context.js';
import { currentDocument, resolveTarget } from './document.js';
import { expireOverdue } from './lifecycle.js';
import { redactedDocument } from './secrets.js';

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

export function readConfig(
  service: Service,
  target: string | undefined,
): { target: string; hash: string; config: JsonObject } {
  const runtime = resolveTarget(service, target);
  const current = currentDocument(service, runtime);
  return {
    target: runtime.name,
    hash: current.hash,
    config: redactedDocument(runtime, current.value, current.hash),
  };
}
