// Step-up helpers shared by the TOTP, exec-resolve and web-page tests: a clock a code stays valid
// on, an enrolled owner, and a dangerous config change to approve with a code.
import { expect } from 'vitest';
import { TotpStore } from '../../src/store/totp.js';
import { type Harness, TestClock } from './harness.js';
import { base32 } from './rfc6238.js';

/** In the middle of a 30-second step, so a code computed now is the one the service expects for the whole test step. */
export function midStepClock(): TestClock {
  const now = Date.now();
  return new TestClock(new Date(now - (now % 30_000) + 15_000));
}

/** Enrols the owner's authenticator with `secret` (raw bytes), as `countersign owner totp` would. */
export function enrolOwner(h: Harness, secret: Buffer): void {
  new TotpStore(h.service.db).enroll('owner', base32(secret), h.clock.now());
}

export type DangerousCard = { id: string; patchHash: string; approval: { confirmPhrase: string; totp: boolean } };

/** An agent proposes a dangerous config change over real HTTP; returns what an owner needs to approve it. */
export async function proposeDangerous(
  h: Harness,
  patch: unknown = { commands: { mcp: true } },
): Promise<DangerousCard> {
  const response = await h.http('POST', '/v1/proposals', h.agentToken, { baseHash: h.currentHash(), patch });
  expect(response.status).toBe(202);
  expect(response.body.proposal.tier).toBe('dangerous');
  // The shipped policy asks a code for every dangerous change.
  expect(response.body.proposal.approval.totp).toBe(true);
  return response.body.proposal as DangerousCard;
}

/** Approves `card` over real HTTP with `token`, the typed confirmation and, when given, a code. */
export function approveDangerous(h: Harness, token: string, card: DangerousCard, totp?: string) {
  return h.http('POST', `/v1/proposals/${card.id}/approve`, token, {
    patchHash: card.patchHash,
    confirm: card.approval.confirmPhrase,
    ...(totp === undefined ? {} : { totp }),
  });
}
