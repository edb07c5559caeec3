import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Leaf } from '../../src/core/diff.js';
import type { Json, JsonObject } from '../../src/core/json.js';
import { parsePath } from '../../src/core/path.js';
import { planChange } from '../../src/core/plan.js';
import { classify, compilePolicy, PolicyError } from '../../src/core/policy.js';
import { loadPolicy } from '../../src/service/context.js';
import { fixture, shippedPolicy } from '../support/harness.js';

const { policy } = loadPolicy(shippedPolicy);
const schema = fixture('openclaw.schema.json') as JsonObject;
const KEY = Buffer.alloc(32, 7);
const BASE_HASH = `hmac-sha256:${'b'.repeat(64)}`;

const leaf = (path: string, after: Json | undefined, before?: Json): Leaf => {
  const segments = parsePath(path);
  if (after === undefined) return { path: segments, op: 'remove', before: before ?? null };
  return before === undefined ? { path: segments, op: 'add', after } : { path: segments, op: 'replace', before, after };
};
const tierOf = (path: string, after: Json | undefined, before?: Json) =>
  classify(policy, leaf(path, after, before)).tier;

describe('when.toSchema: a rule can require the shape of the new value', () => {
  const shaped = compilePolicy({
    version: 1,
    mode: 'approve',
    rules: [
      { id: 'name', match: ['a.name'], tier: 'allowlisted', when: { toSchema: { type: 'string', maxLength: 5 } } },
      {
        id: 'list',
        match: ['a.list'],
        tier: 'allowlisted',
        when: { toSchema: { type: 'array', items: { type: 'string' }, maxItems: 2 } },
      },
    ],
  });
  const decide = (path: string, after: Json | undefined, before?: Json) =>
    classify(shaped, leaf(path, after, before)).tier;

  it('matches only values of that shape', () => {
    expect(decide('a.name', 'short')).toBe('allowlisted');
    expect(decide('a.name', 'too long')).toBe('protected');
    expect(decide('a.name', { nested: 'x' })).toBe('protected');
    expect(decide('a.name', 5)).toBe('protected');
    expect(decide('a.list', ['x', 'y'])).toBe('allowlisted');
    expect(decide('a.list', ['x', 'y', 'z'])).toBe('protected');
    expect(decide('a.list', [1])).toBe('protected');
  });

  it('a removal leaves nothing of the wrong shape behind, so it passes', () => {
    expect(decide('a.name', undefined, 'x')).toBe('allowlisted');
  });

  it('a keyword the shape checker does not know stops start-up, with the field named', () => {
    for (const toSchema of [{ type: 'string', maxlength: 5 }, { type: 'string', format: 'uri' }, { $ref: '#/x' }]) {
      const bad = {
        version: 1,
        mode: 'approve',
        rules: [{ id: 'x', match: ['a'], tier: 'allowlisted', when: { toSchema } }],
      };
      expect(() => compilePolicy(bad)).toThrow(PolicyError);
      expect(() => compilePolicy(bad)).toThrow(/rules\[0\]\.when\.toSchema|rules\.0\.when\.toSchema/);
    }
    const nested = { type: 'array', items: { type: 'string', maxItem: 3 } };
    expect(() =>
      compilePolicy({
        version: 1,
        mode: 'approve',
        rules: [{ id: 'x', match: ['a'], tier: 'allowlisted', when: { toSchema: nested } }],
      }),
    ).toThrow(/maxItem/);
    expect(() =>
      compilePolicy({
        version: 1,
        mode: 'approve',
        rules: [{ id: 'x', match: ['a'], tier: 'allowlisted', when: { toSchema: { type: 'strin' } } }],
      }),
    ).toThrow(/strin/);
  });
});

/** Every path in the schema whose last key is `key`, `*` standing for any map key and `[]` for an array element. */
function schemaPaths(key: string): string[][] {
  const found = new Set<string>();
  const resolve = (node: unknown, roots: JsonObject[]): JsonObject | undefined => {
    let current = node as JsonObject | undefined;
    for (let hops = 0; current && typeof current.$ref === 'string' && hops < 10; hops++) {
      const pointer = (current.$ref as string).replace(/^#\//, '').split('/');
      const target = [...roots]
        .reverse()
        .map((root) => pointer.reduce<unknown>((value, part) => (value as JsonObject | undefined)?.[part], root))
        .find((value) => value !== undefined);
      current = target as JsonObject | undefined;
    }
    return current;
  };
  const walk = (raw: unknown, path: string[], roots: JsonObject[]): void => {
    if (path.length > 12 || typeof raw !== 'object' || raw === null) return;
    const scope = (raw as JsonObject).$defs ? [...roots, raw as JsonObject] : roots;
    const node = resolve(raw, scope);
    if (!node) return;
    for (const keyword of ['anyOf', 'oneOf', 'allOf']) {
      for (const option of (node[keyword] as Json[] | undefined) ?? []) walk(option, path, scope);
    }
    for (const [name, value] of Object.entries((node.properties as JsonObject | undefined) ?? {})) {
      if (name === key) found.add(JSON.stringify([...path, name]));
      walk(value, [...path, name], scope);
    }
    if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, [...path, '*'], scope);
    if (typeof node.items === 'object') walk(node.items, [...path, '[]'], scope);
  };
  walk(schema, [], [schema]);
  return [...found].map((text) => JSON.parse(text) as string[]);
}

describe('the shipped allowlist admits only the shapes OpenClaw accepts (issue 10 item 6)', () => {
  const allowlisted = policy.rules.filter((rule) => rule.tier === 'allowlisted');

  it('no allowlisted pattern uses `**`: a `**` lets an agent invent keys without end', () => {
    for (const rule of allowlisted) for (const pattern of rule.match) expect(pattern, rule.id).not.toContain('**');
  });

  it('every allowlisted rule bounds the shape of the value it lets through', () => {
    for (const rule of allowlisted) expect(rule.when?.toSchema, rule.id).toBeDefined();
  });

  it('every `*` or `[]` in an allowlisted pattern is an identity, so new keys there need an owner', () => {
    const identities = new Set(policy.identities);
    for (const rule of allowlisted) {
      for (const pattern of rule.match) {
        const segments = pattern.split('.');
        segments.forEach((segment, index) => {
          if (segment !== '*' && !segment.endsWith('[]')) return;
          const prefix = segments.slice(0, index + 1).join('.');
          expect(identities.has(prefix), `${rule.id}: ${pattern} (${prefix})`).toBe(true);
        });
      }
    }
  });

  it('requireMention is agent-tunable at every place the 2026.9.6 schema has it, as a boolean', () => {
    const places = schemaPaths('requireMention');
    expect(places.length).toBe(55);
    for (const place of places) {
      const path = place.map((segment) => (segment === '*' ? 'x' : segment)).join('.');
      expect(tierOf(path, true, false), path).toBe('allowlisted');
      expect(tierOf(path, 'yes', false), path).toBe('protected');
    }
  });

  it('an agent model is a string or { primary, fallbacks[] }, in both agent forms', () => {
    for (const agent of ['agents.entries.main', 'agents.list[id=main]']) {
      expect(tierOf(`${agent}.model`, 'openai/gpt-5', 'anthropic/claude-sonnet-4-6')).toBe('allowlisted');
      expect(tierOf(`${agent}.model.primary`, 'openai/gpt-5')).toBe('allowlisted');
      expect(tierOf(`${agent}.model.fallbacks`, ['openai/gpt-5', 'anthropic/claude-opus-4-6'])).toBe('allowlisted');
      expect(tierOf(`${agent}.model`, undefined, 'openai/gpt-5')).toBe('allowlisted');
      expect(tierOf(`${agent}.model.k0`, 'x')).toBe('protected');
      expect(tierOf(`${agent}.model.primary.deeper`, 'x')).toBe('protected');
      expect(tierOf(`${agent}.model`, ['a'])).toBe('protected');
    }
    // The default model of every agent stays the owner's (OpenClaw's guard agrees).
    expect(tierOf('agents.defaults.model', 'openai/gpt-5', 'anthropic/claude-sonnet-4-6')).toBe('protected');
  });

  it('property: whatever an agent writes as its model, it is allowlisted only in a shape OpenClaw accepts', () => {
    const base = fixture('openclaw.json') as JsonObject;
    const modelName = fc.string({ maxLength: 300 });
    const model = fc.oneof(
      modelName,
      fc.record(
        {
          primary: fc.oneof(modelName, fc.jsonValue()),
          fallbacks: fc.oneof(fc.array(modelName, { maxLength: 40 }), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const accepted = (value: unknown): boolean => {
      const name = (item: unknown) => typeof item === 'string' && item.length <= 256;
      if (typeof value === 'string') return name(value);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
      return Object.entries(value).every(([key, item]) =>
        key === 'primary'
          ? name(item)
          : key === 'fallbacks' && Array.isArray(item) && item.length <= 32 && item.every(name),
      );
    };
    fc.assert(
      fc.property(model, (value) => {
        const written = planChange(
          policy,
          base,
          BASE_HASH,
          {
            kind: 'operations',
            operations: [{ op: 'replace', path: '/agents/entries/main/model', value: value as Json }],
          },
          { hashKey: KEY },
        );
        if (written.kind === 'unchanged') return;
        // An empty object has nothing in it to tune: it is a leaf that no allowlisted shape matches.
        const empty = typeof value === 'object' && value !== null && Object.keys(value).length === 0;
        expect(written.tier === 'allowlisted', JSON.stringify(value)).toBe(accepted(value) && !empty);
      }),
      { numRuns: 300 },
    );
  });

  it('tuning levels are short scalars, never objects or long text', () => {
    expect(tierOf('agents.entries.main.thinkingDefault', 'high')).toBe('allowlisted');
    expect(tierOf('agents.entries.main.fastModeDefault', true)).toBe('allowlisted');
    expect(tierOf('agents.entries.main.thinkingDefault', { level: 'high' })).toBe('protected');
    expect(tierOf('agents.list[id=main].reasoningDefault', 'x'.repeat(65))).toBe('protected');
    expect(tierOf('messages.groupChat.visibleReplies', ['automatic'])).toBe('protected');
  });
});
