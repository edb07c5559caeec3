import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffDocuments } from '../../src/core/diff.js';
import { CountersignError } from '../../src/core/errors.js';
import { documentHash, hashPattern } from '../../src/core/hash.js';
import { deepEqual, isObject, type Json, type JsonObject } from '../../src/core/json.js';
import type { Operation } from '../../src/core/operations.js';
import { applyOperations, type PatchForm } from '../../src/core/patch.js';
import { type Plan, type PlanResult, planChange } from '../../src/core/plan.js';
import { type CompiledPolicy, compilePolicy, type Tier, tierRank, tiers } from '../../src/core/policy.js';
import { REDACTED, redactValue } from '../../src/core/redact.js';
import { errorOf } from '../support/errors.js';
import { documentPairArb, fcOptions, keyPool } from './arbitraries.js';

const redact = ['**.token', '**.apiKey', 'mcp.servers.*.env.*', 'agents.list[id=main].secret', 'plain[].pw'];

function policyOf(extra: Record<string, unknown> = {}): CompiledPolicy {
  return compilePolicy({
    version: 1,
    mode: 'approve',
    redact,
    rules: [
      { id: 'tune', match: ['agents.list[].model', 'agents.defaults.**'], tier: 'allowlisted' },
      { id: 'sandbox', match: ['agents.list[].sandbox.mode'], tier: 'dangerous', when: { toNot: ['all'] } },
      { id: 'mcp', match: ['mcp.servers.**'], tier: 'dangerous', review: 'mcp', restart: true },
      { id: 'auth', match: ['gateway.auth.**'], tier: 'blocked' },
    ],
    ...extra,
  });
}

const policy = policyOf();
const HASH = `hmac-sha256:${'a'.repeat(64)}`;
const KEY = Buffer.alloc(32, 7);

function planOf(p: CompiledPolicy, base: JsonObject, hash: string, form: PatchForm): PlanResult {
  return planChange(p, base, hash, form, { hashKey: KEY });
}

function plan(base: JsonObject, form: PatchForm, p: CompiledPolicy = policy): Plan {
  const result = planOf(p, base, HASH, form);
  if (result.kind !== 'change') throw new Error('expected a change');
  return result;
}

const replace = (document: Json): PatchForm => ({ kind: 'replace', document });
const merge = (patch: Json, replacePaths: string[] = []): PatchForm => ({ kind: 'merge', patch, replacePaths });
const operations = (ops: Operation[]): PatchForm => ({ kind: 'operations', operations: ops });

describe('planChange — basics', () => {
  const base = {
    agents: { defaults: { thinkingDefault: 'low' }, list: [{ id: 'main', model: 'a', sandbox: { mode: 'all' } }] },
    commands: { mcp: false },
  };

  it('reports "unchanged" when nothing changes (including a placeholder that restores the same secret)', () => {
    expect(planOf(policy, base, HASH, merge({}))).toEqual({ kind: 'unchanged' });
    expect(planOf(policy, base, HASH, replace(structuredClone(base)))).toEqual({ kind: 'unchanged' });
    const withSecret = { channels: { tg: { token: 'S' } } };
    expect(planOf(policy, withSecret, HASH, merge({ channels: { tg: { token: REDACTED } } }))).toEqual({
      kind: 'unchanged',
    });
    // reordering an id-keyed list is not a change
    const two = { agents: { list: [{ id: 'a' }, { id: 'b' }] } };
    expect(planOf(policy, two, HASH, replace({ agents: { list: [{ id: 'b' }, { id: 'a' }] } }))).toEqual({
      kind: 'unchanged',
    });
  });

  it('carries hashes, tier, rule ids, restart and review', () => {
    const result = plan(base, merge({ agents: { list: [{ id: 'main', model: 'b', sandbox: { mode: 'off' } }] } }));
    expect(result.baseHash).toBe(HASH);
    expect(result.targetHash).toBe(documentHash(KEY, result.target));
    expect(result.patchHash).toMatch(hashPattern);
    expect(result.patchHash).toBe(
      documentHash(
        KEY,
        diffDocuments(base, result.target).operations.map((p) => p.operation),
      ),
    );
    expect(result.tier).toBe('dangerous');
    expect(result.changes.map((c) => [c.path, c.tier, c.ruleId])).toEqual([
      ['agents.list[id=main].model', 'allowlisted', 'tune'],
      ['agents.list[id=main].sandbox.mode', 'dangerous', 'sandbox'],
    ]);
    expect(result.ruleIds.sort()).toEqual(['sandbox', 'tune']);
    expect(result.restartRequired).toBe(false);
    expect(result.refusedPaths).toEqual([]);
    expect(deepEqual(applyOperations(base, result.operations), result.target)).toBe(true);
  });

  it('an MCP change sets review and restart; a blocked change is refused', () => {
    const mcp = plan(base, merge({ mcp: { servers: { fs: { command: 'npx' } } } }));
    expect(mcp).toMatchObject({ tier: 'dangerous', review: 'mcp', restartRequired: true, refusedPaths: [] });
    const blocked = plan(base, merge({ gateway: { auth: { mode: 'none' } }, agents: { defaults: { x: 1 } } }));
    expect(blocked.tier).toBe('blocked');
    expect(blocked.refusedPaths).toEqual(['gateway.auth.mode']);
  });

  it('propagates invalid patches', () => {
    expect(errorOf(() => planOf(policy, base, HASH, merge('x'))).code).toBe('invalid_patch');
    expect(errorOf(() => planOf(policy, base, HASH, operations([{ op: 'remove', path: '/nope' }]))).code).toBe(
      'invalid_patch',
    );
    expect(
      errorOf(() => planOf(policy, base, HASH, operations([{ op: 'add', path: '/__proto__/x', value: 1 }]))).code,
    ).toBe('forbidden_key');
  });

  it('a dangerous edit inside a list with duplicate ids is dangerous', () => {
    const dup: JsonObject = { agents: { list: [{ id: 'a' }, { id: 'a', sandbox: { mode: 'all' } }] } };
    const result = plan(dup, replace({ agents: { list: [{ id: 'a' }, { id: 'a', sandbox: { mode: 'off' } }] } }));
    expect(result.changes.map((c) => [c.path, c.tier])).toEqual([['agents.list', 'dangerous']]);
    expect(result.tier).toBe('dangerous');
  });
});

describe('planChange — secrets never leave the document', () => {
  const secretArb = fc.string({ minLength: 6, maxLength: 12 }).map((s) => `SECRET-${s}`);
  const placements: Array<(doc: JsonObject, secret: string) => void> = [
    (doc, s) => {
      doc.channels = { telegram: { token: s, name: 'tg' } };
    },
    (doc, s) => {
      doc.mcp = { servers: { fs: { command: 'x', env: { API: s } } } };
    },
    (doc, s) => {
      doc.agents = {
        list: [
          { id: 'main', secret: s, apiKey: s },
          { id: 'ops', model: 'm' },
        ],
      };
    },
    (doc, s) => {
      doc.plain = [{ pw: s }, { pw: 'other', x: 1 }];
    },
    (doc, s) => {
      doc.dups = [
        { id: 'a', token: s },
        { id: 'a', token: 'x' },
      ];
    },
  ];
  const placementArb = fc.subarray(
    placements.map((_, index) => index),
    { minLength: 1 },
  );

  /**
   * SPEC §4: the document's secrets never show, anywhere; what the proposer wrote itself shows
   * on the owner's card (it must see what it approves) and nowhere else.
   */
  const check = (p: Plan, documentSecrets: string[], supplied: string[]) => {
    const owner = JSON.stringify({ changes: p.changes, operations: p.operations, refused: p.refusedPaths });
    const shown = JSON.stringify({ changes: p.publicChanges, operations: p.publicOperations, refused: p.refusedPaths });
    for (const secret of [...documentSecrets, ...supplied]) expect(shown).not.toContain(secret);
    for (const secret of documentSecrets) if (!supplied.includes(secret)) expect(owner).not.toContain(secret);
  };
  const distinct = (a: string, b: string) => !a.includes(b) && !b.includes(a);

  it('not in changes or operations, whatever the edit (replace form)', () => {
    fc.assert(
      fc.property(
        documentPairArb(2),
        secretArb,
        secretArb,
        placementArb,
        placementArb,
        fc.constantFrom('keep', 'placeholder', 'new', 'drop'),
        ([before, after], oldSecret, newSecret, inBefore, inAfter, mode) => {
          fc.pre(distinct(oldSecret, newSecret));
          const base = structuredClone(before);
          for (const index of inBefore) placements[index]?.(base, oldSecret);
          const target = structuredClone(after);
          const value = mode === 'keep' ? oldSecret : mode === 'placeholder' ? REDACTED : newSecret;
          if (mode !== 'drop') for (const index of inAfter) placements[index]?.(target, value);
          let result: ReturnType<typeof planChange>;
          try {
            result = planOf(policy, base, HASH, replace(target));
          } catch (error) {
            // a placeholder where there is no current secret is refused, which is fine
            expect((error as CountersignError).code).toBe('invalid_patch');
            expect((error as Error).message).not.toContain(oldSecret);
            return;
          }
          const supplied = mode === 'keep' ? [oldSecret] : mode === 'new' ? [newSecret] : [];
          if (result.kind === 'change') check(result, [oldSecret], supplied);
        },
      ),
      fcOptions,
    );
  });

  it('not in changes or operations for merge patches touching the secrets', () => {
    fc.assert(
      fc.property(secretArb, secretArb, (oldSecret, newSecret) => {
        fc.pre(distinct(oldSecret, newSecret));
        const base: JsonObject = {};
        for (const place of placements) place(base, oldSecret);
        const patches: Json[] = [
          { channels: { telegram: { token: newSecret } } },
          { channels: { telegram: null } },
          { channels: null, mcp: null, agents: null, plain: null, dups: null },
          { mcp: { servers: { fs: { env: { API: newSecret, OTHER: newSecret } } } } },
          { agents: { list: [{ id: 'main', secret: newSecret, model: 'x' }] } },
          { agents: { list: [{ id: 'new', apiKey: newSecret }] } },
          { agents: { list: [{ id: 'ops', model: 'z' }, { id: 'ops2' }] } },
          { plain: [{ pw: newSecret }] },
          { plain: [{ pw: REDACTED }, { pw: REDACTED, y: 2 }] },
          {
            dups: [
              { id: 'a', token: REDACTED },
              { id: 'a', token: REDACTED, extra: true },
            ],
          },
        ];
        for (const patch of patches) {
          let result: PlanResult;
          try {
            result = planOf(policy, base, HASH, merge(patch));
          } catch (error) {
            // A placeholder in a plain list whose elements moved is refused (a swap would be unseen).
            expect((error as CountersignError).code).toBe('invalid_patch');
            expect(JSON.stringify((error as CountersignError).toBody())).not.toContain(oldSecret);
            continue;
          }
          if (result.kind === 'change') check(result, [oldSecret], [newSecret]);
        }
        const replaced = planOf(policy, base, HASH, merge({ agents: { list: [{ id: 'ops' }] } }, ['agents.list']));
        if (replaced.kind === 'change') check(replaced, [oldSecret], []);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses operations that would move or copy a secret to a path that is not redacted', () => {
    const base = {
      channels: { telegram: { token: 'SECRET-tg' } },
      mcp: { servers: { fs: { env: { API: 'SECRET-env' } } } },
      agents: { defaults: { thinkingDefault: 'low' }, list: [{ id: 'main', secret: 'SECRET-main', model: 'm' }] },
    };
    const attacks: Operation[][] = [
      [{ op: 'copy', from: '/channels/telegram/token', path: '/agents/defaults/thinkingDefault' }],
      [{ op: 'move', from: '/channels/telegram/token', path: '/agents/defaults/stolen' }],
      [{ op: 'copy', from: '/mcp/servers/fs/env', path: '/agents/defaults/env' }],
      [{ op: 'copy', from: '/mcp/servers/fs', path: '/agents/defaults/fs' }],
      // renaming the id the redact pattern names
      [{ op: 'replace', path: '/agents/list/0/id', value: 'renamed' }],
      // making the id-keyed list plain, so "[id=main]" no longer matches
      [{ op: 'add', path: '/agents/list/-', value: { id: 'main' } }],
      // two steps: park the secret somewhere redacted, then copy it out
      [
        { op: 'copy', from: '/mcp/servers/fs/env/API', path: '/x' },
        { op: 'copy', from: '/x', path: '/agents/defaults/y' },
      ],
    ];
    for (const attack of attacks) {
      const error = errorOf(() => planOf(policy, base, HASH, operations(attack)));
      expect(error.code).toBe('invalid_patch');
      expect(JSON.stringify(error.toBody())).not.toContain('SECRET');
    }
  });
});

describe('planChange — secrets: allowed moves', () => {
  it('moving a secret to another redacted path, and reordering elements that hold secrets, are allowed', () => {
    const base = {
      channels: { telegram: { token: 'SECRET-tg' } },
      agents: {
        list: [
          { id: 'a', apiKey: 'SECRET-a' },
          { id: 'b', apiKey: 'SECRET-b' },
        ],
      },
    };
    const moved = plan(base, operations([{ op: 'move', from: '/channels/telegram', path: '/channels/slack' }]));
    expect(moved.changes.map((c) => [c.path, c.op, c.before ?? c.after])).toEqual([
      ['channels.telegram.token', 'remove', REDACTED],
      ['channels.slack.token', 'add', REDACTED],
    ]);
    expect(JSON.stringify(moved.operations)).not.toContain('SECRET');
    expect(
      planOf(policy, base, HASH, operations([{ op: 'move', from: '/agents/list/1', path: '/agents/list/0' }])),
    ).toEqual({
      kind: 'unchanged',
    });
  });

  it('copying out of a redacted path is judged by paths alone: the same refusal whatever the value', () => {
    // Even a value that is also shown elsewhere: answering differently would tell the agent so.
    for (const token of ['shared', 'SECRET-x', 42, { nested: true }]) {
      const base = { channels: { telegram: { token } }, label: 'shared' };
      const error = errorOf(() =>
        planOf(policy, base, HASH, operations([{ op: 'copy', from: '/channels/telegram/token', path: '/agents' }])),
      );
      expect(error.toBody()).toEqual({
        error: {
          code: 'invalid_patch',
          message:
            'agents would receive the value of the redacted setting channels.telegram.token, and agents is not redacted. A secret can only be copied or moved to a redacted place.',
          path: 'agents',
          from: 'channels.telegram.token',
          secretRefusal: 'secret_exposure',
        },
      });
    }
  });
});

describe('planChange — secrets under random operation sequences', () => {
  const pointerArb = fc.constantFrom(
    '/channels/telegram/token',
    '/channels/telegram',
    '/mcp/servers/fs/env/API',
    '/mcp/servers/fs',
    '/agents/list/0',
    '/agents/list/0/secret',
    '/agents/list/0/id',
    '/agents/defaults/model',
    '/plain/0',
    '/plain/0/pw',
    '/x',
    '/y',
  );
  const opArb: fc.Arbitrary<Operation> = fc.oneof(
    fc.record({ op: fc.constant('copy' as const), from: pointerArb, path: pointerArb }),
    fc.record({ op: fc.constant('move' as const), from: pointerArb, path: pointerArb }),
    fc.record({
      op: fc.constant('add' as const),
      path: fc.constantFrom('/agents/list/-', '/plain/-', '/x'),
      value: fc.constantFrom<Json>({ id: 'main' }, { pw: 'p' }, 'v'),
    }),
    fc.record({
      op: fc.constant('replace' as const),
      path: fc.constantFrom('/agents/list/0/id', '/channels/telegram'),
      value: fc.constantFrom<Json>('renamed', 'ops', {}),
    }),
    fc.record({ op: fc.constant('remove' as const), path: pointerArb }),
  );
  it('whatever is applied, the card and the redacted target never show a secret', () => {
    const base: JsonObject = {
      channels: { telegram: { token: 'SECRET-tg' } },
      mcp: { servers: { fs: { env: { API: 'SECRET-env' } } } },
      agents: { defaults: { model: 'm' }, list: [{ id: 'main', secret: 'SECRET-main' }, { id: 'ops' }] },
      plain: [{ pw: 'SECRET-pw' }],
    };
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 4 }), (ops) => {
        let result: ReturnType<typeof planChange>;
        try {
          result = planOf(policy, base, HASH, operations(ops));
        } catch (error) {
          expect(error).toBeInstanceOf(CountersignError);
          expect(JSON.stringify((error as CountersignError).toBody())).not.toContain('SECRET');
          return;
        }
        if (result.kind !== 'change') return;
        const shown = JSON.stringify([
          result.changes,
          result.operations,
          redactValue(policy.redactPatterns, result.target, []),
        ]);
        expect(shown).not.toContain('SECRET');
      }),
      { numRuns: 500 },
    );
  });
});

describe('planChange — hard-block mode', () => {
  const tierArb = fc.constantFrom(...tiers);
  const policyArb = fc
    .tuple(
      fc.constantFrom('approve', 'hard-block'),
      tierArb,
      fc.array(
        fc.record({
          match: fc.array(
            fc.constantFrom('**', '*', ...keyPool.filter((k) => /^[a-z]+$/.test(k)), 'list[]', '**.mode', 'list.**'),
            {
              minLength: 1,
              maxLength: 2,
            },
          ),
          tier: tierArb,
        }),
        { maxLength: 5 },
      ),
    )
    .map(([mode, defaultTier, rules]) =>
      compilePolicy({
        version: 1,
        mode,
        defaultTier,
        redact: ['**.token'],
        rules: rules.map((rule, index) => ({ id: `r${index}`, ...rule })),
      }),
    );

  it('refuses every change above allowlisted in hard-block mode, and only blocked ones in approve mode', () => {
    fc.assert(
      fc.property(policyArb, documentPairArb(2), (p, [before, after]) => {
        let result: ReturnType<typeof planChange>;
        try {
          result = planOf(p, before, HASH, replace(after));
        } catch (error) {
          // "[redacted]" at a token path with no current value
          expect((error as CountersignError).code).toBe('invalid_patch');
          return;
        }
        if (result.kind !== 'change') {
          expect(diffDocuments(before, after).leaves).toEqual([]);
          return;
        }
        const refused = new Set(result.refusedPaths);
        for (const change of result.changes) {
          if (change.tier === 'blocked') expect(refused.has(change.path)).toBe(true);
          if (p.mode === 'hard-block') expect(refused.has(change.path)).toBe(change.tier !== 'allowlisted');
          else expect(refused.has(change.path)).toBe(change.tier === 'blocked');
        }
        // the proposal's tier is the highest change tier
        const highest = result.changes
          .map((c) => c.tier)
          .reduce<Tier>((a, b) => (tierRank(a) >= tierRank(b) ? a : b), 'allowlisted');
        expect(result.tier).toBe(highest);
        expect(result.refusedPaths.length === 0).toBe(
          p.mode === 'hard-block' ? highest === 'allowlisted' : highest !== 'blocked',
        );
      }),
      fcOptions,
    );
  });

  it('example: hard-block refuses a protected change that approve mode would send for approval', () => {
    const base = { agents: { defaults: { thinkingDefault: 'low' } }, tools: { exec: { host: 'sandbox' } } };
    const form = merge({ agents: { defaults: { thinkingDefault: 'high' } }, tools: { exec: { host: 'gateway' } } });
    const approve = plan(base, form);
    expect(approve.refusedPaths).toEqual([]);
    const hard = plan(base, form, policyOf({ mode: 'hard-block' }));
    expect(hard.refusedPaths).toEqual(['tools.exec.host']);
    expect(hard.tier).toBe('protected');
  });
});

describe('planChange — target is what the operations produce', () => {
  it('for random edits, applying the plan operations to base gives the target', () => {
    fc.assert(
      fc.property(documentPairArb(), ([before, after]) => {
        const result = planOf(compilePolicy({ version: 1, mode: 'approve', rules: [] }), before, HASH, replace(after));
        if (result.kind === 'unchanged') return;
        expect(deepEqual(result.target, after)).toBe(true);
        expect(isObject(result.target)).toBe(true);
        expect(deepEqual(applyOperations(before, result.operations), after)).toBe(true);
      }),
      fcOptions,
    );
  });
});
