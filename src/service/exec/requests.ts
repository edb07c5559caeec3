import type { Actor, StepUp } from '../../core/card.js';
import { CountersignError, fail } from '../../core/errors.js';
import { type ExecDecision, fallback, type RequestFacts, type Verdict } from '../../core/exec/decide.js';
import type { ExecPlan } from '../../core/exec/plan.js';
import type { ExecConsumeBody, ExecRequest, ExecRequestBody, ExecStatus } from '../../core/exec/request.js';
import type { Surface } from '../../core/policy.js';
import type { ExecRecord } from '../../store/exec-requests.js';
import type { Credential } from '../../store/tokens.js';
import { withAudit } from '../audit.js';
import type { Service } from '../context.js';
import { frozenFor, requireNotFrozen } from '../freeze.js';
import { waitUntilResolved } from '../long-poll.js';
import { actorOf } from '../propose.js';
import { type Evaluated, evaluateRequest, findBoundFile, locateStages, pathOf, stagesOf } from './evaluate.js';
import { loadExecPolicy } from './policy.js';
import { appendExecAudit, type ExecAudit, execResolution, grantTtlSeconds } from './records.js';

/**
 * The life of an exec request (SPEC §9): created (allowed, asked or denied at once), waited on,
 * decided by an owner (src/service/exec/resolve.ts, through `resolvePending`), by the agent's
 * withdrawal or by `askFallback` when nobody decides, and consumed exactly once. Every move is
 * one conditional UPDATE in the same transaction as its audit event; events follow the commit.
 */

function later(service: Service, seconds: number): string {
  return new Date(service.now().getTime() + seconds * 1000).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Owners read every request; an agent only its own, and another agent's is reported missing. */
export function readRecord(service: Service, caller: Credential, id: string): ExecRecord {
  sweepExecRequests(service);
  const record = service.exec.get(id);
  if (!record || (caller.role !== 'owner' && record.request.agentId !== caller.agentId)) {
    fail('not_found', `There is no exec request ${id}.`);
  }
  return record;
}

export function listExecRequests(service: Service, caller: Credential, filter: { status?: ExecStatus }): ExecRequest[] {
  sweepExecRequests(service);
  if (caller.role !== 'owner' && caller.agentId === null) return [];
  const scoped = caller.role === 'owner' ? filter : { ...filter, agentId: caller.agentId ?? '' };
  return service.exec.list(scoped).map((record) => record.request);
}

/**
 * `GET …/:id?wait=S`: answers at once unless the request is pending; then as soon as it is
 * resolved (an `exec.resolved` event), its owner deadline passes (the fallback then decides), the
 * client goes away, or `wait` seconds run out — by timers and events, never by polling.
 */
export async function getExecRequest(
  service: Service,
  caller: Credential,
  id: string,
  waitSeconds = 0,
  signal?: AbortSignal,
): Promise<ExecRequest> {
  const first = readRecord(service, caller, id).request;
  if (waitSeconds <= 0 || first.status !== 'pending' || signal?.aborted) return first;
  await waitUntilResolved(service, 'exec.resolved', id, waitSeconds, first.expiresAt, signal);
  return readRecord(service, caller, id).request;
}

// ---------------------------------------------------------------------------------------------
// Moving out of pending

export type PendingResolution = {
  status: 'allowed' | 'denied';
  decision: ExecDecision | null;
  /** In the audit's words: `owner`, `withdrawn`, `ask_fallback`, … */
  reason: string;
  by: Actor | null;
  stepUp?: StepUp | null;
  pattern?: string | null;
  grantId?: string | null;
  audit: ExecAudit;
  /** More writes that must commit with this one (an allowlist write's record, a standing grant). */
  alsoInTransaction?: () => void;
};

/**
 * Moves a pending request to allowed or denied: one conditional UPDATE, its audit event and
 * `also` in one transaction (409 `not_pending` if someone else decided first), then
 * `exec.resolved`. An allowed request may be consumed until `now + grantTtlSeconds`. For the
 * owner's resolve (src/service/exec/resolve.ts), the agent's withdrawal and the fallback.
 */
export function resolvePending(service: Service, record: ExecRecord, outcome: PendingResolution): ExecRequest {
  const { id } = record.request;
  const grantExpiresAt = outcome.status === 'allowed' ? later(service, grantTtlSeconds(service)) : null;
  const resolution = execResolution(service, outcome.status, outcome.reason, {
    decision: outcome.decision,
    by: outcome.by,
    stepUp: outcome.stepUp ?? null,
    pattern: outcome.pattern ?? null,
    grantId: outcome.grantId ?? null,
    grantExpiresAt,
  });
  withAudit(service, () => {
    const moved = service.exec.transition(id, ['pending'], outcome.status, resolution, service.now(), grantExpiresAt);
    if (!moved) fail('not_pending', 'This exec request was decided just now by someone else.');
    outcome.alsoInTransaction?.();
    appendExecAudit(service, record.request, {
      ...outcome.audit,
      details: { ...(outcome.audit.details ?? {}), status: outcome.status, grantExpiresAt },
    });
  });
  const updated = (service.exec.get(id) as ExecRecord).request;
  service.events.emit('exec.resolved', updated);
  return updated;
}

/** What the stored request says about itself, for `askFallback`'s "allowed only if allowlisted". */
function factsOf(request: ExecRequest): RequestFacts {
  return {
    segments: request.segments,
    unanalysable: request.risk.unanalysable,
    elevated: request.risk.elevated,
    standingGrant: null,
  };
}

/** `askFallback` under the agent's current policy; an unreadable policy falls back to deny. */
function fallbackFor(service: Service, request: ExecRequest): 'allow' | 'deny' {
  // SPEC §11: nothing is allowed while frozen, by the fallback either.
  if (frozenFor(service, { kind: 'exec-allow' })) return 'deny';
  const loaded = loadExecPolicy(service, request.agentId);
  return loaded.ok ? fallback(loaded.policy, factsOf(request)).outcome : 'deny';
}

/**
 * Nobody decided before the owner deadline: recorded as `exec.expired`, then `askFallback`
 * decides, recorded as `exec.fallback` (SPEC §9). Denied by the fallback, the request is
 * `expired`; allowed, it is `allowed` with a fresh consume window.
 */
function fallbackAfterTimeout(service: Service, record: ExecRecord): boolean {
  const { request } = record;
  const outcome = fallbackFor(service, request);
  const status: ExecStatus = outcome === 'allow' ? 'allowed' : 'expired';
  const grantExpiresAt = outcome === 'allow' ? later(service, grantTtlSeconds(service)) : null;
  const resolution = execResolution(service, status, 'ask_fallback', { grantExpiresAt });
  const moved = withAudit(service, () => {
    if (!service.exec.transition(request.id, ['pending'], status, resolution, service.now(), grantExpiresAt)) {
      return false;
    }
    appendExecAudit(service, request, {
      kind: 'exec.expired',
      reason: 'Nobody decided before the deadline.',
      details: { expiresAt: request.expiresAt },
    });
    appendExecAudit(service, request, {
      kind: 'exec.fallback',
      reason: `askFallback decided: ${outcome}.`,
      details: { outcome, status, why: 'timeout', grantExpiresAt },
    });
    return true;
  });
  if (moved) service.events.emit('exec.resolved', (service.exec.get(request.id) as ExecRecord).request);
  return moved;
}

/**
 * Decides every pending request past its owner deadline by `askFallback`. Run lazily before
 * every read and decision, and by `serve`'s periodic sweep; never throws.
 */
export function sweepExecRequests(service: Service): number {
  let decided = 0;
  try {
    for (const id of service.exec.overdue(service.now())) {
      const record = service.exec.get(id);
      if (record && fallbackAfterTimeout(service, record)) decided += 1;
    }
  } catch (error) {
    service.log.warn({ err: error }, 'could not decide overdue exec requests');
  }
  return decided;
}

// ---------------------------------------------------------------------------------------------
// Creating

export type CreateOutcome =
  | { httpStatus: 200; body: { decision: 'allow'; request: ExecRequest; grant: { expiresAt: string } | null } }
  | { httpStatus: 202; body: { decision: 'ask'; request: ExecRequest } };

/** Whether some live owner credential is on a surface allowed to approve this request. */
export function ownerCouldApprove(service: Service, surfaces: readonly Surface[]): boolean {
  return service.tokens
    .list()
    .some(
      (credential) =>
        credential.role === 'owner' &&
        credential.revokedAt === null &&
        credential.surface !== null &&
        surfaces.includes(credential.surface),
    );
}

function denial(request: ExecRequest, evaluated: Evaluated, dryRun: boolean): CountersignError {
  const { verdict } = evaluated.evaluation;
  const detail =
    verdict.outcome === 'deny' && verdict.detail && request.reason !== 'frozen' ? ` ${verdict.detail}` : '';
  const why: Record<string, string> = {
    security_deny: 'The exec policy denies every command for this agent (security: deny).',
    allowlist_miss: 'No allowlist pattern covers this command, and the policy does not ask (ask: off).',
    policy_invalid: 'The exec policy cannot be used, so every command is denied.',
    ask_fallback: 'No owner can approve this command, and askFallback denies it.',
    frozen: 'countersign is frozen: an owner stopped every agent action; nothing runs until an owner unfreezes.',
  };
  return new CountersignError('exec_denied', `${why[request.reason] ?? 'Denied.'}${detail}`, {
    reason: request.reason,
    requestId: dryRun ? null : request.id,
    ...(dryRun ? { dryRun: true } : {}),
  });
}

/**
 * `POST /v1/exec/requests` (SPEC §9): allowed (200, with the consume window), asked (202, pending
 * until `timeoutSeconds`), or denied (stored, then 403 `exec_denied` naming the reason and the
 * request). `dryRun` answers the same without storing or auditing anything.
 */
export function createExecRequest(service: Service, caller: Credential, body: ExecRequestBody): CreateOutcome {
  const evaluated = evaluateRequest(service, caller, body);
  // SPEC §11: while frozen every request is denied, whatever the policy, allowlist or grants say
  // (stored and audited like any denial, reason `frozen`).
  const verdict: Verdict = frozenFor(service, { kind: 'exec-request' })
    ? { outcome: 'deny', reason: 'frozen' }
    : evaluated.evaluation.verdict;
  const { loaded } = evaluated;
  const now = service.now();
  const actor = actorOf(caller, body.sessionKey);
  let request: ExecRequest = evaluated.request;
  let outcome: 'allow' | 'ask' | 'deny' = verdict.outcome;
  let reason: string = verdict.reason;
  let noOwner = false;
  if (outcome === 'ask' && !ownerCouldApprove(service, request.approval.surfaces)) {
    noOwner = true;
    outcome = loaded.ok ? fallback(loaded.policy, evaluated.facts).outcome : 'deny';
    reason = 'ask_fallback';
  }
  const grantExpiresAt = outcome === 'allow' ? later(service, grantTtlSeconds(service)) : null;
  const timeout = loaded.ok ? loaded.policy.timeoutSeconds : 0;
  const status: ExecStatus = outcome === 'allow' ? 'allowed' : outcome === 'deny' ? 'denied' : 'pending';
  request = {
    ...request,
    status,
    reason,
    expiresAt: outcome === 'ask' ? later(service, timeout) : (grantExpiresAt ?? now.toISOString()),
    resolution:
      outcome === 'ask'
        ? null
        : execResolution(service, status, reason, {
            pattern: verdict.outcome === 'allow' ? (verdict.pattern ?? null) : null,
            grantId: verdict.outcome === 'allow' ? (verdict.grantId ?? null) : null,
            grantExpiresAt,
          }),
  };

  if (body.dryRun) {
    if (outcome === 'deny') throw denial(request, evaluated, true);
    return outcome === 'allow'
      ? { httpStatus: 200, body: { decision: 'allow', request, grant: null } }
      : { httpStatus: 202, body: { decision: 'ask', request } };
  }

  const ruleIds = evaluated.rules.map((rule) => rule.ruleId);
  const decidedBy = {
    documentHash: loaded.ok ? loaded.hash : null,
    policySources: loaded.ok ? loaded.policy.sources : null,
    destructiveRules: evaluated.rules.map((rule) => ({ ruleId: rule.ruleId, explain: rule.explain })),
  };
  withAudit(service, () => {
    service.exec.insert({ request, plan: evaluated.plan, tokenId: caller.id, grantExpiresAt }, now);
    appendExecAudit(service, request, {
      kind: 'exec.requested',
      actor,
      reason: verdict.reason,
      ruleIds,
      details: {
        ...decidedBy,
        verdict: verdict.outcome,
        ...(verdict.outcome === 'deny' && verdict.detail ? { detail: verdict.detail } : {}),
      },
    });
    if (noOwner) {
      appendExecAudit(service, request, {
        kind: 'exec.fallback',
        reason: `No owner credential can approve from ${request.approval.surfaces.join(', ') || 'any surface'}; askFallback decided: ${outcome}.`,
        ruleIds,
        details: { outcome, status, why: 'no_owner', grantExpiresAt },
      });
    } else if (outcome === 'allow') {
      appendExecAudit(service, request, {
        kind: 'exec.allowed',
        actor,
        reason: verdict.reason,
        ruleIds,
        details: {
          pattern: verdict.outcome === 'allow' ? (verdict.pattern ?? null) : null,
          grantId: verdict.outcome === 'allow' ? (verdict.grantId ?? null) : null,
          grantExpiresAt,
        },
      });
    } else if (outcome === 'deny') {
      appendExecAudit(service, request, {
        kind: 'exec.denied',
        actor,
        reason: verdict.reason,
        ruleIds,
        details: verdict.outcome === 'deny' && verdict.detail ? { detail: verdict.detail } : {},
      });
    }
  });
  if (outcome === 'ask') service.events.emit('exec.requested', request);
  if (outcome === 'deny') throw denial(request, evaluated, false);
  if (outcome === 'allow') {
    return { httpStatus: 200, body: { decision: 'allow', request, grant: { expiresAt: grantExpiresAt as string } } };
  }
  return { httpStatus: 202, body: { decision: 'ask', request } };
}

// ---------------------------------------------------------------------------------------------
// The agent's side

/** The requesting agent takes back its pending request: it becomes `denied`, reason `withdrawn`. */
export function withdrawExecRequest(service: Service, caller: Credential, id: string): ExecRequest {
  const record = readRecord(service, caller, id);
  if (caller.role !== 'agent') fail('forbidden', 'Only the requesting agent can withdraw an exec request.');
  if (record.request.status !== 'pending') {
    fail('not_pending', `This exec request is ${record.request.status}, not pending.`, {
      status: record.request.status,
    });
  }
  return resolvePending(service, record, {
    status: 'denied',
    decision: null,
    reason: 'withdrawn',
    by: actorOf(caller, record.request.sessionKey),
    audit: { kind: 'exec.denied', actor: actorOf(caller, record.request.sessionKey), reason: 'withdrawn' },
  });
}

/** What of the plan no longer holds on disk: the bound file, then the executables. */
function driftOf(plan: ExecPlan): 'file_changed' | 'executable_changed' | null {
  const { stages } = stagesOf(plan);
  if (plan.fileOperand !== null) {
    const bound = findBoundFile(stages, plan.cwd);
    if (
      bound.kind !== 'ok' ||
      bound.operand.path !== plan.fileOperand.path ||
      bound.operand.sha256 !== plan.fileOperand.sha256 ||
      bound.operand.argvIndex !== plan.fileOperand.argvIndex
    ) {
      return 'file_changed';
    }
  }
  const now = locateStages(stages, plan.cwd, pathOf(plan.env));
  if (now.length !== plan.executables.length) return 'executable_changed';
  const changed = now.some(({ executable }, index) => {
    const then = plan.executables[index];
    return then === undefined || then.resolvedPath !== executable.resolvedPath || then.sha256 !== executable.sha256;
  });
  return changed ? 'executable_changed' : null;
}

/**
 * SPEC §9 consume, each check in the contract's order with its own code; exactly once under
 * concurrent consumers (one conditional UPDATE, in the transaction that records it).
 */
export function consumeExecRequest(
  service: Service,
  caller: Credential,
  id: string,
  body: ExecConsumeBody,
): { run: true; plan: ExecPlan } {
  sweepExecRequests(service);
  const record = service.exec.get(id);
  if (!record) fail('not_found', `There is no exec request ${id}.`);
  const { request, plan } = record;
  if (caller.role !== 'agent' || caller.agentId !== request.agentId || body.sessionKey !== request.sessionKey) {
    fail('forbidden', 'Only the requesting agent, in the same session, can run this request.');
  }
  // SPEC §11: nothing runs while frozen (a freeze also voids allowed requests for good).
  requireNotFrozen(service, { kind: 'exec-consume' }, { requestId: id });
  if (body.planHash !== request.planHash) {
    fail('plan_mismatch', 'planHash does not match this request; run exactly the plan that was approved.', {
      planHash: request.planHash,
    });
  }
  if (record.grantExpiresAt === null) {
    fail('not_pending', `This exec request is ${request.status}; nothing may run.`, { status: request.status });
  }
  const drift = driftOf(plan);
  if (drift === 'file_changed') {
    fail('file_changed', 'The script this request runs changed since it was requested; nothing ran. Ask again.', {
      path: plan.fileOperand?.path ?? null,
    });
  }
  if (drift === 'executable_changed') {
    fail('executable_changed', 'A program this request runs changed since it was requested; nothing ran. Ask again.');
  }
  if (service.now().getTime() >= Date.parse(record.grantExpiresAt)) {
    fail('grant_expired', 'The time to run this request has passed; ask again.', {
      expiredAt: record.grantExpiresAt,
    });
  }
  if (request.status === 'consumed') fail('already_consumed', 'This request has already been run once.');
  withAudit(service, () => {
    if (!service.exec.transition(id, ['allowed'], 'consumed', null, service.now())) {
      const now = service.exec.get(id);
      if (now?.request.status === 'consumed') fail('already_consumed', 'This request has already been run once.');
      fail('not_pending', `This exec request is ${now?.request.status ?? 'gone'}; nothing may run.`);
    }
    appendExecAudit(service, request, {
      kind: 'exec.consumed',
      actor: actorOf(caller, body.sessionKey),
      reason: request.resolution?.reason ?? null,
      details: { decision: request.resolution?.decision ?? null, grantId: request.resolution?.grantId ?? null },
    });
  });
  return { run: true, plan };
}
