import type { AuditKind } from '../../core/audit.js';
import type { Actor, StepUp } from '../../core/card.js';
import { redactArgs } from '../../core/command/secrets.js';
import type { ExecRequest, ExecResolution, ExecStatus } from '../../core/exec/request.js';
import type { Json } from '../../core/json.js';
import { appendAudit } from '../audit.js';
import type { Service, TargetRuntime } from '../context.js';

/**
 * What an exec request's records say, apart from deciding it: its target, its resolution and its
 * audit events. Kept apart from the exec engine (requests.ts, evaluate.ts, policy.ts) because
 * freezing agents (src/service/freeze.ts) denies pending requests with them, and that must not
 * load the shell parser and RE2 into every server (see execRequests in src/http/routes/exec.ts).
 */

export function execTarget(service: Service): TargetRuntime | null {
  for (const target of service.targets.values()) if (target.kind === 'exec-approvals') return target;
  return null;
}

/** `grantTtlSeconds` of the exec target's policy: how long an allowed request may be consumed. */
export function grantTtlSeconds(service: Service): number {
  return execTarget(service)?.policy.approval.grantTtlSeconds ?? 120;
}

export function execResolution(
  service: Service,
  status: ExecStatus,
  reason: string,
  fields: Partial<Omit<ExecResolution, 'status' | 'at' | 'reason'>> = {},
): ExecResolution {
  return {
    status,
    at: service.now().toISOString(),
    decision: null,
    reason,
    by: null,
    stepUp: null,
    pattern: null,
    grantId: null,
    grantExpiresAt: null,
    ...fields,
  };
}

/**
 * What every exec audit event says about its request: which programs (real paths), what matched,
 * the risk and the bound file — never env values, and argv with secret-looking arguments
 * redacted (the request itself shows the owner every argument).
 */
export function execAuditDetails(request: ExecRequest): Record<string, Json> {
  return {
    requestId: request.id,
    agentId: request.agentId,
    planHash: request.planHash,
    argv: request.argv === null ? null : redactArgs(request.argv),
    shellText: request.commandText !== null,
    cwd: request.cwd,
    envNames: request.env.map((entry) => entry.name),
    segments: request.segments.map((segment) => ({
      program: segment.resolvedPath,
      matched: segment.matched,
      inlineEval: segment.inlineEval,
      elevated: segment.elevated,
      destructive: segment.destructive,
    })),
    fileOperand: request.fileOperand ? { path: request.fileOperand.path, sha256: request.fileOperand.sha256 } : null,
    risk: request.risk,
  };
}

export type ExecAudit = {
  kind: AuditKind;
  actor?: Actor | null;
  reason?: string | null;
  stepUp?: StepUp | null;
  ruleIds?: string[];
  details?: Record<string, Json>;
};

export function appendExecAudit(service: Service, request: ExecRequest, audit: ExecAudit): void {
  const target = execTarget(service);
  appendAudit(service, {
    kind: audit.kind,
    target: target?.name ?? null,
    actor: audit.actor ?? null,
    policyHash: target?.policyHash ?? null,
    ruleIds: audit.ruleIds ?? [],
    stepUp: audit.stepUp ?? null,
    reason: audit.reason ?? null,
    details: { ...execAuditDetails(request), ...(audit.details ?? {}) },
  });
}
