import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffDocuments } from '../../src/core/diff.js';
import { CountersignError } from '../../src/core/errors.js';
import { deepEqual, isObject, type Json, type JsonObject } from '../../src/core/json.js';
import type { Operation } from '../../src/core/operations.js';
import { applyMergePatch, applyOperations, applyPatchForm } from '../../src/core/patch.js';
import { errorOf } from '../support/errors.js';
import { documentArb, documentPairArb, fcOptions, keyArb, scalarArb, shapes } from './arbitraries.js';

/** RFC 7396 §2, literally. */
function referenceMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = referenceMergePatch(result[name], value);
  }
  return result;
}

// The patch is always applied to an object document in the service, but the RFC's examples
// include array and scalar documents; the merge itself is defined for any JSON value.
const merge = (document: Json, patch: Json, replacePaths: string[] = []) =>
  applyMergePatch(document as JsonObject, patch, replacePaths);

describe('applyMergePatch — RFC 7396 Appendix A', () => {
  const cases: Array<[Json, Json, Json]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)('%j + %j = %j', (original, patch, result) => {
    const before = structuredClone(original);
    expect(merge(original, patch)).toEqual(result);
    expect(original).toEqual(before);
  });

  it('the RFC §3 example', () => {
    const original = {
      title: 'Goodbye!',
      author: { givenName: 'John', familyName: 'Doe' },
      tags: ['example', 'sample'],
      content: 'This will be unchanged',
    };
    const patch = { title: 'Hello!', phoneNumber: '+01-555-555-5555', author: { familyName: null }, tags: ['example'] };
    expect(merge(original, patch)).toEqual({
      title: 'Hello!',
      author: { givenName: 'John' },
      tags: ['example'],
      content: 'This will be unchanged',
      phoneNumber: '+01-555-555-5555',
    });
  });
});

describe('applyMergePatch — id-keyed arrays (SPEC §2)', () => {
  const base: JsonObject & { agents: { list: JsonObject[] } } = {
    agents: {
      list: [
        { id: 'main', model: 'a', sandbox: { mode: 'all', scope: 'agent' } },
        { id: 'ops', model: 'b' },
      ],
    },
  };

  it('merges the same id recursively, appends new ids, keeps absent ids', () => {
    const patch: Json = {
      agents: {
        list: [
          { id: 'new', model: 'n', drop: null },
          { id: 'main', sandbox: { mode: 'off', scope: null } },
        ],
      },
    };
    expect(merge(base, patch)).toEqual({
      agents: {
        list: [
          { id: 'main', model: 'a', sandbox: { mode: 'off' } },
          { id: 'ops', model: 'b' },
          { id: 'new', model: 'n' },
        ],
      },
    });
  });

  it('null inside a merged element removes that key only', () => {
    expect(merge(base, { agents: { list: [{ id: 'ops', model: null }] } })).toEqual({
      agents: { list: [base.agents.list[0], { id: 'ops' }] },
    });
  });

  it('an empty id-keyed patch array merges nothing; replacePaths clears it', () => {
    expect(merge(base, { agents: { list: [] } })).toEqual(base);
    expect(merge(base, { agents: { list: [] } }, ['agents.list'])).toEqual({ agents: { list: [] } });
  });

  it('replacePaths replaces the named array wholesale', () => {
    const patch = { agents: { list: [{ id: 'ops', model: 'z' }] } };
    expect(merge(base, patch, ['agents.list'])).toEqual({ agents: { list: [{ id: 'ops', model: 'z' }] } });
    // other paths are not affected by an unrelated replacePaths entry
    expect(merge(base, patch, ['agents.other'])).toEqual({
      agents: { list: [base.agents.list[0], { id: 'ops', model: 'z' }] },
    });
  });

  it('replacePaths reaches arrays nested inside id-keyed elements and keys with dots', () => {
    const doc = {
      'a.b': { list: [{ id: 'x', tools: [{ id: 't1' }, { id: 't2' }] }] },
    };
    const patch = { 'a.b': { list: [{ id: 'x', tools: [{ id: 't3' }] }] } };
    expect(merge(doc, patch)).toEqual({
      'a.b': { list: [{ id: 'x', tools: [{ id: 't1' }, { id: 't2' }, { id: 't3' }] }] },
    });
    expect(merge(doc, patch, ['"a.b".list[id=x].tools'])).toEqual({
      'a.b': { list: [{ id: 'x', tools: [{ id: 't3' }] }] },
    });
    expect(merge(doc, patch, ['"a.b".list'])).toEqual({ 'a.b': { list: [{ id: 'x', tools: [{ id: 't3' }] }] } });
  });

  it('a non-id-keyed patch array, or a non-id-keyed target array, replaces', () => {
    expect(merge(base, { agents: { list: [{ id: 'a' }, { id: 'a' }] } })).toEqual({
      agents: { list: [{ id: 'a' }, { id: 'a' }] },
    });
    expect(merge({ l: [1, 2] }, { l: [{ id: 'a' }] })).toEqual({ l: [{ id: 'a' }] });
    expect(merge({ l: [{ id: 'a', v: 1 }] }, { l: [{ v: 2 }] })).toEqual({ l: [{ v: 2 }] });
  });

  it('never mutates the document or the patch', () => {
    fc.assert(
      fc.property(documentArb(), documentArb(), (doc, patch) => {
        const d = structuredClone(doc);
        const p = structuredClone(patch);
        merge(doc, patch);
        expect(doc).toEqual(d);
        expect(patch).toEqual(p);
      }),
      { numRuns: 150 },
    );
  });

  it('a "__proto__" key in a parsed patch does not pollute Object.prototype', () => {
    const patch = JSON.parse('{"a":{"__proto__":{"polluted":true}},"__proto__":{"polluted":true}}') as Json;
    merge({ a: {} }, patch);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('applyMergePatch — equals RFC 7396 when no id-keyed arrays are involved', () => {
  // The key pool has no "id" and, without `idKeyed`, the only arrays with ids have duplicate
  // or numeric ids, so the only id-keyed arrays are empty ones, where merging and replacing agree.
  const noIdKeys: fc.Arbitrary<string> = keyArb;
  const plain = shapes(3, { idKeyed: false, objectKeys: noIdKeys });
  const valueWithNulls: fc.Arbitrary<Json> = fc.oneof(plain.value, fc.constant(null));
  const patchArb: fc.Arbitrary<Json> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.dictionary(
        noIdKeys,
        fc.oneof(
          valueWithNulls,
          plain.object.map((o) => withNulls(o)),
        ),
        { maxKeys: 4, noNullPrototype: true },
      ),
    },
    { weight: 1, arbitrary: valueWithNulls },
  );

  function withNulls(o: JsonObject): JsonObject {
    const keys = Object.keys(o);
    if (keys.length === 0) return o;
    return { ...o, [keys[0] as string]: null };
  }

  it('matches the reference implementation', () => {
    fc.assert(
      fc.property(plain.object, patchArb, (doc, patch) => {
        expect(merge(doc, patch)).toEqual(referenceMergePatch(doc, patch));
      }),
      fcOptions,
    );
  });
});

describe('applyOperations', () => {
  const doc = { a: { b: 1, list: [1, 2] }, s: 'x' };

  it('applies RFC 6902 operations on a copy', () => {
    const operations: Operation[] = [
      { op: 'test', path: '/a/b', value: 1 },
      { op: 'replace', path: '/a/b', value: 2 },
      { op: 'add', path: '/a/list/-', value: 3 },
      { op: 'copy', from: '/s', path: '/t' },
      { op: 'move', from: '/t', path: '/u' },
      { op: 'remove', path: '/s' },
    ];
    expect(applyOperations(doc, operations)).toEqual({ a: { b: 2, list: [1, 2, 3] }, u: 'x' });
    expect(doc).toEqual({ a: { b: 1, list: [1, 2] }, s: 'x' });
  });

  it('a failing test op is invalid_patch', () => {
    const error = errorOf(() => applyOperations(doc, [{ op: 'test', path: '/a/b', value: 2 }]));
    expect(error.code).toBe('invalid_patch');
    expect(error.status).toBe(400);
    expect(error.details).toMatchObject({ operation: 0, reason: 'TEST_OPERATION_FAILED' });
  });

  it.each<[string, Operation]>([
    ['remove of a missing key', { op: 'remove', path: '/nope' }],
    ['replace of a missing key', { op: 'replace', path: '/a/nope', value: 1 }],
    ['add under a missing parent', { op: 'add', path: '/x/y/z', value: 1 }],
    ['add past the end of an array', { op: 'add', path: '/a/list/5', value: 1 }],
    ['a non-numeric array index', { op: 'replace', path: '/a/list/x', value: 1 }],
    ['move from a missing path', { op: 'move', from: '/nope', path: '/x' }],
    ['copy from a missing path', { op: 'copy', from: '/nope', path: '/x' }],
    ['test of a missing path', { op: 'test', path: '/nope', value: 1 }],
  ])('an unresolvable path (%s) is invalid_patch', (_name, operation) => {
    const error = errorOf(() => applyOperations(doc, [{ op: 'test', path: '/s', value: 'x' }, operation]));
    expect(error.code).toBe('invalid_patch');
    expect(doc).toEqual({ a: { b: 1, list: [1, 2] }, s: 'x' });
  });

  it.each<[string, Operation]>([
    ['add at /__proto__', { op: 'add', path: '/__proto__/polluted', value: true }],
    ['nested constructor', { op: 'add', path: '/a/constructor/prototype/polluted', value: true }],
    ['prototype', { op: 'replace', path: '/a/prototype', value: 1 }],
    ['remove', { op: 'remove', path: '/__proto__' }],
    ['test', { op: 'test', path: '/constructor', value: 1 }],
    ['move from', { op: 'move', from: '/__proto__', path: '/a/x' }],
    ['copy from', { op: 'copy', from: '/a/constructor', path: '/x' }],
    ['copy to', { op: 'copy', from: '/s', path: '/a/__proto__' }],
    ['next to escaped tokens', { op: 'add', path: '/a~1b/c~0d/__proto__', value: 1 }],
    ['after an escaped slash', { op: 'add', path: '/x~1y/prototype', value: 1 }],
  ])('a forbidden key (%s) is forbidden_key', (_name, operation) => {
    const error = errorOf(() => applyOperations(doc, [operation]));
    expect(error.code).toBe('forbidden_key');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('malformed operations (no leading slash, missing value) are refused, never applied', () => {
    for (const operation of [
      { op: 'add', path: '__proto__', value: { polluted: true } },
      { op: 'add', path: 'a/b', value: 1 },
      { op: 'add', path: '/a' },
      { op: 'frobnicate', path: '/a', value: 1 },
    ]) {
      const error = errorOf(() => applyOperations({ a: {} }, [operation as unknown as Operation]));
      expect(['invalid_patch', 'forbidden_key']).toContain(error.code);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('escaped tokens are unescaped before the check, and look-alikes are allowed', () => {
    // "~1" and "~0" only produce "/" and "~", so nothing escaped can spell a forbidden key,
    // but keys that merely contain one are fine.
    expect(applyOperations({}, [{ op: 'add', path: '/__proto__~1x', value: 1 }])).toEqual({ '__proto__/x': 1 });
    expect(applyOperations({}, [{ op: 'add', path: '/constructor~0', value: 1 }])).toEqual({ 'constructor~': 1 });
    expect(applyOperations({}, [{ op: 'add', path: '/prototypes', value: 1 }])).toEqual({ prototypes: 1 });
  });

  it('never mutates the input document (property)', () => {
    fc.assert(
      fc.property(documentPairArb(), ([before, after]) => {
        const snapshot = structuredClone(before);
        const operations = diffDocuments(before, after).operations.map((p) => p.operation);
        const result = applyOperations(before, operations);
        expect(before).toEqual(snapshot);
        expect(deepEqual(result, after)).toBe(true);
      }),
      fcOptions,
    );
  });

  it('never mutates the input document, even when operations fail half way (property)', () => {
    const operationArb: fc.Arbitrary<Operation> = fc.oneof(
      fc.record({
        op: fc.constant('add' as const),
        path: fc.constantFrom('/model', '/list/0', '/list/-', '/a/b'),
        value: scalarArb,
      }),
      fc.record({ op: fc.constant('remove' as const), path: fc.constantFrom('/model', '/list/0', '/token') }),
      fc.record({
        op: fc.constant('replace' as const),
        path: fc.constantFrom('/model', '/mode', '/list/0'),
        value: scalarArb,
      }),
      fc.record({
        op: fc.constant('move' as const),
        from: fc.constantFrom('/model', '/list/0'),
        path: fc.constantFrom('/x', '/list/0'),
      }),
      fc.record({
        op: fc.constant('copy' as const),
        from: fc.constantFrom('/model', '/list'),
        path: fc.constantFrom('/y', '/list/-'),
      }),
      fc.record({ op: fc.constant('test' as const), path: fc.constantFrom('/model', '/mode'), value: scalarArb }),
    );
    fc.assert(
      fc.property(documentArb(), fc.array(operationArb, { maxLength: 5 }), (doc, operations) => {
        const snapshot = structuredClone(doc);
        try {
          applyOperations(doc, operations);
        } catch (error) {
          expect(error).toBeInstanceOf(CountersignError);
          expect(['invalid_patch']).toContain((error as CountersignError).code);
        }
        expect(doc).toEqual(snapshot);
      }),
      fcOptions,
    );
  });

  it('never mutates the operations, and the result shares nothing with them', () => {
    const operations: Operation[] = [
      { op: 'add', path: '/a', value: { x: 1 } },
      { op: 'add', path: '/a/y', value: 2 },
    ];
    const snapshot = structuredClone(operations);
    const result = applyOperations({}, operations) as JsonObject;
    expect(result).toEqual({ a: { x: 1, y: 2 } });
    expect(operations).toEqual(snapshot);
    (result.a as JsonObject).z = 3;
    expect(operations).toEqual(snapshot);
  });
});

describe('applyPatchForm', () => {
  it('runs each form and insists on an object result', () => {
    const doc = { a: 1 };
    expect(applyPatchForm(doc, { kind: 'merge', patch: { b: 2 }, replacePaths: [] })).toEqual({ a: 1, b: 2 });
    expect(applyPatchForm(doc, { kind: 'operations', operations: [{ op: 'remove', path: '/a' }] })).toEqual({});
    expect(applyPatchForm(doc, { kind: 'replace', document: { z: 1 } })).toEqual({ z: 1 });
    for (const form of [
      { kind: 'merge' as const, patch: [1], replacePaths: [] },
      { kind: 'merge' as const, patch: null, replacePaths: [] },
      { kind: 'operations' as const, operations: [{ op: 'replace' as const, path: '', value: 3 }] },
      { kind: 'replace' as const, document: 'x' },
    ]) {
      expect(errorOf(() => applyPatchForm(doc, form)).code).toBe('invalid_patch');
    }
  });
});
