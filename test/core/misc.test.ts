import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approvalRequirements, confirmPhraseFor } from '../../src/core/card.js';
import { CountersignError, errorStatus, fail } from '../../src/core/errors.js';
import { canonical, documentHash, fingerprint, hashPattern } from '../../src/core/hash.js';
import { compilePolicy } from '../../src/core/policy.js';
import { documentArb, fcOptions, rng, shuffleIdKeyed } from './arbitraries.js';

const KEY = Buffer.alloc(32, 3);

describe('hash', () => {
  it('is canonical: key order never changes the hash; array order does', () => {
    fc.assert(
      fc.property(documentArb(), fc.integer(), (doc, seed) => {
        const random = rng(seed);
        const reorderKeys = (value: unknown): unknown => {
          if (Array.isArray(value)) return value.map(reorderKeys);
          if (value && typeof value === 'object') {
            const entries = Object.entries(value).sort(() => random() - 0.5);
            return Object.fromEntries(entries.map(([k, v]) => [k, reorderKeys(v)]));
          }
          return value;
        };
        expect(documentHash(KEY, reorderKeys(doc))).toBe(documentHash(KEY, doc));
        expect(documentHash(KEY, doc)).toMatch(hashPattern);
        const shuffled = shuffleIdKeyed(doc, random);
        if (canonical(shuffled) !== canonical(doc))
          expect(documentHash(KEY, shuffled)).not.toBe(documentHash(KEY, doc));
      }),
      fcOptions,
    );
    expect(canonical({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe('{"a":[2,{"c":2,"d":1}],"b":1}');
    expect(() => canonical(undefined)).toThrow(TypeError);
  });

  it('fingerprints tell values apart without revealing them', () => {
    const a = fingerprint(Buffer.from('key'), 'secret-a');
    expect(a).toMatch(/^hmac-sha256:[0-9a-f]{16}$/);
    expect(a).not.toContain('secret');
    expect(fingerprint(Buffer.from('key'), 'secret-a')).toBe(a);
    expect(fingerprint(Buffer.from('key'), 'secret-b')).not.toBe(a);
    expect(fingerprint(Buffer.from('other'), 'secret-a')).not.toBe(a);
  });
});

describe('errors', () => {
  it('carry code, status and details into the response body', () => {
    const error = new CountersignError('stale_base', 'Base moved.', { currentHash: 'sha256:x' });
    expect(error.status).toBe(409);
    expect(error.toBody()).toEqual({ error: { currentHash: 'sha256:x', code: 'stale_base', message: 'Base moved.' } });
    // details cannot override code or message
    expect(new CountersignError('blocked', 'No.', { code: 'x', message: 'y' }).toBody().error).toMatchObject({
      code: 'blocked',
      message: 'No.',
    });
    expect(() => fail('forbidden_key', 'bad')).toThrow(CountersignError);
    expect(errorStatus.audit_unavailable).toBe(503);
  });
});

describe('approvalRequirements', () => {
  const settings = compilePolicy({ version: 1, mode: 'approve', rules: [] }).approval;
  const hash = `hmac-sha256:3f9a2c1b${'0'.repeat(56)}`;

  it('follows the policy defaults', () => {
    expect(confirmPhraseFor(hash)).toBe('apply 3f9a2c1b');
    expect(approvalRequirements(settings, 'dangerous', hash)).toEqual({
      totp: true,
      confirmPhrase: 'apply 3f9a2c1b',
      surfaces: ['cli', 'web', 'chat-dm'],
    });
    expect(approvalRequirements(settings, 'protected', hash)).toEqual({
      totp: false,
      confirmPhrase: null,
      surfaces: ['cli', 'web', 'chat-dm', 'chat-group'],
    });
    expect(approvalRequirements(settings, 'blocked', hash).surfaces).toEqual([]);
    expect(approvalRequirements(settings, 'allowlisted', hash)).toEqual({
      totp: false,
      confirmPhrase: null,
      surfaces: [],
    });
  });

  it('a tier missing from surfaces can be approved from nowhere (fail closed)', () => {
    const custom = compilePolicy({
      version: 1,
      mode: 'approve',
      rules: [],
      approval: { surfaces: { protected: ['cli'] } },
    });
    expect(approvalRequirements(custom.approval, 'dangerous', hash).surfaces).toEqual([]);
  });
});
