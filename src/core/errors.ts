/**
 * Every refusal the service can give, with its HTTP status. The codes are part of the
 * contract (SPEC §4); keeping them in one table keeps the CLI's messages and the API in step.
 */
export const errorStatus = {
  invalid_request: 400,
  invalid_patch: 400,
  forbidden_key: 400,
  confirm_required: 400,
  // `allow-always` / `allow-for` where SPEC §9 refuses them (inline eval under strictInlineEval, unanalysable text).
  decision_not_allowed: 400,
  unauthorized: 401,
  forbidden: 403,
  blocked: 403,
  surface_not_allowed: 403,
  // An exec request the policy refused (SPEC §9); the body names the reason and the stored request.
  exec_denied: 403,
  // SPEC §11: an owner froze agent actions. 403 for a proposal; approvals and grant use answer 409
  // (src/core/freeze.ts, FrozenConflict).
  frozen: 403,
  totp_not_enrolled: 403,
  totp_required: 403,
  totp_invalid: 403,
  totp_replayed: 403,
  not_found: 404,
  // Restore (issue 13): `--to SEQ` names no audit event.
  unknown_seq: 404,
  not_pending: 409,
  stale_base: 409,
  patch_mismatch: 409,
  already_applied: 409,
  executable_changed: 409,
  // Exec grants (SPEC §9): the plan, the bound script or the grant's single use no longer hold.
  plan_mismatch: 409,
  file_changed: 409,
  already_consumed: 409,
  rollback_conflict: 409,
  not_applied: 409,
  // Restore (issue 13): the document after that event is known by hash but no copy of it was kept.
  document_not_kept: 409,
  expired: 410,
  grant_expired: 410,
  payload_too_large: 413,
  // A proposal whose resulting document, or its growth, is over the policy's `limits`.
  too_large: 413,
  unsupported_media_type: 415,
  invalid_config: 422,
  too_many_changes: 422,
  rate_limited: 429,
  totp_locked: 429,
  internal: 500,
  // Issue 14: a proposal's document, rebuilt from its base and operations, is not the one its card
  // names (a damaged database). Nothing is written; the proposal stays as it was.
  document_mismatch: 500,
  audit_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class CountersignError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CountersignError';
    this.code = code;
    this.status = errorStatus[code];
    this.details = details;
  }

  toBody(): { error: Record<string, unknown> } {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }
}

export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new CountersignError(code, message, details);
}

/** The installation cannot start as configured (bad settings, policy or schema); the message says which file and field. */
export class SetupError extends Error {
  override name = 'SetupError';
}
