import { randomUUID } from 'node:crypto';
import { type Actor, buildCard, type Card } from '../core/card.js';
import { CountersignError, fail } from '../core/errors.js';
import type { PatchForm } from '../core/patch.js';
import { planChange } from '../core/plan.js';
import type { ProposeRequest } from '../core/requests.js';
import type { Credential } from '../store/tokens.js';
import { applyProposal } from './apply.js';
import { appendAudit, proposalAuditFields, withAudit } from './audit.js';
import type { Service } from './context.js';
import { currentDocument, resolveTarget } from './document.js';
import { reviewMcpServers } from './mcp.js';

export type ProposeOutcome =
  | { httpStatus: 200; body: { status: 'unchanged'; hash: string } }
  | { httpStatus: 200; body: { status: 'applied'; proposal: Card; hash: string } }
  | { httpStatus: 202; body: { status: 'pending'; proposal: Card } }
  | { httpStatus: 200; body: { status: 'dry-run'; proposal: Card } };

export function actorOf(caller: Credential, sessionKey: string | null = null): Actor {
  return { role: caller.role, name: caller.name, agentId: caller.agentId, sessionKey, surface: caller.surface };
}

function patchForm(request: ProposeRequest): PatchForm {
  if (request.operations !== undefined) return { kind: 'operations', operations: request.operations };
  if (request.replace !== undefined) return { kind: 'replace', document: request.replace };
  return { kind: 'merge', patch: request.patch ?? null, replacePaths: request.replacePaths ?? [] };
}

/**
 * SPEC §4 Propose, in the order a caller would want to learn what is wrong: stale base, bad
 * patch, nothing to do, refused by policy, invalid result, then store (and apply if allowlisted).
 */
export function propose(service: Service, caller: Credential, request: ProposeRequest): ProposeOutcome {
  const target = resolveTarget(service, request.target);
  const current = currentDocument(service, target);
  if (request.baseHash !== current.hash) {
    fail('stale_base', 'baseHash is not the current document; read it again and re-propose.', {
      currentHash: current.hash,
    });
  }
  if (request.replacePaths && request.patch === undefined) {
    fail('invalid_request', '"replacePaths" only applies to a merge "patch".');
  }
  const plan = planChange(target.policy, current.value, current.hash, patchForm(request));
  if (plan.kind === 'unchanged') return { httpStatus: 200, body: { status: 'unchanged', hash: current.hash } };

  const requestedBy = actorOf(caller, request.sessionKey ?? null);
  if (plan.refusedPaths.length > 0) {
    recordRefusal(service, target.name, target.policyHash, requestedBy, plan);
    const hardBlock = target.policy.mode === 'hard-block';
    fail(
      'blocked',
      hardBlock
        ? 'This installation only accepts allowlisted changes; these paths are not allowlisted.'
        : 'Policy never allows changes to these paths, not even with an owner approval.',
      { paths: plan.refusedPaths },
    );
  }
  if (target.validate) {
    const issues = target.validate(plan.target);
    if (issues.length > 0)
      fail('invalid_config', "The resulting document does not satisfy the target's JSON Schema.", { issues });
  }

  const card: Card = buildCard({
    id: randomUUID(),
    target: target.name,
    status: request.dryRun ? 'dry-run' : 'pending',
    createdAt: service.now(),
    ttlSeconds: target.policy.approval.proposalTtlSeconds,
    requestedBy,
    reason: request.reason ?? null,
    settings: target.policy.approval,
    plan,
  });
  // The owner approves a program, not just a config value: say exactly which one (SPEC §7).
  const touchesServers = plan.changes.some((change) => /^mcp\.servers(\.|$)/.test(change.path));
  if (plan.review === 'mcp' || touchesServers) card.review = { mcp: reviewMcpServers(current.value, plan.target) };
  if (request.dryRun) return { httpStatus: 200, body: { status: 'dry-run', proposal: card } };
  // With apply: "by-agent" the grant is bound to the proposing session; without one it could never be used.
  if (
    target.policy.approval.apply === 'by-agent' &&
    card.tier !== 'allowlisted' &&
    caller.role === 'agent' &&
    !request.sessionKey
  ) {
    fail('invalid_request', 'This installation lets agents apply approved changes themselves: send your "sessionKey".');
  }

  const record = {
    card,
    tokenId: caller.id,
    grantExpiresAt: null,
    targetDocument: `${JSON.stringify(plan.target, null, 2)}\n`,
    baseDocument: current.text,
  };
  withAudit(service, () => {
    service.proposals.insert(record, service.now());
    appendAudit(service, { kind: 'proposal.created', ...proposalAuditFields(target, card), actor: requestedBy });
  });

  if (card.tier === 'allowlisted') {
    const applied = applyProposal(service, target, record, ['pending'], {
      actor: requestedBy,
      approvedBy: null,
      stepUp: 'none',
      why: 'Every change is on the allowlist, so no owner approval is needed.',
    });
    return { httpStatus: 200, body: { status: 'applied', proposal: applied.proposal, hash: applied.hash } };
  }
  service.events.emit('proposal.created', card);
  return { httpStatus: 202, body: { status: 'pending', proposal: card } };
}

/** Refused attempts are evidence too; losing one must not turn a refusal into a 503. */
function recordRefusal(
  service: Service,
  target: string,
  policyHash: string,
  actor: Actor,
  plan: { tier: Card['tier']; refusedPaths: string[]; ruleIds: string[]; baseHash: string; patchHash: string },
): void {
  try {
    withAudit(service, () =>
      appendAudit(service, {
        kind: 'proposal.refused',
        target,
        actor,
        tier: plan.tier,
        ruleIds: plan.ruleIds,
        policyHash,
        baseHash: plan.baseHash,
        patchHash: plan.patchHash,
        paths: plan.refusedPaths,
      }),
    );
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    service.log.warn({ err: error }, 'could not record a refused proposal');
  }
}
