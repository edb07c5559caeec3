import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffDocuments, type Leaf } from '../../src/core/diff.js';
import { identityLeaves, valueAt } from '../../src/core/identity.js';
import type { Json, JsonObject } from '../../src/core/json.js';
import { formatPath, parsePath } from '../../src/core/path.js';
import { type CompiledPolicy, classify, compilePolicy } from '../../src/core/policy.js';
import { loadPolicy } from '../../src/service/context.js';
import { fixture, shippedPolicy } from '../support/harness.js';

const { policy: shipped } = loadPolicy(shippedPolicy);
const keyed = fixture('openclaw.json') as JsonObject;
const legacy = fixture('openclaw.legacy.json') as JsonObject;

/** The leaves a proposal would be classified by: the diff's, then the identity leaves (as `planChange` does). */
function leavesOf(policy: CompiledPolicy, base: JsonObject, target: JsonObject): { diff: Leaf[]; extra: Leaf[] } {
  const diff = diffDocuments(base, target).leaves;
  return { diff, extra: identityLeaves(policy, base, target, diff) };
}

// biome-ignore lint/suspicious/noExplicitAny: the tests edit raw config JSON
type Editable = Record<string, any>;

function edit(document: JsonObject, change: (copy: Editable) => void): JsonObject {
  const copy = structuredClone(document) as Editable;
  change(copy);
  return copy as JsonObject;
}

const summary = (leaves: Leaf[]) => leaves.map((leaf) => `${leaf.op} ${formatPath(leaf.path)}`);

describe('identityLeaves: a whole identity entry added or removed is a change at its own path', () => {
  it('removing a keyed agent whose every leaf is allowlisted adds a protected change at the agent', () => {
    const target = edit(keyed, (d) => {
      delete d.agents.entries.main;
    });
    const { diff, extra } = leavesOf(shipped, keyed, target);
    // The attack of issue 10 item 7: every leaf inside is allowlisted...
    expect(diff.map((leaf) => classify(shipped, leaf).tier)).toEqual(['allowlisted']);
    // ...but the agent itself is a change, and it is not.
    expect(extra).toEqual([
      { path: parsePath('agents.entries.main'), op: 'remove', before: { model: 'anthropic/claude-sonnet-4-6' } },
    ]);
    expect(classify(shipped, extra[0] as Leaf)).toMatchObject({ tier: 'protected', ruleId: 'agent-identity' });
  });

  it('adding a keyed agent carries the whole entry as the new value', () => {
    const helper = { model: 'anthropic/claude-opus-4-6', thinkingDefault: 'high' };
    const target = edit(keyed, (d) => {
      d.agents.entries.helper = helper;
    });
    const { diff, extra } = leavesOf(shipped, keyed, target);
    expect(diff.every((leaf) => classify(shipped, leaf).tier === 'allowlisted')).toBe(true);
    expect(extra).toEqual([{ path: parsePath('agents.entries.helper'), op: 'add', after: helper }]);
    expect(classify(shipped, extra[0] as Leaf).tier).toBe('protected');
  });

  it('legacy agents are identities by id; reordering them is no change at all', () => {
    const added = edit(legacy, (d) => {
      d.agents.list.push({ id: 'helper', model: 'anthropic/claude-opus-4-6' });
    });
    const { diff, extra } = leavesOf(shipped, legacy, added);
    expect(summary(diff)).toEqual(['add agents.list[id=helper].id', 'add agents.list[id=helper].model']);
    expect(diff.every((leaf) => classify(shipped, leaf).tier === 'allowlisted')).toBe(true);
    expect(summary(extra)).toEqual(['add agents.list[id=helper]']);
    expect(classify(shipped, extra[0] as Leaf)).toMatchObject({ tier: 'protected', ruleId: 'agent-identity' });

    const removed = edit(legacy, (d) => {
      d.agents.list = d.agents.list.filter((agent: { id: string }) => agent.id !== 'main');
    });
    expect(summary(leavesOf(shipped, legacy, removed).extra)).toEqual(['remove agents.list[id=main]']);

    const reordered = edit(legacy, (d) => {
      d.agents.list.reverse();
    });
    expect(leavesOf(shipped, legacy, reordered)).toEqual({ diff: [], extra: [] });
  });

  it('making the agent list plain (a duplicate id) counts as removing every agent in it', () => {
    const target = edit(legacy, (d) => {
      d.agents.list.push({ id: 'main', model: 'x' });
    });
    const { extra } = leavesOf(shipped, legacy, target);
    expect(summary(extra).sort()).toEqual(['remove agents.list[id=main]', 'remove agents.list[id=ops]']);
  });

  it('removing the container removes every entry in it', () => {
    const target = edit(keyed, (d) => {
      delete d.agents.entries;
      delete d.mcp;
    });
    const { extra } = leavesOf(shipped, keyed, target);
    expect(summary(extra).sort()).toEqual([
      'remove agents.entries.main',
      'remove agents.entries.ops',
      'remove mcp.servers.filesystem',
    ]);
  });

  it('nested identities each count: a new channel, its account and the account’s group', () => {
    const target = edit(keyed, (d) => {
      d.channels.slack = { accounts: { work: { groups: { C123: { requireMention: true } } } } };
    });
    const { diff, extra } = leavesOf(shipped, keyed, target);
    expect(diff.map((leaf) => classify(shipped, leaf).tier)).toEqual(['allowlisted']);
    expect(summary(extra)).toEqual([
      'add channels.slack',
      'add channels.slack.accounts.work',
      'add channels.slack.accounts.work.groups.C123',
    ]);
    expect(extra.map((leaf) => classify(shipped, leaf).ruleId)).toEqual([
      'channel-identity',
      'channel-accounts',
      'chat-places',
    ]);
  });

  it('an MCP server added or removed is a dangerous change with the MCP review', () => {
    const target = edit(keyed, (d) => {
      d.mcp.servers.github = { command: 'npx', args: ['-y', 'github-mcp'] };
    });
    const { extra } = leavesOf(shipped, keyed, target);
    expect(summary(extra)).toEqual(['add mcp.servers.github']);
    expect(classify(shipped, extra[0] as Leaf)).toMatchObject({
      tier: 'dangerous',
      ruleId: 'mcp-servers',
      review: 'mcp',
    });
  });

  it('an entry that changes but exists on both sides is no extra change', () => {
    const target = edit(keyed, (d) => {
      d.agents.entries.main = 'not an object any more';
      d.mcp.servers.filesystem.args = ['-y', 'other'];
    });
    expect(leavesOf(shipped, keyed, target).extra).toEqual([]);
  });

  it('an entry that is itself a leaf (empty, or a scalar) is not reported twice', () => {
    const target = edit(keyed, (d) => {
      d.agents.entries.empty = {};
      d.mcp.servers.odd = 'just a string';
    });
    const { diff, extra } = leavesOf(shipped, keyed, target);
    expect(summary(diff)).toEqual(['add agents.entries.empty', 'add mcp.servers.odd']);
    expect(extra).toEqual([]);
    // The leaf at the entry's own path is classified by the entry's rules anyway.
    expect(diff.map((leaf) => classify(shipped, leaf).ruleId)).toEqual(['agent-identity', 'mcp-servers']);
  });

  it('keys holding dots, brackets or quotes are one segment', () => {
    const target = edit(keyed, (d) => {
      d.mcp.servers['team.ops[west]'] = { command: 'x' };
      d.agents.entries['a"b'] = { model: 'm' };
    });
    const { extra } = leavesOf(shipped, keyed, target);
    expect(extra.map((leaf) => leaf.path.map((segment) => segment.key))).toEqual([
      ['agents', 'entries', 'a"b'],
      ['mcp', 'servers', 'team.ops[west]'],
    ]);
  });

  it('a policy without identities adds nothing', () => {
    const bare = compilePolicy({ version: 1, mode: 'approve', rules: [] });
    const target = edit(keyed, (d) => {
      delete d.agents.entries.main;
    });
    expect(leavesOf(bare, keyed, target).extra).toEqual([]);
  });

  it('identities are policy data: any pattern works, `**` included', () => {
    const policy = compilePolicy({ version: 1, mode: 'approve', identities: ['**.things.*'], rules: [] });
    const base = { a: { things: { x: { v: 1 } } } } as JsonObject;
    const target = { a: { things: { y: { v: 1 } } }, b: { c: { things: { z: { v: [1] } } } } } as JsonObject;
    expect(summary(leavesOf(policy, base, target).extra).sort()).toEqual([
      'add a.things.y',
      'add b.c.things.z',
      'remove a.things.x',
    ]);
  });

  it('property: every agent added or removed yields exactly one non-allowlisted change at that agent', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/);
    const agent = fc.record(
      {
        model: fc.constantFrom('anthropic/claude-opus-4-6', 'openai/gpt-5'),
        thinkingDefault: fc.constantFrom('low', 'high'),
      },
      { requiredKeys: [] },
    );
    const entries = fc.dictionary(name, agent, { maxKeys: 5 });
    fc.assert(
      fc.property(entries, entries, (before, after) => {
        const base = { agents: { entries: before } } as unknown as JsonObject;
        const target = { agents: { entries: after } } as unknown as JsonObject;
        const { extra } = leavesOf(shipped, base, target);
        const added = Object.keys(after).filter((id) => !Object.hasOwn(before, id));
        const removed = Object.keys(before).filter((id) => !Object.hasOwn(after, id));
        // An agent with no settings is `{}`, a leaf at its own path: classified there, not duplicated.
        const nonEmpty = (id: string, side: Record<string, object>) => Object.keys(side[id] ?? {}).length > 0;
        const expected = [
          ...added.filter((id) => nonEmpty(id, after)).map((id) => `add agents.entries.${id}`),
          ...removed.filter((id) => nonEmpty(id, before)).map((id) => `remove agents.entries.${id}`),
        ].sort();
        expect(summary(extra).sort()).toEqual(expected);
        for (const leaf of extra) expect(classify(shipped, leaf).tier).toBe('protected');
      }),
    );
  });

  it('is cheap on a wide change: 20,000 changed leaves', () => {
    const groups: Record<string, Json> = {};
    for (let index = 0; index < 20_000; index++) groups[`-100${index}`] = { requireMention: true };
    const base = { channels: { telegram: { groups } } } as JsonObject;
    const target = edit(base, (d) => {
      for (const group of Object.values(d.channels.telegram.groups) as Array<{ requireMention: boolean }>) {
        group.requireMention = false;
      }
    });
    const diff = diffDocuments(base, target).leaves;
    const started = performance.now();
    expect(identityLeaves(shipped, base, target, diff)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('valueAt reads paths the way the diff writes them', () => {
  const document = {
    a: { 'b.c': [{ id: 'x', v: 1 }], plain: [1, 2] },
    dup: [{ id: 'x' }, { id: 'x' }],
  } as JsonObject;
  it('follows keys, ids of id-keyed lists and indices', () => {
    expect(valueAt(document, [{ key: 'a' }, { key: 'b.c', id: 'x' }, { key: 'v' }])).toBe(1);
    expect(valueAt(document, [{ key: 'a' }, { key: 'plain', index: 1 }])).toBe(2);
    expect(valueAt(document, [])).toBe(document);
  });
  it('finds nothing through a list that is not id-keyed, a missing id, or an inherited key', () => {
    expect(valueAt(document, [{ key: 'dup', id: 'x' }])).toBeUndefined();
    expect(valueAt(document, [{ key: 'a' }, { key: 'b.c', id: 'y' }])).toBeUndefined();
    expect(valueAt(document, [{ key: 'toString' }])).toBeUndefined();
    expect(valueAt(document, [{ key: 'a' }, { key: 'plain' }, { key: 'length' }])).toBeUndefined();
  });
});
