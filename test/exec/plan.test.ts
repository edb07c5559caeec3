import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ExecPlan, planHash } from '../../src/core/exec/plan.js';

const KEY = Buffer.alloc(32, 5);

const planArb: fc.Arbitrary<ExecPlan> = fc.record({
  argv: fc.option(fc.array(fc.string(), { minLength: 1, maxLength: 4 }), { nil: null }),
  commandText: fc.option(fc.string(), { nil: null }),
  cwd: fc.string(),
  env: fc.uniqueArray(fc.record({ name: fc.string({ minLength: 1 }), value: fc.string() }), {
    selector: (entry) => entry.name,
    maxLength: 4,
  }),
  agentId: fc.string(),
  sessionKey: fc.string(),
  host: fc.option(fc.string(), { nil: null }),
  elevated: fc.boolean(),
  executables: fc.array(
    fc.record({
      segment: fc.nat(3),
      stage: fc.nat(3),
      resolvedPath: fc.option(fc.string(), { nil: null }),
      sha256: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null }),
    }),
    { maxLength: 3 },
  ),
  fileOperand: fc.option(
    fc.record({ argvIndex: fc.nat(5), path: fc.string(), sha256: fc.stringMatching(/^[0-9a-f]{64}$/) }),
    { nil: null },
  ),
});

describe('planHash', () => {
  it('is keyed, ignores the order env entries came in, and changes with anything else', () => {
    fc.assert(
      fc.property(planArb, fc.string({ minLength: 1 }), (plan, extra) => {
        const hash = planHash(KEY, plan);
        expect(hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
        expect(planHash(KEY, { ...plan, env: [...plan.env].reverse() })).toBe(hash);
        expect(planHash(Buffer.alloc(32, 6), plan)).not.toBe(hash);
        expect(planHash(KEY, { ...plan, cwd: `${plan.cwd}${extra}` })).not.toBe(hash);
        expect(planHash(KEY, { ...plan, sessionKey: `${plan.sessionKey}${extra}` })).not.toBe(hash);
        expect(planHash(KEY, { ...plan, argv: [...(plan.argv ?? []), extra] })).not.toBe(hash);
        if (plan.fileOperand) {
          const edited = {
            ...plan.fileOperand,
            sha256: plan.fileOperand.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0')),
          };
          expect(planHash(KEY, { ...plan, fileOperand: edited })).not.toBe(hash);
        }
      }),
    );
  });
});
