import { createRequire } from 'node:module';
import type { Card, StepUp } from '../core/card.js';
import { fail } from '../core/errors.js';
import { cooldownCovers, lockedUntil, totpLookbackMs } from '../core/step-up.js';
import type { Credential } from '../store/tokens.js';
import { TotpStore } from '../store/totp.js';
import { appendAudit, withAudit } from './audit.js';
import type { Service, TargetRuntime } from './context.js';

// otplib is needed only when someone approves with a code; loading it lazily keeps start-up lean.
const require = createRequire(import.meta.url);
const otplib = () => require('otplib') as typeof import('otplib');

/** RFC 6238 as authenticator apps do it: SHA-1, 6 digits, 30-second steps, one step of drift either way. */
export const totpParameters = { algorithm: 'sha1', digits: 6, period: 30, epochTolerance: 30 } as const;

/**
 * The TOTP part of an approval. An owner without a secret can never pass (fail closed); a code
 * whose step is not after the last accepted one is a replay; wrong codes count toward a lock.
 */
export function stepUp(
  service: Service,
  target: TargetRuntime,
  caller: Credential,
  card: Card,
  code: string | undefined,
): StepUp {
  if (!card.approval.totp) return 'none';
  const store = new TotpStore(service.db);
  const owner = store.get(caller.name);
  if (!owner) {
    fail(
      'totp_not_enrolled',
      `This change needs a TOTP code, and owner "${caller.name}" has no authenticator enrolled.`,
    );
  }
  const now = service.now();
  if (code === undefined && cooldownCovers({ until: owner.cooldownUntil, tier: owner.cooldownTier }, card.tier, now)) {
    return 'cooldown';
  }
  if (code === undefined) fail('totp_required', 'This change needs a code from your authenticator app ("totp").');
  // The lock is checked before the code is, so a locked owner's guesses reveal nothing.
  const failures = store.failuresSince(owner.owner, new Date(now.getTime() - totpLookbackMs)).map((at) => new Date(at));
  const locked = lockedUntil(failures, now);
  if (locked) {
    fail('totp_locked', 'Too many wrong codes; TOTP approvals for this owner are locked for a while.', {
      retryAfter: Math.ceil((locked.getTime() - now.getTime()) / 1000),
    });
  }

  const result = otplib().verifySync({
    secret: owner.secret,
    token: code,
    algorithm: totpParameters.algorithm,
    digits: totpParameters.digits,
    period: totpParameters.period,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: totpParameters.epochTolerance,
  });
  if (!result.valid || !('timeStep' in result)) {
    store.recordFailure(owner.owner, now);
    fail('totp_invalid', 'That TOTP code is not valid.');
  }
  const cooldownUntil = new Date(now.getTime() + target.policy.approval.totp.cooldownSeconds * 1000).toISOString();
  if (!store.accept(owner.owner, result.timeStep, cooldownUntil, card.tier)) {
    store.recordFailure(owner.owner, now);
    fail('totp_replayed', 'That TOTP code was already used; wait for the next one.');
  }
  return 'totp';
}

/** Enrolling (or re-enrolling) an authenticator is audited: it decides who can approve dangerous changes. */
export function enrollTotp(service: Service, owner: string, secret: string): void {
  withAudit(service, () => {
    new TotpStore(service.db).enroll(owner, secret, service.now());
    appendAudit(service, { kind: 'totp.enrolled', details: { owner } });
  });
}

export function disableTotp(service: Service, owner: string): boolean {
  return withAudit(service, () => {
    const removed = new TotpStore(service.db).disable(owner);
    if (removed) appendAudit(service, { kind: 'totp.disabled', details: { owner } });
    return removed;
  });
}
