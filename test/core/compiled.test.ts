/**
 * The fast paths behind the benchmarks (bench/) must give exactly the answers of the plain
 * algorithms they replace: the indexed pattern set against testing every pattern, the
 * streaming canonical writer against json-stable-stringify, and the targeted hidden-string
 * search against the full one.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import stableStringify from 'json-stable-stringify';
import { describe, expect, it } from 'vitest';
import { canonical, documentHash } from '../../src/core/hash.js';
import type { Json } from '../../src/core/json.js';
import type { Path, Segment } from '../../src/core/path.js';
import { compilePattern, compilePatternSet, matchesPattern } from '../../src/core/pattern.js';

const key = (k: string): Segment => ({ key: k });
const byId = (k: string, id: string): Segment => ({ key: k, id });
const byIndex = (k: string, index: number): Segment => ({ key: k, index });

const partArb = fc.constantFrom(
  '**',
  '*',
  'a',
  'b',
  'ab',
  'a*',
  '*b',
  'a*b',
  'l[]',
  'l[id=x]',
  'l*[]',
  '*[]',
  'l[id=y]',
  'token',
  '"x.y"',
  '"a*"',
  '""',
  '"l"[id=x]',
  '["x.y"]',
);
const patternArb = fc.array(partArb, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.'));
const segmentArb: fc.Arbitrary<Segment> = fc.oneof(
  fc.constantFrom('a', 'b', 'ab', 'aab', 'acb', 'l', 'token', 'x.y', '', 'a*').map(key),
  fc.constantFrom('x', 'y', 'z').map((id) => byId('l', id)),
  fc.constantFrom('x', 'y').map((id) => byId('lx', id)),
  fc.nat({ max: 3 }).map((index) => byIndex('l', index)),
);
const pathArb: fc.Arbitrary<Path> = fc.array(segmentArb, { maxLength: 6 });

describe('compilePatternSet', () => {
  it('finds exactly the patterns that match, in order, and "some" agrees', () => {
    fc.assert(
      fc.property(
        fc.array(patternArb, { maxLength: 12 }),
        fc.array(pathArb, { minLength: 1, maxLength: 5 }),
        (sources, paths) => {
          const patterns = sources.map(compilePattern);
          const set = compilePatternSet(patterns);
          for (const path of paths) {
            const expected = patterns.flatMap((pattern, index) => (matchesPattern(pattern, path) ? [index] : []));
            expect(set.matching(path)).toEqual(expected);
            expect(set.some(path)).toBe(expected.length > 0);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('handles patterns sharing prefixes and tails', () => {
    const patterns = ['a.**.b', 'a.*.b', 'a.l[].b', 'a.l[id=x].b', '**.b', '**.b.*', 'a.**', '**.a.**.b', '**'].map(
      compilePattern,
    );
    const set = compilePatternSet(patterns);
    const path = [key('a'), byId('l', 'x'), key('b')];
    expect(set.matching(path)).toEqual(patterns.flatMap((p, i) => (matchesPattern(p, path) ? [i] : [])));
    expect(set.matching([])).toEqual([8]);
    expect(set.matching([key('a')])).toEqual([6, 8]);
  });
});

describe('canonical and documentHash', () => {
  // SPEC §1: HMAC-SHA256 of the canonical JSON under the installation's key.
  const KEY = Buffer.alloc(32, 9);
  const sha = (text: string) => `hmac-sha256:${createHmac('sha256', KEY).update(text).digest('hex')}`;

  it('write what json-stable-stringify writes, and throw where it throws', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withDate: true,
          withBoxedValues: true,
          withNullPrototype: true,
          withSparseArray: true,
          withObjectString: true,
          withMap: true,
          withSet: true,
        }),
        (value) => {
          let expected: string | undefined;
          let expectedError: unknown = null;
          try {
            expected = stableStringify(value);
          } catch (error) {
            expectedError = error;
          }
          if (expectedError !== null || expected === undefined) {
            expect(() => canonical(value)).toThrow(TypeError);
            expect(() => documentHash(KEY, value)).toThrow(TypeError);
            return;
          }
          expect(canonical(value)).toBe(expected);
          expect(documentHash(KEY, value)).toBe(sha(expected));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('write what json-stable-stringify writes for JSON with any UTF-16 text (lone surrogates, U+2028, controls) in keys and values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        expect(canonical(value)).toBe(stableStringify(value));
      }),
      { numRuns: 5000 },
    );
  });

  it('hashes large documents as their canonical text', () => {
    const large: Record<string, Json> = {};
    for (let index = 0; index < 5000; index++)
      large[`k${index}`] = { v: index, s: `é\u2028"${index}"`, n: [index, null] };
    expect(documentHash(KEY, large)).toBe(sha(stableStringify(large) as string));
    // JSON has no bigint (no parsed document holds one): left out, as functions and undefined are.
    expect(canonical({ a: 1n, b: 2 })).toBe('{"b":2}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = { cyclic };
    expect(() => canonical(cyclic)).toThrow(TypeError);
    expect(canonical({ b: undefined, a: () => 1, c: [undefined, () => 1], d: new Date(0) })).toBe(
      '{"c":[null,null],"d":"1970-01-01T00:00:00.000Z"}',
    );
  });
});
