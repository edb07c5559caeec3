import { randomUUID } from 'node:crypto';
import type { Card, StepUp } from '../../core/card.js';
import { fail } from '../../core/errors.js';
import { allowlistOperations, type Pin } from '../../core/exec/pin.js';
import { tierRank } from '../../core/policy.js';
import type { ProposalRecord } from '../../store/proposals.js';
import type { Credential } from '../../store/tokens.js';
import { applyProposal } from '../apply.js';
import type { Service, TargetRuntime } from '../context.js';
import { currentDocument } from '../document.js';
import { actorOf, propose } from '../propose.js';

/**
 * `allow-always` writes the agent's allowlist through the same gate as every other change of the
 * `exec-approvals` target (SPEC §9): a proposal classified by `policies/exec-approvals.json`,
 * checked against the document's schema and limits, applied atomically and audited as
 * `change.applied`. The owner proposes it and approves it in the same act, so the proposal is
 * applied at once — with the exec approval's own surface and step-up as its approval.
 */

export type AllowlistEntry = { id: string; pattern: string; argPattern: string; source: 'countersign' };

export type AllowlistWrite = {
  target: TargetRuntime;
  agentKey: string;
  entries: AllowlistEntry[];
  requestId: string;
};

/** Entries carry `source: "countersign"`: OpenClaw reads `source: "allow-always"` entries only through a cwd-bound hash. */
export function allowlistWrite(
  target: TargetRuntime,
  agentKey: string,
  pins: Pin[],
  requestId: string,
): AllowlistWrite {
  return {
    target,
    agentKey,
    requestId,
    entries: pins.map((pin) => ({ id: randomUUID(), ...pin, source: 'countersign' })),
  };
}

function proposeWrite(service: Service, caller: Credential, write: AllowlistWrite, dryRun: boolean) {
  const current = currentDocument(service, write.target);
  return propose(service, caller, {
    target: write.target.name,
    baseHash: current.hash,
    operations: allowlistOperations(current.value, write.agentKey, write.entries),
    reason: `Allow always, chosen for exec request ${write.requestId}.`,
    dryRun,
  });
}

/**
 * Everything that could refuse the write, before any TOTP code is spent on it: a blocked path,
 * an invalid result, the limits — and a classification the exec approval does not cover (the
 * owner approved a `protected` command from a surface; the entry must need no more than that).
 */
export function checkAllowlistWrite(
  service: Service,
  caller: Credential,
  write: AllowlistWrite,
  tier: 'protected' | 'dangerous',
): void {
  const outcome = proposeWrite(service, caller, write, true);
  if (outcome.body.status !== 'dry-run') {
    fail('internal', 'The allowlist entry changes nothing in the exec approvals document.');
  }
  const card = outcome.body.proposal;
  if (tierRank(card.tier) > tierRank(tier) || (card.tier !== 'allowlisted' && !coversSurface(card, caller))) {
    fail(
      'decision_not_allowed',
      `Adding this entry is a ${card.tier} change of the exec approvals, more than this approval covers; allow once, or propose the entry yourself.`,
      { tier: card.tier },
    );
  }
}

function coversSurface(card: Card, caller: Credential): boolean {
  return caller.surface !== null && card.approval.surfaces.includes(caller.surface);
}

/** Proposes and applies the entries; returns the applied proposal and the document's new hash. */
export function commitAllowlistWrite(
  service: Service,
  caller: Credential,
  write: AllowlistWrite,
  stepUp: StepUp,
): { proposal: Card; hash: string } {
  const outcome = proposeWrite(service, caller, write, false);
  const approver = actorOf(caller);
  if (outcome.body.status === 'applied') return { proposal: outcome.body.proposal, hash: outcome.body.hash };
  if (outcome.body.status !== 'pending') fail('internal', 'The allowlist entry could not be proposed.');
  const record = service.proposals.get(outcome.body.proposal.id) as ProposalRecord;
  const applied = applyProposal(service, write.target, record, ['pending'], {
    actor: approver,
    approvedBy: approver,
    stepUp,
    why: `Owner "${caller.name}" chose "allow always" for exec request ${write.requestId} from ${caller.surface} (step-up: ${stepUp}).`,
  });
  return { proposal: applied.proposal, hash: applied.hash };
}
