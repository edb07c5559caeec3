import { randomUUID } from 'node:crypto';
import { type Actor, buildCard, type Card } from '../core/card.js';
import { CountersignError, fail } from '../core/errors.js';
import { checkLimits } from '../core/limits.js';
import type { PatchForm } from '../core/patch.js';
import { type PlanResult, planChange } from '../core/plan.js';
import type { ProposeRequest } from '../core/requests.js';
import { publicCardOf } from '../store/proposals.js';
import type { Credential } from '../store/tokens.js';
import { applyProposal } from './apply.js';
import { appendAudit, proposalAuditFields, withAudit } from './audit.js';
import type { Service } from './context.js';
import { currentDocument, resolveTarget } from './document.js';
import { requireNotFrozen } from './freeze.js';
import { reviewMcpServers, touchesMcpServers } from './mcp.js';
import { markedDocument, redactedDocument, reviewView } from './secrets.js';

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
export type ProposeOptions = {
  /** The proposed document was written by the service itself (a rollback): its secrets are the document's. */
  trusted?: boolean;
};

export function propose(
  service: Service,
  caller: Credential,
  request: ProposeRequest,
  options: ProposeOptions = {},
): ProposeOutcome {
  // SPEC §11: while frozen, agents propose nothing (allowlisted and dry-run proposals too); owners still can.
  requireNotFrozen(service, { kind: 'propose', role: caller.role });
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
  const requestedBy = actorOf(caller, request.sessionKey ?? null);
  let plan: PlanResult;
  try {
    plan = planChange(target.policy, current.value, current.hash, patchForm(request), {
      hashKey: service.hashKey,
      marked: markedDocument(target, current.value, current.hash),
      trusted: options.trusted ?? false,
    });
  } catch (error) {
    if (error instanceof CountersignError && error.details.secretRefusal) {
      recordSecretProbe(service, caller, target.name, requestedBy, error);
      // The refusal's kind is for the audit; the caller learns only the message and path.
      delete error.details.secretRefusal;
    }
    throw error;
  }
  if (plan.kind === 'unchanged') return { httpStatus: 200, body: { status: 'unchanged', hash: current.hash } };
  // Growth is capped for every change, allowlisted ones too: the allowlist bounds what, not how much.
  const targetDocument = `${JSON.stringify(plan.target, null, 2)}\n`;
  checkLimits(target.policy.limits, {
    baseBytes: Buffer.byteLength(current.text),
    targetBytes: Buffer.byteLength(targetDocument),
    changes: plan.changes.length,
  });

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
  if (plan.review === 'mcp' || touchesMcpServers(plan.changes)) {
    // Built from what may be shown, so no secret of the document can reach the review (SPEC §7).
    const redact = target.policy.redactPatterns;
    const shownBase = redactedDocument(target, current.value, current.hash);
    card.review = {
      mcp: reviewMcpServers(reviewView(redact, shownBase), reviewView(redact, plan.shownTarget), {
        changes: plan.changes,
      }),
    };
  }
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

  const publicCard = publicCardOf(card, { changes: plan.publicChanges, operations: plan.publicOperations });
  const record = {
    card,
    publicCard,
    tokenId: caller.id,
    grantExpiresAt: null,
    // No copy of either document (issue 14): the base is kept once by hash, the target rebuilt from the operations.
    documents: { writeOperations: plan.writeOperations, base: { hash: current.hash, text: current.text } },
  };
  withAudit(service, () => {
    service.proposals.insert(record, service.now());
    appendAudit(service, { kind: 'proposal.created', ...proposalAuditFields(target, card), actor: requestedBy });
  });

  if (card.tier === 'allowlisted') {
    const { documents, ...stored } = record;
    const writeOperations = JSON.stringify(documents.writeOperations);
    const applied = applyProposal(service, target, { ...stored, writeOperations }, ['pending'], {
      actor: requestedBy,
      approvedBy: null,
      stepUp: 'none',
      why: 'Every change is on the allowlist, so no owner approval is needed.',
    });
    return { httpStatus: 200, body: { status: 'applied', proposal: applied.proposal, hash: applied.hash } };
  }
  service.events.emit('proposal.created', publicCard);
  return { httpStatus: 202, body: { status: 'pending', proposal: card } };
}

/** Refused attempts are evidence too; losing one must not turn a refusal into a 503. */
function auditRefusal(service: Service, fields: Parameters<typeof appendAudit>[1]): void {
  try {
    withAudit(service, () => appendAudit(service, { ...fields, kind: 'proposal.refused' }));
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    service.log.warn({ err: error }, 'could not record a refused proposal');
  }
}

function recordRefusal(
  service: Service,
  target: string,
  policyHash: string,
  actor: Actor,
  plan: { tier: Card['tier']; refusedPaths: string[]; ruleIds: string[]; baseHash: string; patchHash: string },
): void {
  auditRefusal(service, {
    kind: 'proposal.refused',
    target,
    actor,
    tier: plan.tier,
    ruleIds: plan.ruleIds,
    policyHash,
    baseHash: plan.baseHash,
    patchHash: plan.patchHash,
    paths: plan.refusedPaths,
  });
}

/** Refused secret probes kept per token in the last minute; past this many, further ones are not recorded. */
const probeAuditLimit = 10;
const probeWindowMs = 60_000;
const recentProbes = new Map<string, number[]>();

/**
 * A refused attempt to test or copy a secret is evidence of a hostile agent, so it is audited
 * (which paths, never values) — but at most `probeAuditLimit` a minute per token, so a flood of
 * probes cannot flood the audit log.
 */
function recordSecretProbe(
  service: Service,
  caller: Credential,
  target: string,
  actor: Actor,
  error: CountersignError,
): void {
  const now = service.now().getTime();
  const recent = (recentProbes.get(caller.id) ?? []).filter((at) => now - at < probeWindowMs);
  const recorded = recent.length < probeAuditLimit;
  if (recorded) recent.push(now);
  recentProbes.set(caller.id, recent);
  if (!recorded) return;
  const refusal = String(error.details.secretRefusal);
  auditRefusal(service, {
    kind: 'proposal.refused',
    target,
    actor,
    paths: [error.details.path, error.details.from].filter((path): path is string => typeof path === 'string'),
    reason: `Refused: ${refusal}`,
    details: { refusal },
  });
}
