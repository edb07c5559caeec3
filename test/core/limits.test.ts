import { describe, expect, it } from 'vitest';
import { errorStatus } from '../../src/core/errors.js';
import { checkLimits } from '../../src/core/limits.js';
import { compilePolicy, PolicyError, PolicyLimitsSchema } from '../../src/core/policy.js';
import { errorOf } from '../support/errors.js';

const limits = { maxDocumentBytes: 10_000, maxGrowthBytes: 1_000, maxChanges: 50 };

describe('checkLimits: per-proposal caps from the policy', () => {
  it('lets a change inside every limit through, boundaries included', () => {
    expect(() => checkLimits(limits, { baseBytes: 5_000, targetBytes: 5_100, changes: 3 })).not.toThrow();
    expect(() => checkLimits(limits, { baseBytes: 9_000, targetBytes: 10_000, changes: 50 })).not.toThrow();
    // Shrinking is never growth, even from a document already over the cap.
    expect(() => checkLimits(limits, { baseBytes: 50_000, targetBytes: 9_000, changes: 1 })).not.toThrow();
  });

  it('a document over the cap is 413 too_large, naming the limit and the value', () => {
    const error = errorOf(() => checkLimits(limits, { baseBytes: 9_500, targetBytes: 10_001, changes: 1 }));
    expect(error.status).toBe(413);
    expect(error.toBody().error).toMatchObject({
      code: 'too_large',
      limit: 'maxDocumentBytes',
      max: 10_000,
      actual: 10_001,
      message: expect.stringMatching(/10001 bytes.*at most 10000/),
    });
  });

  it('growth over the cap is 413 too_large with the growth as the value', () => {
    const error = errorOf(() => checkLimits(limits, { baseBytes: 2_000, targetBytes: 3_001, changes: 1 }));
    expect(error.status).toBe(413);
    expect(error.toBody().error).toMatchObject({
      code: 'too_large',
      limit: 'maxGrowthBytes',
      max: 1_000,
      actual: 1_001,
    });
  });

  it('too many changed paths is 422 too_many_changes', () => {
    const error = errorOf(() => checkLimits(limits, { baseBytes: 1, targetBytes: 1, changes: 51 }));
    expect(error.status).toBe(422);
    expect(error.toBody().error).toMatchObject({ code: 'too_many_changes', limit: 'maxChanges', max: 50, actual: 51 });
  });

  it('the codes are registered with their HTTP status', () => {
    expect(errorStatus.too_large).toBe(413);
    expect(errorStatus.too_many_changes).toBe(422);
  });
});

describe('policy limits', () => {
  it('default to caps that still take a 5 MB document and a 10,000-path change', () => {
    const policy = compilePolicy({ version: 1, mode: 'approve', rules: [] });
    expect(policy.limits).toEqual(PolicyLimitsSchema.parse({}));
    expect(policy.limits.maxDocumentBytes).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    expect(policy.limits.maxChanges).toBeGreaterThanOrEqual(10_000);
    const fiveMb = 5 * 1024 * 1024;
    expect(() =>
      checkLimits(policy.limits, { baseBytes: fiveMb, targetBytes: fiveMb + 100, changes: 10_000 }),
    ).not.toThrow();
  });

  it('are policy data: set per policy, bad values refused with the field named', () => {
    const policy = compilePolicy({ version: 1, mode: 'approve', rules: [], limits: { maxChanges: 7 } });
    expect(policy.limits).toMatchObject({ maxChanges: 7, maxGrowthBytes: 1024 * 1024 });
    expect(() => compilePolicy({ version: 1, mode: 'approve', rules: [], limits: { maxChanges: 0 } })).toThrow(
      /limits\.maxChanges/,
    );
    expect(() => compilePolicy({ version: 1, mode: 'approve', rules: [], limits: { maxBytes: 1 } })).toThrow(
      PolicyError,
    );
  });
});
