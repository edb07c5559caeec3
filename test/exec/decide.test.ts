import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Ask,
  type AskFallback,
  type EffectiveExecPolicy,
  evaluate,
  fallback,
  type RequestFacts,
  type Security,
  type SegmentVerdict,
  type TotpScope,
  totpRequired,
} from '../../src/core/exec/decide.js';

const surfaces = { protected: ['cli', 'web', 'chat-dm', 'chat-group'] as const, dangerous: ['cli', 'web'] as const };
const settings = { protected: [...surfaces.protected], dangerous: [...surfaces.dangerous] };

function policy(overrides: Partial<EffectiveExecPolicy> = {}): EffectiveExecPolicy {
  return {
    security: 'allowlist',
    ask: 'on-miss',
    askFallback: 'deny',
    strictInlineEval: true,
    totp: { enabled: true, scope: 'destructive', cooldownSeconds: 300 },
    ...overrides,
  };
}

function segment(overrides: Partial<SegmentVerdict> = {}): SegmentVerdict {
  return {
    argv: ['git', 'status'],
    resolvedPath: '/usr/bin/git',
    matched: '/usr/bin/git',
    inlineEval: false,
    elevated: false,
    destructive: false,
    ...overrides,
  };
}

function facts(segments: SegmentVerdict[], overrides: Partial<RequestFacts> = {}): RequestFacts {
  return { segments, unanalysable: false, elevated: false, standingGrant: null, ...overrides };
}

describe('the decision table of SPEC §9, row by row', () => {
  it('security: deny denies, whatever else holds', () => {
    for (const ask of ['off', 'on-miss', 'always'] as const) {
      expect(evaluate(policy({ security: 'deny', ask }), facts([segment()]), settings).verdict).toEqual({
        outcome: 'deny',
        reason: 'security_deny',
      });
    }
  });

  it('security: full allows (YOLO = full + ask off), unless ask: always', () => {
    const miss = facts([segment({ matched: null })]);
    expect(evaluate(policy({ security: 'full', ask: 'off' }), miss, settings).verdict).toEqual({
      outcome: 'allow',
      reason: 'security_full',
    });
    expect(evaluate(policy({ security: 'full', ask: 'always' }), miss, settings).verdict.outcome).toBe('ask');
  });

  it('strict inline eval is approval-only even under security: full (OpenClaw), and askFallback: full does not run it', () => {
    const inline = facts([segment({ argv: ['python3', '-c', 'print(1)'], matched: null, inlineEval: true })]);
    expect(evaluate(policy({ security: 'full', ask: 'on-miss' }), inline, settings).verdict.outcome).toBe('ask');
    expect(evaluate(policy({ security: 'full', ask: 'off' }), inline, settings).verdict.outcome).toBe('deny');
    expect(evaluate(policy({ security: 'full', strictInlineEval: false }), inline, settings).verdict.outcome).toBe(
      'allow',
    );
    expect(fallback(policy({ askFallback: 'full' }), inline).outcome).toBe('deny');
  });

  it('allowlist: a chain needs every segment allowlisted', () => {
    const both = facts([segment(), segment({ argv: ['ls'], matched: '/usr/bin/ls' })]);
    expect(evaluate(policy(), both, settings).verdict).toMatchObject({ outcome: 'allow', reason: 'allowlist' });
    const one = facts([segment(), segment({ argv: ['curl', 'x'], matched: null })]);
    expect(evaluate(policy(), one, settings).verdict).toEqual({ outcome: 'ask', reason: 'allowlist_miss' });
    expect(evaluate(policy({ ask: 'off' }), one, settings).verdict).toEqual({
      outcome: 'deny',
      reason: 'allowlist_miss',
    });
  });

  it('strict inline eval: an allowlisted interpreter running inline code is not allowlisted', () => {
    const inline = facts([
      segment({ argv: ['python3', '-c', 'print(1)'], matched: '/usr/bin/python3', inlineEval: true }),
    ]);
    expect(evaluate(policy(), inline, settings).verdict.outcome).toBe('ask');
    expect(evaluate(policy({ strictInlineEval: false }), inline, settings).verdict.outcome).toBe('allow');
    expect(evaluate(policy(), inline, settings).allowedDecisions).toEqual(['allow-once', 'deny']);
  });

  it('unanalysable text is never allowlisted, only asked; allow-always is not offered', () => {
    const text = facts([segment()], { unanalysable: true });
    const result = evaluate(policy(), text, settings);
    expect(result.verdict.outcome).toBe('ask');
    expect(result.risk.unanalysable).toBe(true);
    expect(result.allowedDecisions).not.toContain('allow-always');
    expect(evaluate(policy({ ask: 'off' }), text, settings).verdict.outcome).toBe('deny');
  });

  it('ask: always asks even for allowlisted requests (allow-always does not suppress prompts)', () => {
    expect(evaluate(policy({ ask: 'always' }), facts([segment()]), settings).verdict).toEqual({
      outcome: 'ask',
      reason: 'ask_always',
    });
  });

  it('a standing allow-for grant allows what it covers, but not under ask: always or for inline eval', () => {
    const covered = facts([segment({ matched: null })], { standingGrant: 'g1' });
    expect(evaluate(policy(), covered, settings).verdict).toEqual({
      outcome: 'allow',
      reason: 'allow_for',
      grantId: 'g1',
    });
    expect(evaluate(policy({ ask: 'always' }), covered, settings).verdict.outcome).toBe('ask');
    const inline = facts([segment({ matched: null, inlineEval: true })], { standingGrant: 'g1' });
    expect(evaluate(policy(), inline, settings).verdict.outcome).toBe('ask');
  });

  it('askFallback decides when nobody does: deny, allowlist, full', () => {
    const miss = facts([segment({ matched: null })]);
    const hit = facts([segment()]);
    expect(fallback(policy({ askFallback: 'deny' }), hit).outcome).toBe('deny');
    expect(fallback(policy({ askFallback: 'allowlist' }), hit).outcome).toBe('allow');
    expect(fallback(policy({ askFallback: 'allowlist' }), miss).outcome).toBe('deny');
    expect(fallback(policy({ askFallback: 'full' }), miss)).toEqual({ outcome: 'allow', reason: 'ask_fallback' });
  });
});

describe('TOTP scope and surfaces by risk', () => {
  const risk = (elevated: boolean, destructive: boolean) => ({
    elevated,
    destructive,
    inlineEval: false,
    unanalysable: false,
  });

  it('scope widens: elevated ⊂ destructive ⊂ all', () => {
    const totp = (scope: TotpScope) => ({ enabled: true, scope, cooldownSeconds: 0 });
    expect(totpRequired(totp('elevated'), risk(true, false))).toBe(true);
    expect(totpRequired(totp('elevated'), risk(false, true))).toBe(false);
    expect(totpRequired(totp('destructive'), risk(false, true))).toBe(true);
    expect(totpRequired(totp('destructive'), risk(false, false))).toBe(false);
    expect(totpRequired(totp('all'), risk(false, false))).toBe(true);
    expect(totpRequired({ enabled: false, scope: 'all', cooldownSeconds: 0 }, risk(true, true))).toBe(false);
  });

  it('elevated or destructive requests are approved from the dangerous tier surfaces', () => {
    const rm = facts([segment({ argv: ['rm', '-rf', 'x'], matched: null, destructive: true })]);
    expect(evaluate(policy(), rm, settings).approval).toEqual({ totp: true, surfaces: ['cli', 'web'] });
    const sudo = facts([segment({ matched: null })], { elevated: true });
    expect(evaluate(policy(), sudo, settings).approval.surfaces).toEqual(['cli', 'web']);
    const plain = facts([segment({ matched: null })]);
    expect(evaluate(policy(), plain, settings).approval).toEqual({ totp: false, surfaces: settings.protected });
  });
});

describe('properties', () => {
  const securityArb = fc.constantFrom<Security>('deny', 'allowlist', 'full');
  const askArb = fc.constantFrom<Ask>('off', 'on-miss', 'always');
  const fallbackArb = fc.constantFrom<AskFallback>('deny', 'allowlist', 'full');
  const segmentArb = fc.record({
    argv: fc.array(fc.string(), { minLength: 1, maxLength: 3 }),
    resolvedPath: fc.option(fc.string(), { nil: null }),
    matched: fc.option(fc.string(), { nil: null }),
    inlineEval: fc.boolean(),
    elevated: fc.boolean(),
    destructive: fc.boolean(),
  });
  const factsArb = fc.record({
    segments: fc.array(segmentArb, { maxLength: 5 }),
    unanalysable: fc.boolean(),
    elevated: fc.boolean(),
    standingGrant: fc.option(fc.constant('g'), { nil: null }),
  });
  const policyArb = fc.record({
    security: securityArb,
    ask: askArb,
    askFallback: fallbackArb,
    strictInlineEval: fc.boolean(),
    totp: fc.record({
      enabled: fc.boolean(),
      scope: fc.constantFrom<TotpScope>('elevated', 'destructive', 'all'),
      cooldownSeconds: fc.nat(),
    }),
  });

  it('deny never allows; ask: off never asks; ask: always never allows; unanalysable is never allowlisted', () => {
    fc.assert(
      fc.property(policyArb, factsArb, (p, f) => {
        const { verdict, allowedDecisions } = evaluate(p, f, settings);
        if (p.security === 'deny') expect(verdict.outcome).toBe('deny');
        if (p.ask === 'off') expect(verdict.outcome).not.toBe('ask');
        if (p.ask === 'always' && p.security !== 'deny') expect(verdict.outcome).toBe('ask');
        if (f.unanalysable && verdict.outcome === 'allow') expect(verdict.reason).not.toBe('allowlist');
        if (verdict.outcome === 'allow' && verdict.reason === 'allowlist') {
          expect(f.segments.every((s) => s.matched !== null && !(p.strictInlineEval && s.inlineEval))).toBe(true);
        }
        if (f.unanalysable) expect(allowedDecisions).not.toContain('allow-always');
        expect(allowedDecisions).toContain('deny');
      }),
    );
  });
});
