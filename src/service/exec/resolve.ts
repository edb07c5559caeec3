import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Card, StepUp } from '../../core/card.js';
import { fail } from '../../core/errors.js';
import { type ExecDecision, totpRequired } from '../../core/exec/decide.js';
import { COUNTERSIGN_DEFAULTS } from '../../core/exec/document.js';
import { allowlistKey, type Pin, pinsOf } from '../../core/exec/pin.js';
import type { ExecRequest, ExecResolveBody, ExecStatus } from '../../core/exec/request.js';
import type { ExecGrant } from '../../store/exec-requests.js';
import type { Credential } from '../../store/tokens.js';
import type { Service } from '../context.js';
import { requireNotFrozen } from '../freeze.js';
import { actorOf } from '../propose.js';
import { stepUpFor } from '../step-up.js';
import { type AllowlistWrite, allowlistWrite, checkAllowlistWrite, commitAllowlistWrite } from './allowlist.js';
import { type LoadedExecPolicy, loadExecPolicy } from './policy.js';
import { appendExecAudit } from './records.js';
import { readRecord, resolvePending } from './requests.js';

/** `applied`: the exec-approvals change an `allow-always` made, for the target's reload hook. */
export type ResolveOutcome = { status: ExecStatus; request: ExecRequest; applied?: Card };

/** Elevated or destructive requests are the dangerous tier's (SPEC §9); their cooldowns are too. */
function tierOf(request: ExecRequest): 'protected' | 'dangerous' {
  return request.risk.elevated || request.risk.destructive ? 'dangerous' : 'protected';
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * A request the owner can no longer decide: 410 once its deadline passed (whether or not the
 * fallback has run yet — after it, the decision was the fallback's, not an owner's), 409 once
 * anyone else decided it.
 */
function requirePending(service: Service, request: ExecRequest): void {
  const overdue = request.status === 'pending' && Date.parse(request.expiresAt) <= service.now().getTime();
  if (request.status === 'expired' || overdue || request.resolution?.reason === 'ask_fallback') {
    fail('expired', 'Nobody decided on this command in time; the agent has to ask again.', {
      expiresAt: request.expiresAt,
    });
  }
  if (request.status !== 'pending') {
    fail('not_pending', `This exec request is ${request.status}, not pending.`, { status: request.status });
  }
}

const permanent = (decision: ExecDecision) => decision === 'allow-always' || decision === 'allow-for';

/** What a permanent decision would pin, or a 400 that says why it cannot be made. */
function pinsFor(request: ExecRequest, decision: ExecDecision): Pin[] {
  const pins = pinsOf(request.segments);
  if (!pins.ok) fail('decision_not_allowed', `"${decision}" cannot be used here: ${pins.reason}. Allow once instead.`);
  return pins.pins;
}

function grantDuration(policy: LoadedExecPolicy, body: ExecResolveBody): number | null {
  if (body.decision !== 'allow-for') {
    if (body.durationSeconds !== undefined) {
      fail('invalid_request', '"durationSeconds" only goes with "allow-for".');
    }
    return null;
  }
  const most = policy.ok ? policy.policy.maxAllowForSeconds : COUNTERSIGN_DEFAULTS.maxAllowForSeconds;
  if (body.durationSeconds === undefined) {
    fail('invalid_request', `"allow-for" needs "durationSeconds" (at most ${most}).`, { maxAllowForSeconds: most });
  }
  if (body.durationSeconds > most) {
    fail('invalid_request', `"durationSeconds" is at most ${most} here (defaults.maxAllowForSeconds).`, {
      maxAllowForSeconds: most,
    });
  }
  return body.durationSeconds;
}

/**
 * SPEC §9 resolve, each check in the contract's order with its own code: owner, exists, pending,
 * surface, plan, decision allowed, then step-up (TOTP where the request's risk is in scope,
 * shared with config approvals). Everything that could still refuse the decision — the
 * allow-for duration, the allowlist write's classification and validation — is checked before a
 * code is spent, and nothing is stored unless every check passes (TOTP bookkeeping aside).
 */
export function resolveExecRequest(
  service: Service,
  caller: Credential,
  id: string,
  body: ExecResolveBody,
): ResolveOutcome {
  if (caller.role !== 'owner') fail('forbidden', 'Only an owner can decide on exec requests.');
  // Decides overdue requests by askFallback first, so a late answer meets 410, not a race.
  const record = readRecord(service, caller, id);
  const { request } = record;
  requirePending(service, request);
  // SPEC §11: while frozen an owner may deny an agent's command but not allow it (409 `frozen`).
  if (body.decision !== 'deny') requireNotFrozen(service, { kind: 'exec-allow' }, { requestId: id });
  if (!caller.surface || !request.approval.surfaces.includes(caller.surface)) {
    fail('surface_not_allowed', `This command cannot be decided from the "${caller.surface}" surface.`, {
      allowed: request.approval.surfaces,
    });
  }
  if (!sameText(body.planHash, request.planHash)) {
    fail('plan_mismatch', 'planHash does not match this request; look at the command again before deciding.', {
      planHash: request.planHash,
    });
  }
  const { decision } = body;
  if (permanent(decision) && !request.allowedDecisions.includes(decision)) {
    fail(
      'decision_not_allowed',
      `"${decision}" is not offered for this request: inline code under strictInlineEval, or shell text that cannot be analysed, can only be allowed once.`,
      { allowedDecisions: request.allowedDecisions },
    );
  }

  const policy = loadExecPolicy(service, request.agentId);
  // A broken policy document fails closed: an owner may still deny, never allow.
  if (!policy.ok && decision !== 'deny') fail('invalid_config', policy.reason);
  const durationSeconds = grantDuration(policy, body);
  const tier = tierOf(request);
  const pins = permanent(decision) ? pinsFor(request, decision) : [];
  let write: AllowlistWrite | null = null;
  if (decision === 'allow-always' && policy.ok) {
    const key = allowlistKey(request.agentId);
    if (key === null) {
      fail(
        'decision_not_allowed',
        `Agent "${request.agentId}" has no allowlist of its own in OpenClaw's document (the name stands for main or for every agent); allow once or for a while instead.`,
      );
    }
    write = allowlistWrite(policy.target, key, pins, request.id);
    checkAllowlistWrite(service, caller, write, tier);
  }

  // Denying needs no code: the worst a stolen deny can do is stop a command.
  const used: StepUp =
    decision === 'deny'
      ? 'none'
      : stepUpFor(
          service,
          caller,
          {
            // The request's own scope, widened by the policy as it is now: a scope the owner has
            // since widened applies; one since narrowed does not drop a code the card asked for.
            required: request.approval.totp || (policy.ok && totpRequired(policy.policy.totp, request.risk)),
            tier,
            cooldownSeconds: policy.ok ? policy.policy.totp.cooldownSeconds : COUNTERSIGN_DEFAULTS.totpCooldownSeconds,
          },
          body.totp,
        );

  const now = service.now();
  const approver = actorOf(caller);
  const decided = { decision, surface: caller.surface, approver: caller.name, tier };

  if (decision === 'deny') {
    const reason = body.reason ?? `Denied by owner "${caller.name}".`;
    const denied = resolvePending(service, record, {
      status: 'denied',
      decision,
      reason,
      by: approver,
      stepUp: used,
      audit: { kind: 'exec.denied', actor: approver, reason, stepUp: used, details: { ...decided, by: 'owner' } },
    });
    return { status: denied.status, request: denied };
  }

  const pattern = pins.length > 0 ? pins.map((pin) => pin.pattern).join(' | ') : null;
  // Written first, through the change gate (its own transaction and audit); everything after is
  // synchronous, so no other resolve can come between the write and the transition below.
  const written = write ? commitAllowlistWrite(service, caller, write, used) : null;
  const grants: ExecGrant[] =
    decision === 'allow-for' && durationSeconds !== null
      ? pins.map((pin) => ({
          id: randomUUID(),
          agentId: request.agentId,
          pattern: pin.pattern,
          argPattern: pin.argPattern,
          requestId: request.id,
          createdBy: caller.name,
          createdAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + durationSeconds * 1000).toISOString(),
          revokedAt: null,
        }))
      : [];
  const why = `Allowed by owner "${caller.name}" from ${caller.surface} (${decision}, step-up: ${used}).`;

  const allowed = resolvePending(service, record, {
    status: 'allowed',
    decision,
    reason: 'owner',
    by: approver,
    stepUp: used,
    pattern,
    grantId: grants[0]?.id ?? null,
    audit: {
      kind: 'exec.approved',
      actor: approver,
      reason: why,
      stepUp: used,
      details: {
        ...decided,
        ...(grants.length > 0
          ? { grants: grants.map((grant) => ({ id: grant.id, pattern: grant.pattern, expiresAt: grant.expiresAt })) }
          : {}),
      },
    },
    alsoInTransaction: () => {
      for (const grant of grants) service.execGrants.insert(grant);
      if (write && written) {
        appendExecAudit(service, request, {
          kind: 'exec.allowlist_added',
          actor: approver,
          reason: why,
          stepUp: used,
          // The entries' arguments are in the document; the audit names the entries and the change.
          details: {
            ...decided,
            proposalId: written.proposal.id,
            documentHash: written.hash,
            agentKey: write.agentKey,
            entries: write.entries.map((entry) => ({ id: entry.id, pattern: entry.pattern })),
          },
        });
      }
    },
  });
  return { status: allowed.status, request: allowed, ...(written ? { applied: written.proposal } : {}) };
}
