import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepEqual, includesJson, inspectJson, isIdKeyed, type Json, jsonLimitsDefaults } from '../../src/core/json.js';
import { documentArb, fcOptions } from './arbitraries.js';

function nest(levels: number, kind: 'object' | 'array' | 'mixed'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) {
    const asArray = kind === 'array' || (kind === 'mixed' && i % 2 === 0);
    value = asArray ? [value] : { k: value };
  }
  return value;
}

describe('inspectJson', () => {
  it('accepts ordinary documents', () => {
    fc.assert(
      fc.property(documentArb(), (doc) => {
        expect(inspectJson(doc)).toBeNull();
        expect(inspectJson(JSON.parse(JSON.stringify(doc)))).toBeNull();
      }),
      { numRuns: 100 },
    );
    for (const scalar of [null, 1, 'x', true]) expect(inspectJson(scalar)).toBeNull();
  });

  it.each(['__proto__', 'constructor', 'prototype'])('finds "%s" anywhere, with its pointer', (key) => {
    expect(inspectJson(JSON.parse(`{"${key}":1}`))).toEqual({ code: 'forbidden_key', key, pointer: `/${key}` });
    expect(inspectJson(JSON.parse(`{"a":[{"b":1},{"c":[{"${key}":{"x":1}}]}]}`))).toEqual({
      code: 'forbidden_key',
      key,
      pointer: `/a/1/c/0/${key}`,
    });
    expect(inspectJson(JSON.parse(`[[[{"${key}":null}]]]`))).toMatchObject({ code: 'forbidden_key', key });
  });

  it('sees a parsed "__proto__" own key (which plain assignment could not create)', () => {
    const parsed = JSON.parse('{"agents":{"list":[{"id":"main","__proto__":{"polluted":true}}]}}');
    expect(Object.hasOwn(parsed.agents.list[0], '__proto__')).toBe(true);
    expect(inspectJson(parsed)).toMatchObject({ code: 'forbidden_key', key: '__proto__' });
  });

  it('finds a forbidden key buried at a random place in a random document', () => {
    fc.assert(
      fc.property(
        documentArb(),
        fc.nat(),
        fc.constantFrom('__proto__', 'constructor', 'prototype'),
        (doc, pick, key) => {
          // collect the containers, then plant the key in one of them via JSON text
          const containers: Array<Record<string, unknown> | unknown[]> = [];
          const walk = (value: unknown) => {
            if (typeof value !== 'object' || value === null) return;
            containers.push(value as Record<string, unknown>);
            for (const child of Object.values(value)) walk(child);
          };
          const copy = structuredClone(doc);
          walk(copy);
          const target = containers[pick % containers.length] as Record<string, unknown> | unknown[];
          const marker = { '\u0000marker': true };
          if (Array.isArray(target)) target.push(marker);
          else target['\u0000slot'] = marker;
          const text = JSON.stringify(copy).replace('"\\u0000marker"', JSON.stringify(key));
          expect(inspectJson(JSON.parse(text))).toMatchObject({ code: 'forbidden_key', key });
        },
      ),
      fcOptions,
    );
  });

  it('bounds container depth', () => {
    const limits = { maxDepth: 5, maxKeys: 1000 };
    for (const kind of ['object', 'array', 'mixed'] as const) {
      expect(inspectJson(nest(5, kind), limits)).toBeNull();
      expect(inspectJson(nest(6, kind), limits)).toEqual({ code: 'too_deep', maxDepth: 5 });
    }
    // scalars below the last container do not count
    expect(inspectJson({ a: { b: { c: { d: { e: 'leaf' } } } } }, limits)).toBeNull();
    expect(inspectJson(nest(jsonLimitsDefaults.maxDepth, 'mixed'))).toBeNull();
    expect(inspectJson(nest(jsonLimitsDefaults.maxDepth + 1, 'mixed'))).toMatchObject({ code: 'too_deep' });
  });

  it('handles hostile nesting without exhausting the stack', () => {
    const deep = JSON.parse(`${'['.repeat(20_000)}${']'.repeat(20_000)}`);
    expect(inspectJson(deep)).toMatchObject({ code: 'too_deep' });
    expect(inspectJson(deep, { maxDepth: 30_000, maxKeys: 1_000_000 })).toBeNull();
  });

  it('bounds the total number of keys and array elements', () => {
    const limits = { maxDepth: 10, maxKeys: 10 };
    const tenKeys = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i]));
    expect(inspectJson(tenKeys, limits)).toBeNull();
    expect(inspectJson({ ...tenKeys, extra: 1 }, limits)).toEqual({ code: 'too_many_keys', maxKeys: 10 });
    expect(
      inspectJson(
        Array.from({ length: 10 }, () => 0),
        limits,
      ),
    ).toBeNull();
    expect(
      inspectJson(
        Array.from({ length: 11 }, () => 0),
        limits,
      ),
    ).toEqual({ code: 'too_many_keys', maxKeys: 10 });
    // counted across the whole tree: 4 + 4 + 3 keys
    expect(inspectJson({ a: [1, 2, 3], b: { c: 1, d: 2, e: 3 }, f: 1, g: 1 }, limits)).toBeNull();
    expect(inspectJson({ a: [1, 2, 3], b: { c: 1, d: 2, e: 3 }, f: 1, g: 1, h: [] }, limits)).toEqual({
      code: 'too_many_keys',
      maxKeys: 10,
    });
  });
});

describe('deepEqual and friends', () => {
  it('agrees with canonical JSON text equality on documents', () => {
    const canonical = (value: Json): string =>
      JSON.stringify(value, (_key, v) =>
        v && typeof v === 'object' && !Array.isArray(v)
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, v[k]]),
            )
          : v,
      );
    fc.assert(
      fc.property(documentArb(2), documentArb(2), (a, b) => {
        expect(deepEqual(a, b)).toBe(canonical(a) === canonical(b));
        expect(deepEqual(a, structuredClone(a))).toBe(true);
      }),
      fcOptions,
    );
  });

  it('distinguishes types, key sets and array order', () => {
    expect(deepEqual({}, [])).toBe(false);
    expect(deepEqual([], {})).toBe(false);
    expect(deepEqual({ a: undefined } as never, { b: 1 })).toBe(false);
    expect(deepEqual({ a: 1 }, { a: 1, b: 1 })).toBe(false);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual(null, {})).toBe(false);
    expect(deepEqual(0, false)).toBe(false);
    expect(deepEqual('1', 1)).toBe(false);
    expect(deepEqual(undefined, null)).toBe(false);
    expect(includesJson([{ a: [1] }], { a: [1] })).toBe(true);
    expect(includesJson([null], undefined)).toBe(false);
  });

  it('isIdKeyed: all objects with unique non-empty string ids; [] qualifies', () => {
    expect(isIdKeyed([])).toBe(true);
    expect(isIdKeyed([{ id: 'a' }, { id: 'b', x: 1 }])).toBe(true);
    expect(isIdKeyed([{ id: 'a' }, { id: 'a' }])).toBe(false);
    expect(isIdKeyed([{ id: 'a' }, { name: 'b' }])).toBe(false);
    expect(isIdKeyed([{ id: '' }])).toBe(false);
    expect(isIdKeyed([{ id: 1 }])).toBe(false);
    expect(isIdKeyed([{ id: 'a' }, 'b'])).toBe(false);
    expect(isIdKeyed([[{ id: 'a' }]])).toBe(false);
    expect(isIdKeyed([null])).toBe(false);
  });
});
