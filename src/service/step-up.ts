import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Card, StepUp } from '../core/card.js';
import { fail } from '../core/errors.js';
import {
  formatRecoveryCode,
  matchingHash,
  normalizeRecoveryCode,
  recoveryCodeBytes,
  recoveryCodeCount,
  recoveryCodeHash,
  totpDigitsPattern,
} from '../core/recovery-codes.js';
import { cooldownApplies, lockedUntil, totpLookbackMs } from '../core/step-up.js';
import type { Credential } from '../store/tokens.js';
import { TotpStore } from '../store/totp.js';
import { appendAudit, withAudit } from './audit.js';
import type { Service, TargetRuntime } from './context.js';
import { actorOf } from './propose.js';

// otplib is needed only when someone approves with a code; loading it lazily keeps start-up lean.
const require = createRequire(import.meta.url);
const otplib = () => require('otplib') as typeof import('otplib');

/** RFC 6238 as authenticator apps do it: SHA-1, 6 digits, 30-second steps, one step of drift either way. */
export const totpParameters = { algorithm: 'sha1', digits: 6, period: 30, epochTolerance: 30 } as const;

/**
 * What an approval asks of step-up: whether a code is needed at all, the tier a cooldown must
 * cover (and that a new code's cooldown will cover), and how long that new cooldown lasts. A
 * config card and an exec request both reduce to this, so one authenticator per owner serves
 * both and a cooldown opened by either counts for the other (SPEC §4, §9).
 */
export type StepUpRequirement = {
  required: boolean;
  tier: 'protected' | 'dangerous';
  cooldownSeconds: number;
};

/** The TOTP part of approving a config card: the target policy's tiers and cooldown. */
export function stepUp(
  service: Service,
  target: TargetRuntime,
  caller: Credential,
  card: Card,
  code: string | undefined,
): StepUp {
  if (!card.approval.totp) return 'none';
  // A card that needs TOTP is protected or dangerous; anything else would be a policy bug, and the
  // strictest tier is the one that cannot let a weaker cooldown through.
  const tier = card.tier === 'protected' ? 'protected' : 'dangerous';
  return stepUpFor(
    service,
    caller,
    { required: true, tier, cooldownSeconds: target.policy.approval.totp.cooldownSeconds },
    code,
  );
}

/**
 * The TOTP part of an approval, in the contract's order (SPEC §4): not enrolled, no code (unless
 * this credential's own cooldown covers the tier), locked, wrong, replayed. An owner without a
 * secret can never pass (fail closed); wrong codes count toward a lock, and the lock ends every
 * cooldown of the owner.
 */
export function stepUpFor(
  service: Service,
  caller: Credential,
  requirement: StepUpRequirement,
  code: string | undefined,
): StepUp {
  if (!requirement.required) return 'none';
  const store = new TotpStore(service.db);
  const owner = store.get(caller.name);
  if (!owner) {
    fail(
      'totp_not_enrolled',
      `This approval needs a TOTP code, and owner "${caller.name}" has no authenticator enrolled.`,
    );
  }
  const now = service.now();
  const locked = lockOf(store, owner.owner, now);
  if (code === undefined) {
    // The cooldown is the credential's, not the owner's: a code typed into a chat DM does not
    // let the owner's CLI token through. A locked owner has no usable cooldown, so a request
    // without a code is just that: `totp_required` (a code sent while locked gets `totp_locked`).
    if (cooldownApplies(store.cooldown(caller.id, owner.owner), requirement.tier, now, locked)) return 'cooldown';
    fail('totp_required', 'This approval needs a code from your authenticator app ("totp").');
  }
  // The lock is checked before the code is, so a locked owner's guesses reveal nothing.
  if (locked) {
    fail('totp_locked', 'Too many wrong codes; TOTP approvals for this owner are locked for a while.', {
      retryAfter: Math.ceil((locked.getTime() - now.getTime()) / 1000),
    });
  }
  if (!totpDigitsPattern.test(code)) return useRecoveryCode(service, store, caller, owner.owner, code, now);

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
    recordFailure(service, store, owner.owner, now);
    fail('totp_invalid', 'That TOTP code is not valid.');
  }
  const until = new Date(now.getTime() + requirement.cooldownSeconds * 1000).toISOString();
  if (!store.accept(owner.owner, result.timeStep, { tokenId: caller.id, tier: requirement.tier, until })) {
    recordFailure(service, store, owner.owner, now);
    fail('totp_replayed', 'That TOTP code was already used; wait for the next one.');
  }
  return 'totp';
}

/**
 * A recovery code in place of an authenticator code. It is spent, with its own audit event, in
 * one transaction committed before the approval is written: an approval can never stand on a
 * code that is still unused, and a crash or a failure after this point (stale base, a lost race
 * for the proposal) costs the owner one code, never the other way round. Single use holds under
 * concurrency because spending is a conditional UPDATE (exactly one of two racing approvals wins).
 *
 * A wrong code and a spent one answer alike (`totp_invalid`) and both count toward the lock, as a
 * wrong authenticator code does: the caller learns nothing about which codes exist. A recovery
 * code opens no cooldown: it is the lost-phone path, the one most worth guarding, so every further
 * approval needs another code (authenticator or recovery).
 */
function useRecoveryCode(
  service: Service,
  store: TotpStore,
  caller: Credential,
  owner: string,
  code: string,
  now: Date,
): StepUp {
  const normalized = normalizeRecoveryCode(code);
  const candidate = normalized === null ? null : recoveryCodeHash(service.fingerprintKey, owner, normalized);
  const match = candidate === null ? null : matchingHash(store.unusedRecoveryHashes(owner), candidate);
  const spent =
    match !== null &&
    withAudit(service, () => {
      if (!store.useRecoveryCode(owner, match, now)) return false;
      appendAudit(service, {
        kind: 'totp.recovery_used',
        actor: actorOf(caller),
        stepUp: 'recovery',
        // How many remain, so the owner knows when to regenerate; never the code or its hash.
        details: { owner, remaining: store.recoveryCodesLeft(owner) },
      });
      return true;
    });
  if (!spent) {
    recordFailure(service, store, owner, now);
    fail('totp_invalid', 'That code is not valid (a recovery code works once).');
  }
  return 'recovery';
}

/** Fresh recovery codes, shown to the owner once; only their hashes are kept. */
function newRecoveryCodes(service: Service, owner: string): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: recoveryCodeCount }, () => formatRecoveryCode(randomBytes(recoveryCodeBytes)));
  const hashes = codes.map((code) =>
    recoveryCodeHash(service.fingerprintKey, owner, normalizeRecoveryCode(code) as string),
  );
  return { codes, hashes };
}

function lockOf(store: TotpStore, owner: string, now: Date): Date | null {
  const failures = store.failuresSince(owner, new Date(now.getTime() - totpLookbackMs)).map((at) => new Date(at));
  return lockedUntil(failures, now);
}

/** A failure that locks the owner ends every cooldown of that owner, on every credential (SPEC §4). */
function recordFailure(service: Service, store: TotpStore, owner: string, now: Date): void {
  service.db.transaction(() => {
    store.recordFailure(owner, now);
    if (lockOf(store, owner, now)) store.endCooldowns(owner);
  })();
}

/**
 * Enrolling (or re-enrolling) an authenticator is audited: it decides who can approve dangerous
 * changes. It also hands out a new set of recovery codes (returned once, stored hashed), which
 * replaces any earlier set.
 */
export function enrollTotp(service: Service, owner: string, secret: string): { recoveryCodes: string[] } {
  const { codes, hashes } = newRecoveryCodes(service, owner);
  withAudit(service, () => {
    new TotpStore(service.db).enroll(owner, secret, service.now(), hashes);
    appendAudit(service, { kind: 'totp.enrolled', details: { owner, recoveryCodes: hashes.length } });
  });
  return { recoveryCodes: codes };
}

/** How many unused recovery codes an enrolled owner has left; null when not enrolled. */
export function recoveryCodesLeft(service: Service, owner: string): number | null {
  const store = new TotpStore(service.db);
  return store.get(owner) ? store.recoveryCodesLeft(owner) : null;
}

/** A new set of recovery codes for an enrolled owner; the old set stops working. Audited. */
export function regenerateRecoveryCodes(service: Service, owner: string): { recoveryCodes: string[] } | null {
  const { codes, hashes } = newRecoveryCodes(service, owner);
  const done = withAudit(service, () => {
    const store = new TotpStore(service.db);
    if (!store.get(owner)) return false;
    store.replaceRecoveryCodes(owner, hashes, service.now());
    appendAudit(service, { kind: 'totp.recovery_regenerated', details: { owner, recoveryCodes: hashes.length } });
    return true;
  });
  return done ? { recoveryCodes: codes } : null;
}

export function disableTotp(service: Service, owner: string): boolean {
  return withAudit(service, () => {
    const removed = new TotpStore(service.db).disable(owner);
    if (removed) appendAudit(service, { kind: 'totp.disabled', details: { owner } });
    return removed;
  });
}
