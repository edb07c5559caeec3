import { approvalRequirements, type Card } from '../core/card.js';
import { diffDocuments } from '../core/diff.js';
import { CountersignError } from '../core/errors.js';
import { canonical } from '../core/hash.js';
import { deepEqual, type Json, type JsonObject } from '../core/json.js';
import { serverEntryIn } from '../core/mcp-review.js';
import { type Path, parsePath } from '../core/path.js';
import { planChange } from '../core/plan.js';
import { classify, higherTier } from '../core/policy.js';
import { type RebaseVerdict, rebaseVerdict, replayChange } from '../core/rebase.js';
import type { ProposalRecord } from '../store/proposals.js';
import { appendAudit, proposalAuditFields, withAudit } from './audit.js';
import type { Service, TargetRuntime } from './context.js';
import type { CurrentDocument } from './document.js';
import { markStale } from './lifecycle.js';
import { proposalDocuments } from './proposal-documents.js';
import { markedDocument } from './secrets.js';

/** How a target's document came to be `current`: a proposal the service applied, or an outside edit. */
export type BaseMove = { cause: 'applied'; applied: Card } | { cause: 'outside' };

type StaleOutcome = Exclude<RebaseVerdict, { rebase: true }>['reason'] | 'does_not_carry_over' | 'not_rebasable';
type Outcome = 'rebased' | StaleOutcome;

const staleMessages: Record<StaleOutcome, string> = {
  outside_edit: 'The document was edited outside countersign after this proposal was made.',
  needs_approval: 'A change that needed an owner was applied after this proposal was made.',
  same_path: 'A change applied after this proposal was made touches the same settings.',
  no_change: 'The document changed after this proposal was made.',
  does_not_carry_over: 'The document changed after this proposal was made, and the change no longer applies as shown.',
  not_rebasable: 'The document changed after this proposal was made.',
};

/**
 * The document of `target` is now `current`. Every open proposal made on another base can never
 * apply as approved, so none may go on looking approvable (issue 10, item 10): a pending one that
 * only had allowlisted changes applied at other paths under it is rebased (item 11); every other
 * one becomes `stale` at once, audited and announced. Never throws: the move has happened.
 */
export function afterBaseMoved(
  service: Service,
  target: TargetRuntime,
  current: CurrentDocument,
  move: BaseMove,
): void {
  let open: ProposalRecord[];
  try {
    open = service.proposals.open(target.name);
  } catch (error) {
    service.log.warn({ err: error, target: target.name }, 'could not list open proposals after the document moved');
    return;
  }
  const now = service.now().getTime();
  for (const record of open) {
    if (record.card.baseHash === current.hash) continue;
    // Past its expiry it is the expiry sweep's (and can no longer be approved anyway).
    if (record.card.status === 'pending' && Date.parse(record.card.expiresAt) <= now) continue;
    try {
      // An approved (by-agent) grant was given for the old document: it is never carried over.
      const reason: Outcome =
        record.card.status === 'pending'
          ? tryRebase(service, target, record, current, move)
          : move.cause === 'outside'
            ? 'outside_edit'
            : 'not_rebasable';
      if (reason === 'rebased') continue;
      markStale(service, target, record, staleMessages[reason], {
        currentHash: current.hash,
        cause: move.cause,
        staleReason: reason,
      });
    } catch (error) {
      // The proposal stays as it was; an approval still fails as `stale_base` at apply time.
      service.log.warn({ err: error, proposal: record.card.id }, 'could not rebase or void a proposal');
    }
  }
}

/** Compared in any order: a key order changed by the intervening change reorders nothing that matters. */
function sameSet(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  const left = a.map((item) => canonical(item)).sort();
  const right = b.map((item) => canonical(item)).sort();
  return left.every((text, index) => text === right[index]);
}

function tryRebase(
  service: Service,
  target: TargetRuntime,
  record: ProposalRecord,
  current: CurrentDocument,
  move: BaseMove,
): Outcome {
  const { card, publicCard } = record;
  if (move.cause !== 'applied') return 'outside_edit';
  // Only the change just applied may lie between: the proposal must share that change's base.
  if (move.applied.baseHash !== card.baseHash) return 'not_rebasable';
  let base: JsonObject;
  let proposed: JsonObject;
  try {
    // Its base from the shared documents table and its target rebuilt from it, both checked.
    const documents = proposalDocuments(service, target, record);
    base = documents.base.value;
    proposed = documents.target.value;
  } catch (error) {
    if (error instanceof CountersignError) return 'not_rebasable';
    throw error;
  }

  const change = diffDocuments(base, proposed);
  const proposalPaths: Path[] = change.leaves.map((leaf) => leaf.path);
  for (const item of card.changes) {
    if (item.from === undefined) continue;
    try {
      proposalPaths.push(parsePath(item.from));
    } catch {
      return 'not_rebasable';
    }
  }
  const intervening = diffDocuments(base, current.value).leaves.map((leaf) => ({
    path: leaf.path,
    // The tier of the change that carried it; a leaf policy ranks higher on its own counts as higher.
    tier: higherTier(classify(target.policy, leaf).tier, move.applied.tier),
  }));
  const verdict = rebaseVerdict({ cause: 'applied', proposalPaths, intervening });
  if (!verdict.rebase) return verdict.reason;

  const replayed = replayChange(base, proposed, current.value);
  if (!replayed) return 'does_not_carry_over';
  let plan: ReturnType<typeof planChange>;
  try {
    plan = planChange(
      target.policy,
      current.value,
      current.hash,
      { kind: 'operations', operations: change.operations.map((placed) => placed.operation) },
      { hashKey: service.hashKey, marked: markedDocument(target, current.value, current.hash) },
    );
  } catch (error) {
    if (error instanceof CountersignError) return 'does_not_carry_over';
    throw error;
  }
  // What the owner sees must be exactly what they saw: the same changes, values, tiers and
  // provenance on both cards. A change whose shown form depends on the document's secrets (a
  // copied secret, a list holding one) re-plans differently and is voided rather than guessed at.
  if (
    plan.kind !== 'change' ||
    !deepEqual(plan.target, replayed) ||
    plan.tier !== card.tier ||
    plan.refusedPaths.length > 0 ||
    !sameSet(plan.changes, card.changes) ||
    !sameSet(plan.publicChanges, publicCard.changes) ||
    !sameSet(plan.secretSources, card.approval.secretsFrom ?? [])
  ) {
    return 'does_not_carry_over';
  }
  if (target.validate && target.validate(plan.target).length > 0) return 'does_not_carry_over';
  // The MCP review describes the reviewed servers as they are before and after: it still holds
  // only if the intervening change left those entries alone.
  for (const review of card.review.mcp) {
    if (!deepEqual(serverEntryIn(base, review.server) as Json, serverEntryIn(current.value, review.server) as Json)) {
      return 'does_not_carry_over';
    }
    if (!deepEqual(serverEntryIn(proposed, review.server) as Json, serverEntryIn(plan.target, review.server) as Json)) {
      return 'does_not_carry_over';
    }
  }

  const approval = approvalRequirements(target.policy.approval, plan.tier, plan.patchHash, plan.secretSources);
  const hashes = { baseHash: plan.baseHash, patchHash: plan.patchHash, targetHash: plan.targetHash };
  const rebasedCard: Card = { ...card, ...hashes, operations: plan.operations, approval };
  const rebasedPublic: Card = { ...publicCard, ...hashes, operations: plan.publicOperations, approval };
  const stored = withAudit(service, () => {
    const moved = service.proposals.rebase(
      card.id,
      { patchHash: card.patchHash },
      {
        card: rebasedCard,
        publicCard: rebasedPublic,
        documents: { writeOperations: plan.writeOperations, base: { hash: current.hash, text: current.text } },
      },
      service.now(),
    );
    if (!moved) return false;
    appendAudit(service, {
      kind: 'proposal.rebased',
      ...proposalAuditFields(target, rebasedCard),
      details: {
        why: 'Only allowlisted changes to other settings were applied under it; the change shown is unchanged.',
        previous: { baseHash: card.baseHash, patchHash: card.patchHash, targetHash: card.targetHash },
        appliedProposal: move.applied.id,
        // As the applied card names them (veiled where a path itself holds a secret).
        intervening: move.applied.changes.map((item) => item.path),
      },
    });
    return true;
  });
  if (!stored) return 'not_rebasable';
  const updated = service.proposals.get(card.id);
  // Re-announced as `proposal.created` (same id, new hashes): bridges post the card again with
  // the approval it now takes, and open pages re-read it (README, "Events and webhooks").
  if (updated) service.events.emit('proposal.created', updated.publicCard);
  return 'rebased';
}
