import { randomBytes } from 'node:crypto';
import { generateSync, verifySync } from 'otplib';
import { describe, expect, it } from 'vitest';
import { cooldownApplies, cooldownCovers, lockedUntil, totpLock } from '../../src/core/step-up.js';
import { totpParameters } from '../../src/service/step-up.js';
import { TotpStore } from '../../src/store/totp.js';
import { installation } from '../support/harness.js';
import { base32, totpCode } from '../support/rfc6238.js';
import { approveDangerous, enrolOwner, midStepClock, proposeDangerous } from '../support/totp.js';

// RFC 6238 Appendix B, SHA-1 column: secret "12345678901234567890", 8 digits.
const rfcSecret = Buffer.from('12345678901234567890', 'ascii');
const vectors: Array<[number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('RFC 6238 interoperability', () => {
  it('the test implementation reproduces the RFC vectors', () => {
    for (const [seconds, code] of vectors) {
      expect(totpCode(rfcSecret, new Date(seconds * 1000), { digits: 8 })).toBe(code);
    }
  });

  it('otplib, configured as the service configures it, agrees with the RFC vectors', () => {
    const secret = base32(rfcSecret);
    for (const [seconds, code] of vectors) {
      expect(generateSync({ secret, digits: 8, algorithm: 'sha1', period: 30, epoch: seconds })).toBe(code);
      // Authenticator apps show 6 digits: the same truncation, modulo 10^6.
      const sixDigits = code.slice(2);
      const result = verifySync({ secret, token: sixDigits, ...totpParameters, epoch: seconds });
      expect(result.valid, `T=${seconds}`).toBe(true);
    }
  });

  it('accepts one step of drift either way, not two', () => {
    const secret = Buffer.from('0123456789abcdef0123', 'ascii');
    const now = 1_800_000_015;
    for (const [offset, valid] of [
      [-60, false],
      [-30, true],
      [0, true],
      [30, true],
      [60, false],
    ] as const) {
      const token = totpCode(secret, new Date((now + offset) * 1000));
      const result = verifySync({ secret: base32(secret), token, ...totpParameters, epoch: now });
      expect(result.valid, `offset ${offset}`).toBe(valid);
    }
  });
});

describe('lock and cooldown rules', () => {
  const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 0, minutes));

  it('five failures within 15 minutes lock for 15 minutes from the fifth', () => {
    const failures = [0, 2, 4, 6, 8].map(at);
    expect(lockedUntil(failures.slice(0, 4), at(9))).toBeNull();
    expect(lockedUntil(failures, at(9))).toEqual(at(8 + 15));
    expect(lockedUntil(failures, at(23))).toBeNull();
    expect(totpLock.failures).toBe(5);
  });

  it('failures spread over more than 15 minutes do not lock', () => {
    expect(lockedUntil([0, 4, 8, 12, 16].map(at), at(17))).toBeNull();
  });

  it('cooldown covers the same or a lower tier until it ends', () => {
    const cooldown = { until: at(5).toISOString(), tier: 'dangerous' };
    expect(cooldownCovers(cooldown, 'dangerous', at(4))).toBe(true);
    expect(cooldownCovers(cooldown, 'protected', at(4))).toBe(true);
    expect(cooldownCovers(cooldown, 'blocked', at(4))).toBe(false);
    expect(cooldownCovers(cooldown, 'dangerous', at(5))).toBe(false);
    expect(cooldownCovers({ until: at(5).toISOString(), tier: 'protected' }, 'dangerous', at(4))).toBe(false);
  });

  it('no cooldown is usable while the owner is locked, and a missing one covers nothing', () => {
    const cooldown = { until: at(5).toISOString(), tier: 'dangerous' };
    expect(cooldownApplies(cooldown, 'dangerous', at(4), null)).toBe(true);
    expect(cooldownApplies(cooldown, 'dangerous', at(4), at(20))).toBe(false);
    expect(cooldownApplies(null, 'protected', at(4), null)).toBe(false);
  });
});

describe('TOTP cooldown is per credential and ends with a lockout (SPEC §4)', () => {
  async function owned() {
    const clock = midStepClock();
    const h = await installation({ clock });
    const secret = randomBytes(20);
    enrolOwner(h, secret);
    // The same owner, a second credential: a chat DM bridge next to the CLI token.
    const chatDm = h.token({ role: 'owner', name: 'owner', surface: 'chat-dm' });
    return { h, clock, secret, chatDm };
  }

  it('a code entered through chat-dm does not let the cli token approve without one', async () => {
    const { h, clock, secret, chatDm } = await owned();
    const first = await proposeDangerous(h, { commands: { mcp: true } });
    const viaChat = await approveDangerous(h, chatDm, first, totpCode(secret, clock.now()));
    expect(viaChat.status).toBe(200);
    expect(viaChat.body.proposal.resolution.stepUp).toBe('totp');

    clock.advance(30);
    const second = await proposeDangerous(h, { tools: { elevated: { enabled: true } } });
    const before = h.documentText();
    const viaCli = await approveDangerous(h, h.ownerToken, second);
    expect([viaCli.status, viaCli.body.error?.code]).toEqual([403, 'totp_required']);
    expect(h.documentText()).toBe(before);

    // The credential the code came through keeps its cooldown.
    const viaChatAgain = await approveDangerous(h, chatDm, second);
    expect(viaChatAgain.status).toBe(200);
    expect(viaChatAgain.body.proposal.resolution.stepUp).toBe('cooldown');
  });

  it('five wrong codes end the cooldown: an approval inside it is refused with totp_required', async () => {
    const { h, clock, secret, chatDm } = await owned();
    const first = await proposeDangerous(h, { commands: { mcp: true } });
    expect((await approveDangerous(h, h.ownerToken, first, totpCode(secret, clock.now()))).status).toBe(200);

    clock.advance(10);
    const second = await proposeDangerous(h, { tools: { elevated: { enabled: true } } });
    const good = totpCode(secret, clock.now());
    const wrong = good === '000000' ? '111111' : '000000';
    // Someone guessing through the owner's other credential: the lockout is the owner's.
    for (let attempt = 0; attempt < totpLock.failures; attempt++) {
      const guess = await approveDangerous(h, chatDm, second, wrong);
      expect(guess.body.error?.code).toBe('totp_invalid');
    }
    expect((await approveDangerous(h, chatDm, second, good)).body.error?.code).toBe('totp_locked');

    // Still inside the cli token's 300 s cooldown. The lockout ended it, so this request carries
    // no code and no cooldown: 403 `totp_required` — the contract checks for a missing code
    // before the lock (a code sent now would get 429 `totp_locked`).
    const before = h.documentText();
    const insideCooldown = await approveDangerous(h, h.ownerToken, second);
    expect([insideCooldown.status, insideCooldown.body.error?.code]).toEqual([403, 'totp_required']);
    expect((await approveDangerous(h, h.ownerToken, second, good)).body.error?.code).toBe('totp_locked');
    expect(h.documentText()).toBe(before);
    expect(h.service.audit.list().filter((event) => event.kind === 'change.applied')).toHaveLength(1);
  });

  it('while locked, a cooldown that somehow survived is not usable', async () => {
    const { h, clock, secret } = await owned();
    const first = await proposeDangerous(h, { commands: { mcp: true } });
    expect((await approveDangerous(h, h.ownerToken, first, totpCode(secret, clock.now()))).status).toBe(200);
    // Failures recorded without going through an approval (another process, an older version).
    const store = new TotpStore(h.service.db);
    for (let attempt = 0; attempt < totpLock.failures; attempt++) store.recordFailure('owner', clock.now());
    expect(
      store.cooldown(h.service.tokens.list().find((token) => token.surface === 'cli')?.id ?? '', 'owner'),
    ).not.toBeNull();

    const second = await proposeDangerous(h, { tools: { elevated: { enabled: true } } });
    const refused = await approveDangerous(h, h.ownerToken, second);
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'totp_required']);
  });
});

describe('rate limits', () => {
  it('limits proposals per token with 429 and retry-after, without affecting other tokens', async () => {
    const h = await installation({ rateLimit: true });
    h.service.settings.rateLimits.proposalsPerMinute = 3;
    const { buildApp } = await import('../../src/http/app.js');
    const app = await buildApp(h.service, { logRequests: false, rateLimit: true });
    const propose = (token: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/proposals',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: { baseHash: h.currentHash(), patch: { gateway: { port: 18790 } }, dryRun: true },
      });
    for (let attempt = 0; attempt < 3; attempt++) expect((await propose(h.agentToken)).statusCode).toBe(200);
    const limited = await propose(h.agentToken);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await propose(h.ownerToken)).statusCode).toBe(200);
    await app.close();
  });
});
