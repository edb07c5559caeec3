import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffDocuments, innerLeaves, type Leaf } from '../../src/core/diff.js';
import { deepEqual, type Json, type JsonObject } from '../../src/core/json.js';
import type { Path, Segment } from '../../src/core/path.js';
import { formatPath } from '../../src/core/path.js';
import {
  type CompiledPolicy,
  classify,
  compilePolicy,
  PolicyError,
  type Rule,
  type Tier,
  tierRank,
  tiers,
} from '../../src/core/policy.js';
import { fcOptions, referenceMatch } from './arbitraries.js';

const key = (k: string): Segment => ({ key: k });
const byId = (k: string, id: string): Segment => ({ key: k, id });
const byIndex = (k: string, index: number): Segment => ({ key: k, index });

function policyOf(rules: unknown[], extra: Record<string, unknown> = {}): CompiledPolicy {
  return compilePolicy({ version: 1, mode: 'approve', rules, ...extra });
}

// --- generators --------------------------------------------------------------------------

const valuePool: Json[] = ['all', 'off', true, false, 0, null];
/** Scalars only: a leaf whose value is a non-empty array is also classified by what is inside it. */
const valueArb = fc.constantFrom(...valuePool);
/** `when` lists may name any JSON value, compared as JSON. */
const whenValueArb = fc.constantFrom<Json>(...valuePool, ['all'], { mode: 'off' }, []);
const patternArb = fc
  .array(fc.constantFrom('**', '*', 'a', 'b', 'a*', 'l[]', 'l[id=x]', 'sandbox', 'mode', 'm*de'), {
    minLength: 1,
    maxLength: 4,
  })
  .map((parts) => parts.join('.'));
const tierArb = fc.constantFrom(...tiers);
const whenArb = fc.option(
  fc.record(
    {
      to: fc.array(whenValueArb, { maxLength: 3 }),
      from: fc.array(whenValueArb, { maxLength: 3 }),
      toNot: fc.array(whenValueArb, { maxLength: 3 }),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);
const rulesArb = fc
  .array(
    fc.record(
      {
        match: fc.array(patternArb, { minLength: 1, maxLength: 3 }),
        tier: tierArb,
        when: whenArb,
        restart: fc.boolean(),
        review: fc.constant('mcp' as const),
        explain: fc.constantFrom('why', 'because'),
      },
      { requiredKeys: ['match', 'tier'] },
    ),
    { maxLength: 6 },
  )
  .map((rules) =>
    rules.map((rule, index) => {
      const { when, ...rest } = rule;
      return { id: `r${index}`, ...rest, ...(when === undefined ? {} : { when }) } as Rule;
    }),
  );
const policyArb = fc.tuple(rulesArb, tierArb).map(([rules, defaultTier]) => policyOf(rules, { defaultTier }));

const segmentArb: fc.Arbitrary<Segment> = fc.oneof(
  fc.constantFrom('a', 'b', 'ab', 'sandbox', 'mode', 'x.y').map(key),
  fc.constantFrom('x', 'y').map((id) => byId('l', id)),
  fc.nat({ max: 2 }).map((index) => byIndex('l', index)),
);
const pathArb: fc.Arbitrary<Path> = fc.array(segmentArb, { minLength: 1, maxLength: 4 });
const scalarLeafArb: fc.Arbitrary<Leaf> = fc.oneof(
  fc.tuple(pathArb, valueArb).map(([path, after]): Leaf => ({ path, op: 'add', after })),
  fc.tuple(pathArb, valueArb).map(([path, before]): Leaf => ({ path, op: 'remove', before })),
  fc
    .tuple(pathArb, valueArb, valueArb)
    .filter(([, before, after]) => !deepEqual(before, after))
    .map(([path, before, after]): Leaf => ({ path, op: 'replace', before, after })),
);

// --- reference ---------------------------------------------------------------------------

function referenceWhen(rule: Rule, leaf: Leaf): boolean {
  const has = (list: Json[] | undefined, value: Json | undefined) =>
    value !== undefined && (list ?? []).some((item) => deepEqual(item, value));
  if (rule.when?.to && !has(rule.when.to, leaf.after)) return false;
  if (rule.when?.from && !has(rule.when.from, leaf.before)) return false;
  if (rule.when?.toNot && has(rule.when.toNot, leaf.after)) return false;
  return true;
}

function referenceMatching(policy: CompiledPolicy, leaf: Leaf): Rule[] {
  return policy.rules.filter(
    (rule) => rule.match.some((pattern) => referenceMatch(pattern, leaf.path)) && referenceWhen(rule, leaf),
  );
}

function referenceTier(policy: CompiledPolicy, leaf: Leaf): Tier {
  const matching = referenceMatching(policy, leaf);
  if (matching.length === 0) return policy.defaultTier;
  return matching.map((rule) => rule.tier).reduce((a, b) => (tierRank(a) >= tierRank(b) ? a : b));
}

// --- properties --------------------------------------------------------------------------

describe('classify — properties', () => {
  it('tier = the highest tier among matching rules, or defaultTier when none match', () => {
    fc.assert(
      fc.property(policyArb, scalarLeafArb, (policy, leaf) => {
        const result = classify(policy, leaf);
        const matching = referenceMatching(policy, leaf);
        expect(result.tier).toBe(referenceTier(policy, leaf));
        if (matching.length === 0) {
          expect(result.ruleId).toBeNull();
        } else {
          // the first rule (in file order) carrying that tier is named
          const winner = matching.find((rule) => rule.tier === result.tier) as Rule;
          expect(result.ruleId).toBe(winner.id);
          expect(result.explain).toBe(winner.explain ?? `Matched rule "${winner.id}".`);
        }
        expect(result.restart).toBe(matching.some((rule) => rule.restart === true));
        expect(result.review).toBe(matching.some((rule) => rule.review) ? 'mcp' : null);
      }),
      { numRuns: 1000 },
    );
  });

  it('an allowlisted leaf has no matching rule with a higher tier', () => {
    fc.assert(
      fc.property(policyArb, scalarLeafArb, (policy, leaf) => {
        if (classify(policy, leaf).tier !== 'allowlisted') return;
        for (const rule of referenceMatching(policy, leaf)) expect(rule.tier).toBe('allowlisted');
        if (referenceMatching(policy, leaf).length === 0) expect(policy.defaultTier).toBe('allowlisted');
      }),
      { numRuns: 1000 },
    );
  });

  it('does not depend on rule order (except for which equal-tier rule is named)', () => {
    fc.assert(
      fc.property(policyArb, scalarLeafArb, (policy, leaf) => {
        const reversed = policyOf([...policy.rules].reverse(), { defaultTier: policy.defaultTier });
        expect(classify(reversed, leaf).tier).toBe(classify(policy, leaf).tier);
      }),
      fcOptions,
    );
  });

  it('an array change: its own rules (or the default), raised by any rule naming a change inside it', () => {
    const elementArb = fc.oneof(
      valueArb,
      fc.constantFrom<Json>([], ['all']),
      fc.record({ id: fc.constantFrom('x', 'y'), sandbox: fc.record({ mode: valueArb }) }, { requiredKeys: ['id'] }),
      fc.record({ mode: valueArb }),
    );
    const arrayArb = fc.array(elementArb, { maxLength: 3 });
    const leafArb = fc.oneof(
      fc.tuple(pathArb, arrayArb).map(([path, after]): Leaf => ({ path, op: 'add', after })),
      fc.tuple(pathArb, arrayArb).map(([path, before]): Leaf => ({ path, op: 'remove', before })),
      fc
        .tuple(pathArb, arrayArb, arrayArb)
        .filter(([, b, a]) => !deepEqual(b, a))
        .map(([path, before, after]): Leaf => ({ path, op: 'replace', before, after })),
    );
    const max = (a: Tier, b: Tier) => (tierRank(a) >= tierRank(b) ? a : b);
    fc.assert(
      fc.property(policyArb, leafArb, (policy, leaf) => {
        const result = classify(policy, leaf);
        const inside = innerLeaves(leaf).flatMap((inner) => referenceMatching(policy, inner));
        const expected = inside.map((rule) => rule.tier).reduce(max, referenceTier(policy, leaf));
        expect(result.tier).toBe(expected);
        const all = [...referenceMatching(policy, leaf), ...inside];
        expect(result.restart).toBe(all.some((rule) => rule.restart === true));
        // never lower than what the array path alone gets, nor than any rule naming an inner change
        expect(tierRank(result.tier)).toBeGreaterThanOrEqual(tierRank(referenceTier(policy, leaf)));
        for (const rule of inside) expect(tierRank(result.tier)).toBeGreaterThanOrEqual(tierRank(rule.tier));
      }),
      fcOptions,
    );
  });
});

// --- examples ----------------------------------------------------------------------------

describe('classify — when', () => {
  const path = [key('commands'), key('mcp')];
  const rule = (when: Record<string, Json[]>) =>
    policyOf([{ id: 'r', match: ['commands.mcp'], tier: 'dangerous', when }]);

  it('"to" matches the new value and never a removal', () => {
    const policy = rule({ to: [true, null] });
    expect(classify(policy, { path, op: 'replace', before: false, after: true }).tier).toBe('dangerous');
    expect(classify(policy, { path, op: 'add', after: true }).tier).toBe('dangerous');
    expect(classify(policy, { path, op: 'add', after: null }).tier).toBe('dangerous');
    expect(classify(policy, { path, op: 'replace', before: true, after: false }).tier).toBe('protected');
    expect(classify(policy, { path, op: 'remove', before: true }).tier).toBe('protected');
    expect(classify(policy, { path, op: 'remove', before: null }).tier).toBe('protected');
  });

  it('"from" matches the old value and never an add', () => {
    const policy = rule({ from: [false, null] });
    expect(classify(policy, { path, op: 'replace', before: false, after: true }).tier).toBe('dangerous');
    expect(classify(policy, { path, op: 'remove', before: false }).tier).toBe('dangerous');
    expect(classify(policy, { path, op: 'add', after: true }).tier).toBe('protected');
    expect(classify(policy, { path, op: 'add', after: false }).tier).toBe('protected');
  });

  it('"toNot" excludes the listed new values and matches a removal', () => {
    const policy = rule({ toNot: ['all'] });
    expect(classify(policy, { path, op: 'replace', before: 'all', after: 'off' }).tier).toBe('dangerous');
    expect(classify(policy, { path, op: 'replace', before: 'off', after: 'all' }).tier).toBe('protected');
    expect(classify(policy, { path, op: 'remove', before: 'all' }).tier).toBe('dangerous');
    expect(classify(policy, { path, op: 'add', after: 'all' }).tier).toBe('protected');
  });

  it('"to" and "from" together need both; values compare as JSON', () => {
    const policy = rule({ from: [false], to: [{ a: [1] }] });
    expect(classify(policy, { path, op: 'replace', before: false, after: { a: [1] } }).tier).toBe('dangerous');
    expect(classify(policy, { path, op: 'replace', before: true, after: { a: [1] } }).tier).toBe('protected');
    expect(classify(policy, { path, op: 'replace', before: false, after: { a: [2] } }).tier).toBe('protected');
  });

  it('an empty "to" list never matches', () => {
    const policy = rule({ to: [] });
    expect(classify(policy, { path, op: 'add', after: true }).tier).toBe('protected');
  });
});

describe('classify — highest tier wins', () => {
  const policy = policyOf(
    [
      { id: 'tune', match: ['agents.list[].model', 'agents.**'], tier: 'allowlisted' },
      { id: 'mcp', match: ['mcp.servers.**'], tier: 'dangerous', review: 'mcp', restart: true, explain: 'MCP!' },
      { id: 'auth', match: ['gateway.auth.**'], tier: 'blocked' },
      { id: 'main-model', match: ['agents.list[id=main].model'], tier: 'protected' },
    ],
    { defaultTier: 'protected' },
  );

  it('picks the highest tier regardless of rule order', () => {
    const main = {
      path: [key('agents'), byId('list', 'main'), key('model')],
      op: 'replace' as const,
      before: 'a',
      after: 'b',
    };
    const ops = {
      path: [key('agents'), byId('list', 'ops'), key('model')],
      op: 'replace' as const,
      before: 'a',
      after: 'b',
    };
    expect(classify(policy, main)).toMatchObject({ tier: 'protected', ruleId: 'main-model' });
    expect(classify(policy, ops)).toMatchObject({ tier: 'allowlisted', ruleId: 'tune' });
    expect(
      classify(policy, { path: [key('gateway'), key('auth'), key('token')], op: 'add', after: 'x' }),
    ).toMatchObject({
      tier: 'blocked',
      ruleId: 'auth',
      restart: false,
    });
    expect(
      classify(policy, { path: [key('mcp'), key('servers'), key('fs'), key('command')], op: 'add', after: 'x' }),
    ).toEqual({
      tier: 'dangerous',
      ruleId: 'mcp',
      explain: 'MCP!',
      restart: true,
      review: 'mcp',
    });
    expect(classify(policy, { path: [key('other')], op: 'add', after: 1 })).toMatchObject({
      tier: 'protected',
      ruleId: null,
    });
  });
});

describe('classify — dangerous changes hidden in lists that are not id-keyed', () => {
  const policy = policyOf(
    [
      { id: 'tune', match: ['agents.list[].model', 'agents.list'], tier: 'allowlisted' },
      { id: 'sandbox', match: ['agents.list[].sandbox.mode'], tier: 'dangerous', when: { toNot: ['all'] } },
    ],
    { defaultTier: 'allowlisted' },
  );

  it('duplicate ids: sandbox.mode set to "off" in one element is still dangerous', () => {
    const before: JsonObject = {
      agents: {
        list: [
          { id: 'a', model: 'x' },
          { id: 'a', sandbox: { mode: 'all' } },
        ],
      },
    };
    const after: JsonObject = {
      agents: {
        list: [
          { id: 'a', model: 'x' },
          { id: 'a', sandbox: { mode: 'off' } },
        ],
      },
    };
    const { leaves } = diffDocuments(before, after);
    expect(leaves.map((leaf) => formatPath(leaf.path))).toEqual(['agents.list']);
    expect(classify(policy, leaves[0] as Leaf)).toMatchObject({ tier: 'dangerous', ruleId: 'sandbox' });
  });

  it('an id-keyed list made non-id-keyed by adding a duplicate is still dangerous', () => {
    const before = { agents: { list: [{ id: 'a', sandbox: { mode: 'all' } }] } };
    const after = {
      agents: {
        list: [
          { id: 'a', sandbox: { mode: 'all' } },
          { id: 'a', sandbox: { mode: 'off' } },
        ],
      },
    };
    const tiersSeen = diffDocuments(before, after).leaves.map((leaf) => classify(policy, leaf).tier);
    expect(tiersSeen).toContain('dangerous');
  });

  it('an agent without sandbox.mode removed from a duplicate-id list: only the allowlisted array path', () => {
    const before = {
      agents: {
        list: [
          { id: 'a', model: 'x' },
          { id: 'a', model: 'y' },
        ],
      },
    };
    const after = { agents: { list: [{ id: 'a', model: 'x' }] } };
    const [leaf] = diffDocuments(before, after).leaves;
    expect(classify(policy, leaf as Leaf).tier).toBe('allowlisted');
  });

  it('but removing the element that carries sandbox.mode is dangerous (toNot matches a removal)', () => {
    const before: JsonObject = { agents: { list: [{ id: 'a' }, { id: 'a', sandbox: { mode: 'all' } }] } };
    const after: JsonObject = { agents: { list: [{ id: 'a' }] } };
    const [leaf] = diffDocuments(before, after).leaves;
    expect(classify(policy, leaf as Leaf).tier).toBe('dangerous');
  });

  it('an allowlisted list of scalars can change without approval (inner paths no rule names do not fall to the default)', () => {
    const tuning = policyOf([{ id: 'fallbacks', match: ['agents.defaults.model.fallbacks'], tier: 'allowlisted' }], {
      defaultTier: 'protected',
    });
    const at = (fallbacks: Json) => ({ agents: { defaults: { model: { fallbacks } } } });
    for (const [before, after] of [
      [['a'], ['a', 'b']],
      [['a', 'b'], ['b']],
      [[], ['a']],
      [['a'], []],
      [[{ name: 'a' }], [{ name: 'b', extra: [1] }]],
    ] as Array<[Json, Json]>) {
      const { leaves } = diffDocuments(at(before), at(after));
      expect(leaves.map((leaf) => formatPath(leaf.path))).toEqual(['agents.defaults.model.fallbacks']);
      expect(classify(tuning, leaves[0] as Leaf)).toMatchObject({ tier: 'allowlisted', ruleId: 'fallbacks' });
    }
  });

  it('a list no rule names still gets the default, even if a rule names something inside it at a lower tier', () => {
    const [leaf] = diffDocuments(
      { agents: { list: [{ id: 'a' }, { id: 'a', model: 'x' }] } },
      {
        agents: { list: [{ id: 'a' }, { id: 'a', model: 'y' }] },
      },
    ).leaves;
    const tuned = policyOf([{ id: 'model', match: ['agents.list[].model'], tier: 'allowlisted' }], {
      defaultTier: 'protected',
    });
    expect(classify(tuned, leaf as Leaf)).toMatchObject({ tier: 'protected', ruleId: null });
  });

  it('a list of scalars is one leaf classified at the array path', () => {
    const strict = policyOf([{ id: 'args', match: ['mcp.servers.*.args'], tier: 'dangerous' }], {
      defaultTier: 'allowlisted',
    });
    const [leaf] = diffDocuments(
      { mcp: { servers: { s: { args: ['a'] } } } },
      { mcp: { servers: { s: { args: ['a', '--x'] } } } },
    ).leaves;
    expect(classify(strict, leaf as Leaf).tier).toBe('dangerous');
  });
});

describe('compilePolicy', () => {
  it('applies defaults', () => {
    const policy = policyOf([]);
    expect(policy.defaultTier).toBe('protected');
    expect(policy.redact).toEqual([]);
    expect(policy.approval.proposalTtlSeconds).toBe(900);
    expect(policy.approval.surfaces.dangerous).toEqual(['cli', 'web', 'chat-dm']);
  });

  it.each([
    [{ version: 2, mode: 'approve', rules: [] }, 'version'],
    [{ version: 1, mode: 'maybe', rules: [] }, 'mode'],
    [{ version: 1, mode: 'approve', rules: [{ id: 'a', match: ['x'], tier: 'nope' }] }, 'rules[0].tier'],
    [
      {
        version: 1,
        mode: 'approve',
        rules: [
          { id: 'a', match: ['x'], tier: 'blocked' },
          { id: 'b', match: ['a[x]'], tier: 'blocked' },
        ],
      },
      'rules[1].match[0]',
    ],
    [{ version: 1, mode: 'approve', rules: [{ id: 'a', match: [], tier: 'blocked' }] }, 'rules[0].match'],
    [{ version: 1, mode: 'approve', rules: [{ id: 'a b', match: ['x'], tier: 'blocked' }] }, 'rules[0].id'],
    [{ version: 1, mode: 'approve', rules: [{ id: 'a', match: ['x'], tier: 'blocked', extra: 1 }] }, 'rules[0]'],
    [
      { version: 1, mode: 'approve', rules: [{ id: 'a', match: ['x'], tier: 'blocked', when: { is: [1] } }] },
      'rules[0].when',
    ],
    [
      {
        version: 1,
        mode: 'approve',
        rules: [
          { id: 'a', match: ['x'], tier: 'blocked' },
          { id: 'a', match: ['y'], tier: 'blocked' },
        ],
      },
      'rules[1].id',
    ],
    [{ version: 1, mode: 'approve', redact: ['a..b'], rules: [] }, 'redact[0]'],
    [
      { version: 1, mode: 'approve', rules: [], approval: { surfaces: { dangerous: ['sms'] } } },
      'approval.surfaces.dangerous[0]',
    ],
  ])('names the bad field (%#: %s)', (input, field) => {
    let message = '';
    try {
      compilePolicy(input);
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyError);
      message = (error as Error).message;
    }
    expect(message).toContain(field);
  });
});
