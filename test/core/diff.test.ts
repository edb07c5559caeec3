import fc from 'fast-check';
import fastJsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { diffDocuments, innerLeaves, type Leaf } from '../../src/core/diff.js';
import { deepEqual, type Json, type JsonObject } from '../../src/core/json.js';
import type { Operation } from '../../src/core/operations.js';
import { formatPath, type Segment } from '../../src/core/path.js';
import {
  documentArb,
  documentPairArb,
  fcOptions,
  leafKey,
  leavesOf,
  pathKey,
  rng,
  shuffleIdKeyed,
  valueAt,
} from './arbitraries.js';

function replay(before: JsonObject, operations: readonly Operation[]): Json {
  return fastJsonPatch.applyPatch(structuredClone(before), structuredClone(operations) as Operation[], true, true, true)
    .newDocument as Json;
}

const ops = (before: JsonObject, after: JsonObject) => diffDocuments(before, after).operations.map((p) => p.operation);

const paths = (leaves: Leaf[]) => leaves.map((leaf) => formatPath(leaf.path)).sort();

describe('diffDocuments — properties', () => {
  it('its RFC 6902 operations turn before into exactly after', () => {
    fc.assert(
      fc.property(documentPairArb(), ([before, after]) => {
        const result = replay(before, ops(before, after));
        expect(deepEqual(result, after)).toBe(true);
      }),
      fcOptions,
    );
  });

  it('diff(x, x) is empty, also against a structured clone', () => {
    fc.assert(
      fc.property(documentArb(), (doc) => {
        expect(diffDocuments(doc, doc)).toEqual({ leaves: [], operations: [] });
        expect(diffDocuments(doc, structuredClone(doc))).toEqual({ leaves: [], operations: [] });
      }),
      fcOptions,
    );
  });

  it('reordering id-keyed arrays is no change, yet the operations reproduce the new order', () => {
    fc.assert(
      fc.property(documentArb(), fc.integer(), (doc, seed) => {
        const shuffled = shuffleIdKeyed(doc, rng(seed)) as JsonObject;
        const diff = diffDocuments(doc, shuffled);
        expect(diff.leaves).toEqual([]);
        expect(diff.operations.every((p) => p.operation.op === 'move')).toBe(true);
        expect(
          deepEqual(
            replay(
              doc,
              diff.operations.map((p) => p.operation),
            ),
            shuffled,
          ),
        ).toBe(true);
      }),
      fcOptions,
    );
  });

  it('leaf paths are unique (as segments and as formatted strings); add/remove/replace carry the right sides', () => {
    fc.assert(
      fc.property(documentPairArb(), ([before, after]) => {
        const { leaves } = diffDocuments(before, after);
        expect(new Set(leaves.map(leafKey)).size).toBe(leaves.length);
        expect(new Set(leaves.map((leaf) => formatPath(leaf.path))).size).toBe(leaves.length);
        for (const leaf of leaves) {
          if (leaf.op === 'add') {
            expect('before' in leaf).toBe(false);
            expect(leaf.after).toBeDefined();
          } else if (leaf.op === 'remove') {
            expect('after' in leaf).toBe(false);
            expect(leaf.before).toBeDefined();
          } else {
            expect(leaf.before).toBeDefined();
            expect(leaf.after).toBeDefined();
            expect(deepEqual(leaf.before, leaf.after)).toBe(false);
          }
        }
      }),
      fcOptions,
    );
  });

  it("each leaf's before/after is the value found at its path in before/after", () => {
    fc.assert(
      fc.property(documentPairArb(), ([before, after]) => {
        for (const leaf of diffDocuments(before, after).leaves) {
          if (leaf.op !== 'add') expect(valueAt(before, leaf.path)).toEqual(leaf.before);
          if (leaf.op !== 'remove') expect(valueAt(after, leaf.path)).toEqual(leaf.after);
        }
      }),
      fcOptions,
    );
  });

  it('every leaf of the reference walk whose value differs is reported, or something inside it is (nothing is hidden)', () => {
    // An empty container that gains or loses keys is described by the keys inside it, so a
    // reference leaf counts as covered when it or a path extending it is reported.
    // An element segment `list[id=x]` extends the key segment `list`.
    const extendsPath = (longer: Leaf['path'], path: Leaf['path']): boolean => {
      if (longer.length < path.length) return false;
      if (path.length === 0) return true;
      const n = path.length - 1;
      if (pathKey(longer.slice(0, n)) !== pathKey(path.slice(0, n))) return false;
      const [mine, theirs] = [path[n], longer[n]] as [Segment, Segment];
      if (pathKey([mine]) === pathKey([theirs])) return true;
      return mine.id === undefined && mine.index === undefined && theirs.key === mine.key;
    };
    const covered = (reported: Leaf[], path: Leaf['path']) => reported.some((leaf) => extendsPath(leaf.path, path));
    fc.assert(
      fc.property(documentPairArb(), ([before, after]) => {
        const reported = diffDocuments(before, after).leaves;
        for (const { path, value } of leavesOf(after)) {
          if (!deepEqual(valueAt(before, path), value)) expect(covered(reported, path)).toBe(true);
        }
        for (const { path, value } of leavesOf(before)) {
          if (!deepEqual(valueAt(after, path), value)) expect(covered(reported, path)).toBe(true);
        }
      }),
      fcOptions,
    );
  });

  it('adding or removing a whole subtree reports every leaf inside it', () => {
    fc.assert(
      fc.property(documentArb(), (doc) => {
        const expected = leavesOf({ root: doc }).filter(() => true);
        const added = diffDocuments({}, { root: doc }).leaves;
        const removed = diffDocuments({ root: doc }, {}).leaves;
        const want = expected.map((leaf) => pathKey(leaf.path)).sort();
        expect(added.map(leafKey).sort()).toEqual(want);
        expect(removed.map(leafKey).sort()).toEqual(want);
        expect(added.every((leaf) => leaf.op === 'add')).toBe(true);
        expect(removed.every((leaf) => leaf.op === 'remove')).toBe(true);
        // exactly one operation each way: the subtree itself
        expect(ops({}, { root: doc })).toEqual([{ op: 'add', path: '/root', value: doc }]);
        expect(ops({ root: doc }, {})).toEqual([{ op: 'remove', path: '/root' }]);
      }),
      fcOptions,
    );
  });

  it('never mutates its inputs', () => {
    fc.assert(
      fc.property(documentPairArb(), ([before, after]) => {
        const b = structuredClone(before);
        const a = structuredClone(after);
        diffDocuments(before, after);
        expect(before).toEqual(b);
        expect(after).toEqual(a);
      }),
      { numRuns: 100 },
    );
  });
});

describe('diffDocuments — examples', () => {
  it('removing an agent reports each leaf inside it, sandbox.mode included', () => {
    const before: JsonObject = {
      agents: {
        list: [
          { id: 'main', model: 'a' },
          { id: 'ops', model: 'b', sandbox: { mode: 'all' } },
        ],
      },
    };
    const after = { agents: { list: [{ id: 'main', model: 'a' }] } };
    const { leaves, operations } = diffDocuments(before, after);
    expect(paths(leaves)).toEqual([
      'agents.list[id=ops].id',
      'agents.list[id=ops].model',
      'agents.list[id=ops].sandbox.mode',
    ]);
    expect(leaves.find((l) => formatPath(l.path) === 'agents.list[id=ops].sandbox.mode')).toEqual({
      path: [{ key: 'agents' }, { key: 'list', id: 'ops' }, { key: 'sandbox' }, { key: 'mode' }],
      op: 'remove',
      before: 'all',
    });
    expect(operations.map((p) => p.operation)).toEqual([{ op: 'remove', path: '/agents/list/1' }]);
  });

  it('adding an agent reports each leaf inside it', () => {
    const before: JsonObject = { agents: { list: [{ id: 'main' }] } };
    const after: JsonObject = {
      agents: { list: [{ id: 'main' }, { id: 'ops', sandbox: { mode: 'off' }, tools: [] }] },
    };
    expect(paths(diffDocuments(before, after).leaves)).toEqual([
      'agents.list[id=ops].id',
      'agents.list[id=ops].sandbox.mode',
      'agents.list[id=ops].tools',
    ]);
  });

  it('a change inside an id-keyed element is addressed by id, whatever its position', () => {
    const before = {
      agents: {
        list: [
          { id: 'main', model: 'a' },
          { id: 'ops', model: 'b' },
        ],
      },
    };
    const after = {
      agents: {
        list: [
          { id: 'ops', model: 'c' },
          { id: 'main', model: 'a' },
        ],
      },
    };
    const { leaves, operations } = diffDocuments(before, after);
    expect(leaves).toEqual([
      {
        path: [{ key: 'agents' }, { key: 'list', id: 'ops' }, { key: 'model' }],
        op: 'replace',
        before: 'b',
        after: 'c',
      },
    ]);
    expect(
      deepEqual(
        replay(
          before,
          operations.map((p) => p.operation),
        ),
        after,
      ),
    ).toBe(true);
  });

  it('arrays with duplicate ids or id-less objects are a single leaf at the array path', () => {
    const dup = {
      before: {
        agents: {
          list: [
            { id: 'a', x: 1 },
            { id: 'a', x: 2 },
          ],
        },
      },
      after: {
        agents: {
          list: [
            { id: 'a', x: 1 },
            { id: 'a', x: 3 },
          ],
        },
      },
    };
    expect(diffDocuments(dup.before, dup.after).leaves).toEqual([
      {
        path: [{ key: 'agents' }, { key: 'list' }],
        op: 'replace',
        before: dup.before.agents.list,
        after: dup.after.agents.list,
      },
    ]);
    const idless = { before: { hooks: [{ cmd: 'a' }] }, after: { hooks: [{ cmd: 'a' }, { cmd: 'b' }] } };
    expect(paths(diffDocuments(idless.before, idless.after).leaves)).toEqual(['hooks']);
    const scalars = { before: { args: ['-a', '-b'] }, after: { args: ['-b', '-a'] } };
    expect(diffDocuments(scalars.before, scalars.after).leaves).toEqual([
      { path: [{ key: 'args' }], op: 'replace', before: ['-a', '-b'], after: ['-b', '-a'] },
    ]);
    // a numeric id or an empty id is not an id
    const numeric = { before: { l: [{ id: 1 }] }, after: { l: [{ id: 2 }] } };
    expect(paths(diffDocuments(numeric.before, numeric.after).leaves)).toEqual(['l']);
    const empty = { before: { l: [{ id: '' }] }, after: { l: [{ id: '', v: 1 }] } };
    expect(paths(diffDocuments(empty.before, empty.after).leaves)).toEqual(['l']);
  });

  it('an id-keyed array turning into a plain one reports the old elements and the new array', () => {
    const before: JsonObject = { l: [{ id: 'a', v: 1 }] };
    const after: JsonObject = { l: [{ id: 'a', v: 1 }, { id: 'a' }] };
    const diff = diffDocuments(before, after);
    expect(paths(diff.leaves)).toEqual(['l', 'l[id=a].id', 'l[id=a].v']);
    expect(
      deepEqual(
        replay(
          before,
          diff.operations.map((p) => p.operation),
        ),
        after,
      ),
    ).toBe(true);
  });

  it('empty objects and arrays are leaves', () => {
    expect(diffDocuments({}, { a: {}, b: [] }).leaves).toEqual([
      { path: [{ key: 'a' }], op: 'add', after: {} },
      { path: [{ key: 'b' }], op: 'add', after: [] },
    ]);
    expect(paths(diffDocuments({ a: { b: 1 } }, { a: {} }).leaves)).toEqual(['a.b']);
    expect(paths(diffDocuments({ a: [{ id: 'x' }] }, { a: [] }).leaves)).toEqual(['a[id=x].id']);
    expect(paths(diffDocuments({ a: {} }, { a: [] }).leaves)).toEqual(['a']);
  });

  it('keys with dots, slashes, spaces and "~" are single segments with escaped pointers', () => {
    const before = { 'a.b': { 'x/y': 1, 'til~de': 1, 'with space': 1 } };
    const after = { 'a.b': { 'x/y': 2, 'til~de': 2, 'with space': 2 } };
    const diff = diffDocuments(before, after);
    expect(diff.leaves.map((leaf) => leaf.path.map((s) => s.key))).toEqual([
      ['a.b', 'x/y'],
      ['a.b', 'til~de'],
      ['a.b', 'with space'],
    ]);
    expect(diff.operations.map((p) => p.operation.path)).toEqual(['/a.b/x~1y', '/a.b/til~0de', '/a.b/with space']);
    expect(paths(diff.leaves)).toEqual(['"a.b"."til~de"', '"a.b"."with space"', '"a.b"."x/y"']);
  });

  it('a type change replaces at the path and reports both subtrees', () => {
    const diff = diffDocuments({ a: { b: 1, c: 2 } }, { a: 'x' });
    expect(diff.operations.map((p) => p.operation)).toEqual([{ op: 'replace', path: '/a', value: 'x' }]);
    expect(diff.leaves.map((l) => [formatPath(l.path), l.op])).toEqual([
      ['a.b', 'remove'],
      ['a.c', 'remove'],
      ['a', 'add'],
    ]);
  });
});

describe('innerLeaves', () => {
  it('looks inside a non-id-keyed array by position', () => {
    const leaf: Leaf = {
      path: [{ key: 'agents' }, { key: 'list' }],
      op: 'replace',
      before: [{ id: 'a' }, { id: 'a', sandbox: { mode: 'all' } }],
      after: [{ id: 'a' }, { id: 'a', sandbox: { mode: 'off' } }],
    };
    expect(innerLeaves(leaf)).toEqual([
      {
        path: [{ key: 'agents' }, { key: 'list', index: 1 }, { key: 'sandbox' }, { key: 'mode' }],
        op: 'replace',
        before: 'all',
        after: 'off',
      },
    ]);
  });

  it('handles nested arrays and pure adds/removes', () => {
    const added = innerLeaves({ path: [{ key: 'm' }], op: 'add', after: [[1], []] });
    expect(added.map((l) => formatPath(l.path))).toEqual(['m[0].[0]', 'm[1]']);
    const removed = innerLeaves({ path: [{ key: 'm' }], op: 'remove', before: [{ a: 1 }] });
    expect(removed).toEqual([{ path: [{ key: 'm', index: 0 }, { key: 'a' }], op: 'remove', before: 1 }]);
  });
});
