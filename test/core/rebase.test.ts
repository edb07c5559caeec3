import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffDocuments } from '../../src/core/diff.js';
import type { JsonObject } from '../../src/core/json.js';
import { parsePath } from '../../src/core/path.js';
import type { Tier } from '../../src/core/policy.js';
import { pathsMeet, rebaseVerdict, replayChange, sameLeaves } from '../../src/core/rebase.js';
import { documentArb, mutate, rng, scalarArb } from './arbitraries.js';

const p = (text: string) => parsePath(text);
const allowlisted = (text: string) => ({ path: p(text), tier: 'allowlisted' as Tier });

describe('rebaseVerdict: rebase only over allowlisted, applied changes at other paths', () => {
  it('rebases over an allowlisted change elsewhere', () => {
    expect(
      rebaseVerdict({
        cause: 'applied',
        proposalPaths: [p('commands.mcp')],
        intervening: [allowlisted('agents.defaults.thinkingDefault')],
      }),
    ).toEqual({ rebase: true });
  });

  it('an outside edit, a change that needed an owner, or a shared path voids it', () => {
    const proposalPaths = [p('commands.mcp')];
    expect(rebaseVerdict({ cause: 'outside', proposalPaths, intervening: [allowlisted('a.b')] })).toMatchObject({
      rebase: false,
      reason: 'outside_edit',
    });
    expect(
      rebaseVerdict({ cause: 'applied', proposalPaths, intervening: [{ path: p('gateway.port'), tier: 'protected' }] }),
    ).toMatchObject({ rebase: false, reason: 'needs_approval' });
    expect(
      rebaseVerdict({ cause: 'applied', proposalPaths, intervening: [allowlisted('commands.mcp')] }),
    ).toMatchObject({ rebase: false, reason: 'same_path' });
    expect(rebaseVerdict({ cause: 'applied', proposalPaths, intervening: [allowlisted('commands')] })).toMatchObject({
      rebase: false,
      reason: 'same_path',
    });
    expect(rebaseVerdict({ cause: 'applied', proposalPaths: [], intervening: [] })).toMatchObject({
      rebase: false,
      reason: 'no_change',
    });
  });

  it('paths meet when one holds the other, erring towards "meet" for array elements', () => {
    expect(pathsMeet(p('a.b'), p('a.b.c'))).toBe(true);
    expect(pathsMeet(p('a.b.c'), p('a.b'))).toBe(true);
    expect(pathsMeet(p('a.b'), p('a.c'))).toBe(false);
    expect(pathsMeet(p('agents.list'), p('agents.list[id=main].model'))).toBe(true);
    expect(pathsMeet(p('agents.list[id=main].model'), p('agents.list[id=ops].model'))).toBe(false);
    expect(pathsMeet(p('agents.list[id=main]'), p('agents.list[0]'))).toBe(true);
    expect(pathsMeet(p('a."b.c"'), p('a.b.c'))).toBe(false);
  });

  it('property: a rebase never happens over a shared path or a change above allowlisted', () => {
    const pathArb = fc
      .array(fc.constantFrom('a', 'b', 'c', 'list[id=x]', 'list[id=y]', 'list', 'list[0]'), {
        minLength: 1,
        maxLength: 4,
      })
      .map((parts) => p(parts.join('.')));
    const tierArb = fc.constantFrom<Tier>('allowlisted', 'allowlisted', 'protected', 'dangerous');
    fc.assert(
      fc.property(
        fc.constantFrom<'applied' | 'outside'>('applied', 'applied', 'outside'),
        fc.array(pathArb, { maxLength: 4 }),
        fc.array(fc.record({ path: pathArb, tier: tierArb }), { maxLength: 4 }),
        (cause, proposalPaths, intervening) => {
          const verdict = rebaseVerdict({ cause, proposalPaths, intervening });
          const shared = intervening.some((change) => proposalPaths.some((path) => pathsMeet(path, change.path)));
          const approved = intervening.some((change) => change.tier !== 'allowlisted');
          const expected = cause === 'applied' && proposalPaths.length > 0 && !shared && !approved;
          expect(verdict.rebase).toBe(expected);
        },
      ),
    );
  });
});

describe('replayChange: the same change on the new base, or nothing', () => {
  it('carries a change over an unrelated one and keeps both', () => {
    const base = { commands: { mcp: false }, agents: { defaults: { thinkingDefault: 'low' } } };
    const proposed = { commands: { mcp: true }, agents: { defaults: { thinkingDefault: 'low' } } };
    const current = { commands: { mcp: false }, agents: { defaults: { thinkingDefault: 'high' } } };
    expect(replayChange(base, proposed, current)).toEqual({
      commands: { mcp: true },
      agents: { defaults: { thinkingDefault: 'high' } },
    });
  });

  it('refuses when the change would land differently: a replaced parent, a shifted element', () => {
    // The proposal adds x = {k: 1}; meanwhile x = {j: 2} appeared: replaying would drop j.
    expect(replayChange({}, { x: { k: 1 } }, { x: { j: 2 } })).toBeNull();
    // The proposal edits the element at index 1 (ops); an element inserted before it shifts it.
    const base = {
      list: [
        { id: 'main', m: 1 },
        { id: 'ops', m: 1 },
      ],
    };
    const proposed = {
      list: [
        { id: 'main', m: 1 },
        { id: 'ops', m: 2 },
      ],
    };
    const current = {
      list: [
        { id: 'new', m: 1 },
        { id: 'main', m: 1 },
        { id: 'ops', m: 1 },
      ],
    };
    const replayed = replayChange(base, proposed, current);
    if (replayed !== null) {
      // Only acceptable if it really edited "ops" and nothing else.
      expect(replayed).toEqual({
        list: [
          { id: 'new', m: 1 },
          { id: 'main', m: 1 },
          { id: 'ops', m: 2 },
        ],
      });
    }
    // A path that is gone.
    expect(replayChange({ a: { b: 1 } }, { a: { b: 2 } }, {})).toBeNull();
  });

  it('property: a replay is exactly the proposal on top of the intervening change, or null', () => {
    fc.assert(
      fc.property(
        documentArb(3),
        fc.integer(),
        fc.integer(),
        fc.array(scalarArb, { maxLength: 4 }),
        (base, s1, s2, pool) => {
          const proposed = mutate(base, rng(s1), pool) as JsonObject;
          const current = mutate(base, rng(s2), pool) as JsonObject;
          if (proposed === null || typeof proposed !== 'object' || Array.isArray(proposed)) return;
          if (current === null || typeof current !== 'object' || Array.isArray(current)) return;
          const replayed = replayChange(base, proposed, current);
          if (replayed === null) return;
          expect(sameLeaves(diffDocuments(current, replayed).leaves, diffDocuments(base, proposed).leaves)).toBe(true);
          expect(sameLeaves(diffDocuments(proposed, replayed).leaves, diffDocuments(base, current).leaves)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: changes to disjoint parts of a document always carry over, and the result holds both', () => {
    fc.assert(
      fc.property(documentArb(3), documentArb(3), fc.integer(), fc.integer(), (left, right, s1, s2) => {
        const base = { left, right };
        const editedLeft = mutate(left, rng(s1), [1, 'x']);
        const editedRight = mutate(right, rng(s2), [2, 'y']);
        const proposed = { left: editedLeft, right };
        const current = { left, right: editedRight };
        const proposalPaths = diffDocuments(base, proposed).leaves.map((leaf) => leaf.path);
        const intervening = diffDocuments(base, current).leaves.map((leaf) => ({
          path: leaf.path,
          tier: 'allowlisted' as Tier,
        }));
        if (proposalPaths.length === 0) return;
        expect(rebaseVerdict({ cause: 'applied', proposalPaths, intervening }).rebase).toBe(true);
        expect(replayChange(base, proposed, current)).toEqual({ left: editedLeft, right: editedRight });
      }),
      { numRuns: 300 },
    );
  });
});
