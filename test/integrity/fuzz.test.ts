import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { installation } from '../support/harness.js';

const routes = [
  ['GET', '/healthz'],
  ['GET', '/v1/config'],
  ['GET', '/v1/config?target=nope'],
  ['POST', '/v1/proposals'],
  ['GET', '/v1/proposals'],
  ['GET', '/v1/proposals?status=bogus'],
  ['GET', '/v1/proposals/:id'],
  ['GET', '/v1/proposals/:id/card?format=markdown'],
  ['POST', '/v1/proposals/:id/approve'],
  ['POST', '/v1/proposals/:id/deny'],
  ['POST', '/v1/proposals/:id/withdraw'],
  ['POST', '/v1/proposals/:id/apply'],
  ['POST', '/v1/proposals/:id/rollback'],
  ['GET', '/v1/audit?after=-1&limit=abc'],
  ['GET', '/v1/audit'],
  ['GET', '/v1/audit/verify'],
  ['DELETE', '/v1/proposals'],
] as const;

const hostileIds = [
  '../../etc/passwd',
  '%2e%2e%2f',
  "1' OR '1'='1",
  '__proto__',
  'constructor',
  'x'.repeat(300),
  '🙂',
  '',
];

/** Values that stress parsers and validators: prototype keys, deep nesting, huge numbers, wrong types. */
const hostileJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constant({ ['__proto__']: { polluted: true } }),
  fc.constant({ constructor: { prototype: { polluted: true } } }),
  fc.constant({ patchHash: 12, totp: ['1'], confirm: { a: 1 } }),
  fc.constant({ baseHash: 'hmac-sha256:'.padEnd(76, 'g'), patch: null }),
  fc.constant({ operations: [{ op: 'move', from: '/gateway', path: '/gateway/inner' }] }),
  fc.constant({ operations: [{ op: 'add', path: '/~1~0/prototype', value: 1 }] }),
  fc.constant({ sessionKey: 'x'.repeat(10_000) }),
  fc
    .integer()
    .map((depth) => JSON.parse(`${'['.repeat((Math.abs(depth) % 200) + 1)}${']'.repeat((Math.abs(depth) % 200) + 1)}`)),
);

describe('fuzzing every route', () => {
  it('random and malformed requests never get a 5xx and never change anything they should not', async () => {
    const h = await installation();
    const originalHash = h.currentHash();
    const pending = (
      await h.request('POST', '/v1/proposals', h.agentToken, {
        baseHash: originalHash,
        patch: { gateway: { port: 1234 } },
      })
    ).json().proposal;
    const tokens = [h.ownerToken, h.agentToken, null, 'cs_owner_forged', 'Bearer', ''];
    const ids = [pending.id, '00000000-0000-0000-0000-000000000000', ...hostileIds];
    const seenStatuses = new Set<number>();
    const appliedHashes: string[] = [];

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.constantFrom(...ids),
        fc.constantFrom(...tokens),
        fc.oneof(
          hostileJson,
          fc.record({ baseHash: fc.constant(originalHash), patch: hostileJson }, { requiredKeys: [] }),
          fc.record({ baseHash: fc.constant(originalHash), operations: fc.array(hostileJson, { maxLength: 3 }) }),
          fc.record(
            { patchHash: fc.constant(pending.patchHash), confirm: fc.string(), totp: fc.string() },
            { requiredKeys: [] },
          ),
          fc.string().map((text) => ({ raw: text })),
        ),
        async ([method, route], id, token, body) => {
          const url = route.replace(':id', encodeURIComponent(id));
          const payload = typeof body === 'object' && body !== null && 'raw' in body ? String(body.raw) : body;
          const response = await h.request(method, url, token, method === 'GET' ? undefined : payload);
          seenStatuses.add(response.statusCode);
          // The fuzzer can legitimately approve the pending protected change (owner token, its
          // patchHash, nothing else required): that, and only that, may change the document.
          const isJson = String(response.headers['content-type']).includes('application/json');
          // (A GET of the proposal once applied also says "applied": it is a read, not an apply.)
          if (method !== 'GET' && response.statusCode === 200 && isJson && response.json().status === 'applied') {
            appliedHashes.push(response.json().hash);
          }
          expect(response.statusCode, `${method} ${url} → ${response.body.slice(0, 200)}`).toBeLessThan(500);
          if (response.statusCode >= 400) {
            const error = response.json().error;
            expect(error.code).toEqual(expect.any(String));
            expect(error.message).toEqual(expect.any(String));
          }
        },
      ),
      { numRuns: 2500 },
    );
    // Legitimate applies the fuzzer happens to make (an allowlisted proposal, then the owner's
    // approval of the pending one, rebased onto it) are allowed; nothing else may change the document.
    expect(appliedHashes.length).toBeLessThanOrEqual(2);
    expect(h.currentHash()).toBe(appliedHashes.at(-1) ?? originalHash);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(h.service.audit.verify().ok).toBe(true);
    expect(h.auditKinds().filter((kind) => kind === 'change.applied')).toHaveLength(appliedHashes.length);
    expect([...seenStatuses].some((status) => status >= 400)).toBe(true);
  }, 120_000);
});
