import { generateSync, verifySync } from 'otplib';
import { describe, expect, it } from 'vitest';
import { cooldownCovers, lockedUntil, totpLock } from '../../src/core/step-up.js';
import { totpParameters } from '../../src/service/step-up.js';
import { installation } from '../support/harness.js';
import { base32, totpCode } from '../support/rfc6238.js';

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
