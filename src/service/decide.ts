import { timingSafeEqual } from 'node:crypto';
import { type Card, resolution } from '../core/card.js';
import { fail } from '../core/errors.js';
import type { AgentApplyRequest, ApproveRequest, DenyRequest } from '../core/requests.js';
import type { ProposalRecord } from '../store/proposals.js';
import type { Credential } from '../store/tokens.js';
import { type Applied, applyProposal } from './apply.js';
import { appendAudit, proposalAuditFields, withAudit } from './audit.js';
import type { Service, TargetRuntime } from './context.js';
import { resolveTarget } from './document.js';
import { requireNotFrozen } from './freeze.js';
import { expireOverdue } from './lifecycle.js';
import { actorOf } from './propose.js';
import { stepUp } from './step-up.js';

export type ApproveOutcome =
  | ({ status: 'applied' } & Applied)
  | { status: 'approved'; grant: { expiresAt: string }; proposal: Card };

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function requireOwner(caller: Credential): void {
  if (caller.role !== 'owner') fail('forbidden', 'Only an owner can decide on proposals.');
}

function load(service: Service, id: string): { record: ProposalRecord; target: TargetRuntime } {
  expireOverdue(service);
  const record = service.proposals.get(id);
  if (!record) fail('not_found', `There is no proposal ${id}.`);
  return { record, target: resolveTarget(service, record.card.target) };
}

function requirePending(service: Service, card: Card): void {
  if (
    card.status === 'expired' ||
    (card.status === 'pending' && Date.parse(card.expiresAt) <= service.now().getTime())
  ) {
    fail('expired', 'This proposal expired before anyone decided; ask the agent to propose again.', {
      expiresAt: card.expiresAt,
    });
  }
  if (card.status !== 'pending')
    fail('not_pending', `This proposal is ${card.status}, not pending.`, { status: card.status });
}

/**
 * SPEC §4 Approve, each check in the contract's order with its own code; nothing is written
 * unless every check passes (TOTP bookkeeping aside).
 */
export function approve(service: Service, caller: Credential, id: string, request: ApproveRequest): ApproveOutcome {
  requireOwner(caller);
  const { record, target } = load(service, id);
  const { card } = record;
  requirePending(service, card);
  // SPEC §11: while frozen an agent's proposal cannot be approved (409 `frozen`); an owner's can.
  requireNotFrozen(service, { kind: 'approve', proposer: card.requestedBy.role }, { proposalId: id });
  if (!caller.surface || !card.approval.surfaces.includes(caller.surface)) {
    fail('surface_not_allowed', `A ${card.tier} change cannot be approved from the "${caller.surface}" surface.`, {
      allowed: card.approval.surfaces,
    });
  }
  if (request.patchHash !== card.patchHash) {
    fail('patch_mismatch', 'patchHash does not match this proposal; re-read the card before approving.', {
      patchHash: card.patchHash,
    });
  }
  if (card.approval.confirmPhrase && !sameText(request.confirm ?? '', card.approval.confirmPhrase)) {
    fail('confirm_required', `Type the confirmation phrase exactly: "${card.approval.confirmPhrase}".`, {
      confirmPhrase: card.approval.confirmPhrase,
    });
  }
  const used = stepUp(service, target, caller, card, request.totp);
  const approver = actorOf(caller);
  const why = `Approved by owner "${caller.name}" from ${caller.surface} (step-up: ${used}).`;

  // By-agent grants exist so the proposing agent applies (and restarts) in its own session. An
  // owner's own proposal — a repair, a rollback, a restore, often made during a freeze — has no
  // agent to hand a grant to, so the owner's approval applies it at once.
  if (target.policy.approval.apply === 'by-agent' && card.requestedBy.role === 'agent') {
    const grantExpiresAt = new Date(
      service.now().getTime() + target.policy.approval.grantTtlSeconds * 1000,
    ).toISOString();
    withAudit(service, () => {
      const moved = service.proposals.transition(
        id,
        ['pending'],
        'approved',
        resolution('approved', service.now(), { by: approver, stepUp: used, reason: why }),
        service.now(),
        grantExpiresAt,
      );
      if (!moved) fail('not_pending', 'This proposal was decided by someone else just now.');
      appendAudit(service, {
        kind: 'proposal.approved',
        ...proposalAuditFields(target, card),
        actor: approver,
        stepUp: used,
        details: { grantExpiresAt },
      });
    });
    const approvedRecord = service.proposals.get(id) as ProposalRecord;
    const approved = approvedRecord.card;
    service.events.emit('proposal.resolved', approvedRecord.publicCard);
    return { status: 'approved', grant: { expiresAt: grantExpiresAt }, proposal: approved };
  }
  const applied = applyProposal(service, target, record, ['pending'], {
    actor: approver,
    approvedBy: approver,
    stepUp: used,
    why,
  });
  return { status: 'applied', ...applied };
}

/**
 * `apply: "by-agent"`: the grant is bound to the proposal (and so its base, patch and target
 * hashes), to the proposing agent and to its session, and can be used once before it expires.
 */
export function applyGrant(service: Service, caller: Credential, id: string, request: AgentApplyRequest): Applied {
  const { record, target } = load(service, id);
  const { card } = record;
  if (caller.role !== 'agent' || caller.agentId !== card.requestedBy.agentId) {
    fail('forbidden', 'Only the agent that proposed this change can apply it.');
  }
  if (!card.requestedBy.sessionKey || !sameText(request.sessionKey, card.requestedBy.sessionKey)) {
    fail('forbidden', 'This grant belongs to another session of the agent.');
  }
  // SPEC §11: no grant is used while frozen (a freeze also voids the open ones for good).
  requireNotFrozen(service, { kind: 'agent-apply' }, { proposalId: id });
  if (card.status === 'expired' && record.grantExpiresAt) {
    fail('grant_expired', 'The approval was not used in time; propose again.', { expiredAt: record.grantExpiresAt });
  }
  if (card.status === 'applied') fail('already_applied', 'This grant was already used.');
  if (card.status !== 'approved')
    fail('not_pending', `This proposal is ${card.status}; there is no grant to use.`, { status: card.status });
  if (record.grantExpiresAt && Date.parse(record.grantExpiresAt) <= service.now().getTime()) {
    fail('grant_expired', 'The approval was not used in time; propose again.', { expiredAt: record.grantExpiresAt });
  }
  const resolutionBy = card.resolution;
  return applyProposal(service, target, record, ['approved'], {
    actor: actorOf(caller, request.sessionKey),
    approvedBy: resolutionBy?.by ?? null,
    stepUp: resolutionBy?.stepUp ?? 'none',
    why: resolutionBy?.reason ?? 'Approved by an owner.',
  });
}

function close(
  service: Service,
  caller: Credential,
  record: ProposalRecord,
  status: 'denied' | 'withdrawn',
  reason: string | null,
): Card {
  const { card } = record;
  const actor = actorOf(caller);
  const target = resolveTarget(service, card.target);
  withAudit(service, () => {
    const moved = service.proposals.transition(
      card.id,
      ['pending', 'approved'],
      status,
      resolution(status, service.now(), { by: actor, reason }),
      service.now(),
    );
    if (!moved) fail('not_pending', 'This proposal was decided by someone else just now.');
    appendAudit(service, {
      kind: status === 'denied' ? 'proposal.denied' : 'proposal.withdrawn',
      ...proposalAuditFields(target, card),
      actor,
      // The decision's reason, not the proposal's.
      reason,
    });
  });
  const closedRecord = service.proposals.get(card.id) as ProposalRecord;
  service.events.emit('proposal.resolved', closedRecord.publicCard);
  return closedRecord.card;
}

function requireOpen(service: Service, card: Card): void {
  if (card.status === 'approved') return;
  requirePending(service, card);
}

export function deny(service: Service, caller: Credential, id: string, request: DenyRequest): Card {
  requireOwner(caller);
  const { record } = load(service, id);
  requireOpen(service, record.card);
  return close(service, caller, record, 'denied', request.reason ?? null);
}

export function withdraw(service: Service, caller: Credential, id: string): Card {
  if (caller.role !== 'agent') fail('forbidden', 'Only the proposing agent can withdraw; owners deny.');
  const { record } = load(service, id);
  if (record.card.requestedBy.agentId !== caller.agentId) fail('not_found', `There is no proposal ${id}.`);
  requireOpen(service, record.card);
  return close(service, caller, record, 'withdrawn', null);
}
