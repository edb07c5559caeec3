import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffDocuments } from '../../src/core/diff.js';
import type { Json, JsonObject } from '../../src/core/json.js';
import { formatPath, parsePath } from '../../src/core/path.js';
import { planChange } from '../../src/core/plan.js';
import { classify, compilePolicy, rulesMatching } from '../../src/core/policy.js';
import { loadPolicy, SetupError } from '../../src/service/context.js';
import { fixture, fixtures, shippedPolicy, tempDir } from '../support/harness.js';

type GuardCase = { name: string; path: string[]; before?: Json; after?: Json; tier: string; ruleId?: string };

const policyDir = join(shippedPolicy, '..');
const KEY = Buffer.alloc(32, 7);
const BASE_HASH = `hmac-sha256:${'b'.repeat(64)}`;
const { policy } = loadPolicy(shippedPolicy);
const guardCases = JSON.parse(readFileSync(join(fixtures, 'guard-expectations.json'), 'utf8')) as GuardCase[];

describe('OpenClaw guard expectations against the shipped default policy', () => {
  for (const guard of guardCases) {
    it(guard.name, () => {
      const path = guard.path.flatMap((segment) => parsePath(segment));
      const op = guard.before === undefined ? 'add' : guard.after === undefined ? 'remove' : 'replace';
      const leaf = {
        path,
        op,
        ...(guard.before === undefined ? {} : { before: guard.before }),
        ...(guard.after === undefined ? {} : { after: guard.after }),
      } as const;
      const decision = classify(policy, leaf);
      expect(decision.tier).toBe(guard.tier);
      if (guard.ruleId) expect(decision.ruleId).toBe(guard.ruleId);
    });
  }

  it('covers every tier the issue names', () => {
    const tiers = new Set(guardCases.map((guard) => guard.tier));
    expect(tiers).toEqual(new Set(['allowlisted', 'protected', 'dangerous']));
  });

  it('every dangerous rule explains itself to a non-expert', () => {
    for (const rule of policy.rules.filter((entry) => entry.tier === 'dangerous' || entry.tier === 'blocked')) {
      expect(rule.explain, rule.id).toMatch(/\w+ \w+ \w+/);
    }
  });

  it('the hard-block policy is the default with mode "hard-block"', () => {
    const strict = JSON.parse(readFileSync(join(policyDir, 'openclaw-hard-block.json'), 'utf8'));
    const standard = JSON.parse(readFileSync(shippedPolicy, 'utf8'));
    expect(strict.mode).toBe('hard-block');
    expect({ ...strict, mode: 'approve' }).toEqual(standard);
    expect(() => compilePolicy(strict)).not.toThrow();
  });

  it('both OpenClaw config forms describe the same agents and classify alike', () => {
    const keyed = fixture('openclaw.json') as JsonObject;
    const legacy = fixture('openclaw.legacy.json') as JsonObject;
    const removeOps = (document: JsonObject, form: 'keyed' | 'legacy') => {
      const target = structuredClone(document) as {
        agents: { entries?: Record<string, unknown>; list?: Array<{ id: string }> };
      };
      if (form === 'keyed') delete target.agents.entries?.ops;
      else target.agents.list = target.agents.list?.filter((agent) => agent.id !== 'ops');
      return target as unknown as JsonObject;
    };
    for (const [document, form] of [
      [keyed, 'keyed'],
      [legacy, 'legacy'],
    ] as const) {
      const plan = planChange(
        policy,
        document,
        BASE_HASH,
        { kind: 'replace', document: removeOps(document, form) },
        { hashKey: KEY },
      );
      expect(plan.kind).toBe('change');
      if (plan.kind !== 'change') return;
      expect(plan.tier, form).toBe('dangerous');
      const sandbox = plan.changes.find((change) => change.path.endsWith('sandbox.mode'));
      expect(sandbox?.tier).toBe('dangerous');
    }
  });

  it('reordering legacy agents is not a change', () => {
    const legacy = fixture('openclaw.legacy.json') as { agents: { list: unknown[] } } & JsonObject;
    const reordered = structuredClone(legacy);
    reordered.agents.list.reverse();
    expect(diffDocuments(legacy, reordered).leaves).toEqual([]);
  });

  it('no leaf of the fixture configs classified allowlisted is matched by any higher rule', () => {
    let allowlisted = 0;
    for (const name of ['openclaw.json', 'openclaw.legacy.json']) {
      const document = fixture(name) as JsonObject;
      for (const leaf of [...diffDocuments({}, document).leaves, ...diffDocuments(document, {}).leaves]) {
        if (classify(policy, leaf).tier !== 'allowlisted') continue;
        allowlisted += 1;
        expect(rulesMatching(policy, leaf).map((rule) => rule.tier)).toEqual(expect.arrayContaining(['allowlisted']));
        expect(
          rulesMatching(policy, leaf).every((rule) => rule.tier === 'allowlisted'),
          formatPath(leaf.path),
        ).toBe(true);
      }
    }
    expect(allowlisted).toBeGreaterThan(10);
  });
});

describe('a bad policy stops start-up with the field it got wrong', () => {
  const write = (policy: unknown) => {
    const file = join(tempDir(), 'policy.json');
    writeFileSync(file, JSON.stringify(policy));
    return file;
  };
  const base = () => JSON.parse(readFileSync(shippedPolicy, 'utf8'));
  // biome-ignore lint/suspicious/noExplicitAny: the cases edit raw policy JSON
  const cases: Array<[string, (policy: Record<string, any>) => void, RegExp]> = [
    [
      'unknown tier',
      (policy) => {
        policy.rules[0].tier = 'critical';
      },
      /rules\[0\]\.tier|rules\.0\.tier/,
    ],
    [
      'duplicate rule id',
      (policy) => {
        policy.rules[1].id = policy.rules[0].id;
      },
      /duplicate rule id/,
    ],
    [
      'bad pattern',
      (policy) => {
        policy.rules[0].match = ['agents..model'];
      },
      /empty segment/,
    ],
    [
      'unknown field',
      (policy) => {
        policy.rules[0].severity = 'high';
      },
      /severity/,
    ],
    [
      'wrong mode',
      (policy) => {
        policy.mode = 'permissive';
      },
      /mode/,
    ],
    [
      'unknown surface',
      (policy) => {
        policy.approval.surfaces.dangerous = ['sms'];
      },
      /surfaces/,
    ],
  ];
  for (const [name, edit, message] of cases) {
    it(name, () => {
      const policy = base();
      edit(policy);
      const file = write(policy);
      expect(() => loadPolicy(file)).toThrow(SetupError);
      expect(() => loadPolicy(file)).toThrow(message);
    });
  }
  it('not JSON at all', () => {
    const file = join(tempDir(), 'policy.json');
    writeFileSync(file, '{ rules: ');
    expect(() => loadPolicy(file)).toThrow(/not valid JSON/);
  });
});
