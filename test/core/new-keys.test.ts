import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffDocuments } from '../../src/core/diff.js';
import type { JsonObject } from '../../src/core/json.js';
import { editDistance, newKeysOf } from '../../src/core/new-keys.js';
import { formatPath } from '../../src/core/path.js';

/** The new keys between two documents, as the plan computes them. */
function newKeys(base: JsonObject, target: JsonObject) {
  return newKeysOf(base, diffDocuments(base, target).leaves, formatPath);
}

const base: JsonObject = {
  commands: { mcp: false, restart: false },
  gateway: { port: 18789, auth: { token: 'x' } },
  agents: { list: [{ id: 'main', model: 'a' }] },
  mcp: { servers: { github: { command: 'npx' } } },
};

describe('new keys on the card', () => {
  it('a bulk addition lists every new key but guesses a likely one only for the first 64 (new × existing comparisons would be quadratic)', () => {
    const groups = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`group-${100000 + i}`, { on: true }]));
    const bulk = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`group-${200000 + i}`, { on: true }]));
    const found = newKeys({ groups }, { groups: { ...groups, ...bulk } });
    expect(found).toHaveLength(500);
    expect(found.filter((key) => key.similarTo !== undefined).length).toBeLessThanOrEqual(64);
    expect(found[0]?.similarTo).toMatch(/^groups\.group-/);
  });

  it('a misspelt top-level key is new, and names the key it was probably meant to be', () => {
    expect(newKeys(base, { ...base, comands: { mcp: true } })).toEqual([{ path: 'comands', similarTo: 'commands' }]);
  });

  it('a nested typo is found at the level where it starts, once however many leaves it has', () => {
    expect(
      newKeys(base, { ...base, gateway: { ...(base.gateway as JsonObject), auht: { token: 'y', mode: 'z' } } }),
    ).toEqual([{ path: 'gateway.auht', similarTo: 'gateway.auth' }]);
  });

  it('case-only differences and swapped letters are caught; unrelated new keys have no suggestion', () => {
    expect(newKeys(base, { ...base, Commands: { mcp: true } })).toEqual([{ path: 'Commands', similarTo: 'commands' }]);
    expect(newKeys(base, { ...base, gatewya: { port: 1 } })).toEqual([{ path: 'gatewya', similarTo: 'gateway' }]);
    expect(newKeys(base, { ...base, browser: { enabled: true } })).toEqual([{ path: 'browser' }]);
  });

  it('changing or removing existing keys flags nothing', () => {
    expect(newKeys(base, { ...base, commands: { mcp: true, restart: false } })).toEqual([]);
    const { gateway: _gone, ...rest } = base;
    expect(newKeys(base, rest)).toEqual([]);
  });

  it('a new element of an id-keyed list is a new entry, not a new key; a new key inside an element is one', () => {
    expect(
      newKeys(base, {
        ...base,
        agents: {
          list: [
            { id: 'main', model: 'a' },
            { id: 'ops', model: 'b' },
          ],
        },
      }),
    ).toEqual([]);
    expect(newKeys(base, { ...base, agents: { list: [{ id: 'main', model: 'a', modle: 'b' }] } })).toEqual([
      { path: 'agents.list[id=main].modle', similarTo: 'agents.list[id=main].model' },
    ]);
  });

  it('a new MCP server is a new key under mcp.servers (said, not suggested away)', () => {
    expect(
      newKeys(base, { ...base, mcp: { servers: { github: { command: 'npx' }, filesystem: { command: 'x' } } } }),
    ).toEqual([{ path: 'mcp.servers.filesystem' }]);
  });

  it('no suggestion where the proposer cannot see the keys (inside a redacted object)', () => {
    const target = { ...base, gateway: { port: 18789, auth: { token: 'x', tokn: 'guess' } } };
    const leaves = diffDocuments(base, target).leaves;
    expect(newKeysOf(base, leaves, formatPath)).toEqual([
      { path: 'gateway.auth.tokn', similarTo: 'gateway.auth.token' },
    ]);
    const hidden = (path: Parameters<typeof formatPath>[0]) => formatPath(path) === 'gateway.auth';
    expect(newKeysOf(base, leaves, formatPath, hidden)).toEqual([{ path: 'gateway.auth.tokn' }]);
  });

  it('keys that are not identifiers keep their quoting', () => {
    expect(newKeys(base, { ...base, 'team.ops': { a: 1 } })).toEqual([{ path: '"team.ops"' }]);
  });

  it('edit distance counts a swap of neighbours as one edit and stops above its limit', () => {
    expect(editDistance('commands', 'comands')).toBe(1);
    expect(editDistance('gateway', 'gatewya')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('model', 'something else', 2)).toBe(3);
  });

  it('edit distance with its early stop agrees with the full table, capped at limit + 1', () => {
    // Optimal string alignment, the whole table: the definition the fast version is held to.
    const full = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) =>
        Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
      ) as number[][];
      for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
          const row = d[i] as number[];
          const up = d[i - 1] as number[];
          row[j] = Math.min(
            (up[j] as number) + 1,
            (row[j - 1] as number) + 1,
            (up[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
          );
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
            row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
          }
        }
      }
      return (d[a.length] as number[])[b.length] as number;
    };
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '-', '1'), maxLength: 12 });
    fc.assert(
      fc.property(word, word, fc.integer({ min: 0, max: 4 }), (a, b, limit) => {
        expect(editDistance(a, b, limit)).toBe(Math.min(full(a, b), limit + 1));
      }),
      { numRuns: 5000 },
    );
  });
});
