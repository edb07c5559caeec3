import { type Tier, tierRank } from './policy.js';

/** 5 wrong codes within 15 minutes lock that owner's step-up for 15 minutes (SPEC §4). */
export const totpLock = { failures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 } as const;

/** How far back failures matter: a lock can start at most one window ago and last one lock. */
export const totpLookbackMs = totpLock.windowMs + totpLock.lockMs;

export function lockedUntil(failures: readonly Date[], now: Date): Date | null {
  const times = failures.map((at) => at.getTime()).sort((a, b) => a - b);
  let until = 0;
  for (let index = totpLock.failures - 1; index < times.length; index++) {
    const last = times[index] as number;
    const first = times[index - (totpLock.failures - 1)] as number;
    if (last - first <= totpLock.windowMs) until = Math.max(until, last + totpLock.lockMs);
  }
  return until > now.getTime() ? new Date(until) : null;
}

/**
 * A recent code covers later approvals of the same or a lower tier until the cooldown ends. The
 * cooldown passed in must be the approving credential's own (SPEC §4: per credential).
 */
export function cooldownCovers(
  cooldown: { until: string | null; tier: string | null },
  tier: Tier,
  now: Date,
): boolean {
  if (!cooldown.until || !cooldown.tier) return false;
  if (Date.parse(cooldown.until) <= now.getTime()) return false;
  return tierRank(tier) <= tierRank(cooldown.tier as Tier);
}

/**
 * Whether an approval without a code may pass on the credential's cooldown. A locked owner's
 * cooldowns are ended by the lockout; should one survive (a lock reached by failures recorded
 * elsewhere), it is still not usable while the lock lasts.
 */
export function cooldownApplies(
  cooldown: { until: string | null; tier: string | null } | null,
  tier: Tier,
  now: Date,
  locked: Date | null,
): boolean {
  if (cooldown === null || locked !== null) return false;
  return cooldownCovers(cooldown, tier, now);
}
