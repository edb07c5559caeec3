import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultExecDocument, parseExecDocument } from '../../src/core/exec/document.js';
import type { Json, JsonObject } from '../../src/core/json.js';
import { parsePath } from '../../src/core/path.js';
import { planChange } from '../../src/core/plan.js';
import { classify, compilePolicy } from '../../src/core/policy.js';
import { fixtures, shippedPolicy } from '../support/harness.js';

const policyFile = join(shippedPolicy, '..', 'exec-approvals.json');
const policy = compilePolicy(JSON.parse(readFileSync(policyFile, 'utf8')));
const KEY = Buffer.alloc(32, 7);
const BASE_HASH = `hmac-sha256:${'b'.repeat(64)}`;

const legacy = JSON.parse(readFileSync(join(fixtures, 'exec-approvals', 'openclaw-legacy.json'), 'utf8')) as JsonObject;
const cautious = JSON.parse(
  readFileSync(join(fixtures, 'exec-approvals', 'openclaw-cautious.json'), 'utf8'),
) as JsonObject;

// biome-ignore lint/suspicious/noExplicitAny: the tests edit documents of arbitrary shape, as an agent would.
type Editable = Record<string, any>;

/** Plans replacing `base` with `edit(copy of base)`, and checks the result is still a valid exec document. */
function plan(base: JsonObject, edit: (document: Editable) => void) {
  const target = structuredClone(base) as Editable;
  edit(target);
  expect(parseExecDocument(target).ok).toBe(true);
  const result = planChange(policy, base, BASE_HASH, { kind: 'replace', document: target as Json }, { hashKey: KEY });
  if (result.kind !== 'change') throw new Error('expected a change');
  return result;
}

const leaf = (path: string, before?: Json, after?: Json) => ({
  path: parsePath(path),
  op: before === undefined ? ('add' as const) : after === undefined ? ('remove' as const) : ('replace' as const),
  ...(before === undefined ? {} : { before }),
  ...(after === undefined ? {} : { after }),
});

describe('policies/exec-approvals.json', () => {
  it('compiles, and every dangerous rule explains itself', () => {
    for (const rule of policy.rules.filter((entry) => entry.tier === 'dangerous')) {
      expect(rule.explain, rule.id).toMatch(/^[A-Z].* .* .* .*\.$/);
    }
  });

  const dangerous: [string, Json | undefined, Json | undefined, string][] = [
    ['defaults.security', 'allowlist', 'full', 'security-full'],
    ['agents.main.security', undefined, 'full', 'security-full'],
    ['defaults.security', 'allowlist', undefined, 'security-full'],
    ['defaults.ask', 'on-miss', 'off', 'ask-off'],
    ['agents.ops.ask', 'always', 'off', 'ask-off'],
    ['defaults.ask', 'on-miss', undefined, 'ask-off'],
    ['defaults.askFallback', 'deny', 'full', 'ask-fallback-full'],
    ['agents.*.askFallback', undefined, 'full', 'ask-fallback-full'],
    ['defaults.autoAllowSkills', false, true, 'auto-allow-skills'],
    ['defaults.strictInlineEval', true, false, 'strict-inline-eval-off'],
    ['defaults.strictInlineEval', true, undefined, 'strict-inline-eval-off'],
    ['totp.enabled', true, false, 'totp-off'],
    ['totp.enabled', true, undefined, 'totp-off'],
    ['totp.scope', 'destructive', 'elevated', 'totp-scope-narrowed-to-elevated'],
    ['totp.scope', 'all', 'elevated', 'totp-scope-narrowed-to-elevated'],
    ['totp.scope', 'all', 'destructive', 'totp-scope-narrowed-to-destructive'],
    ['totp.scope', 'all', undefined, 'totp-scope-removed'],
    ['totp.cooldownSeconds', 300, 86_400, 'totp-cooldown-longer'],
    ['defaults.maxAllowForSeconds', 3600, 604_800, 'allow-for-longer'],
    ['socket.path', '~/.openclaw/exec-approvals.sock', '/tmp/attacker.sock', 'approval-socket'],
    ['agents.main.allowlist[id=x].pattern', undefined, '*', 'allowlist-match-anything'],
  ];
  for (const [path, before, after, ruleId] of dangerous) {
    it(`${path}: ${JSON.stringify(before)} → ${JSON.stringify(after)} is dangerous (${ruleId})`, () => {
      const decision = classify(policy, leaf(path, before, after));
      expect(decision.tier).toBe('dangerous');
      expect(decision.ruleId).toBe(ruleId);
    });
  }

  const notDangerous: [string, Json | undefined, Json | undefined, string][] = [
    ['defaults.security', 'full', 'allowlist', 'protected'],
    ['defaults.security', 'allowlist', 'deny', 'protected'],
    ['defaults.ask', 'off', 'always', 'protected'],
    ['defaults.askFallback', 'full', 'deny', 'protected'],
    ['totp.enabled', false, true, 'protected'],
    ['totp.scope', 'elevated', 'all', 'protected'],
    ['totp.scope', 'destructive', 'all', 'protected'],
    ['totp.cooldownSeconds', 300, 60, 'protected'],
    ['defaults.strictInlineEval', false, true, 'protected'],
    ['agents.main.allowlist[id=x].pattern', undefined, '/usr/bin/git', 'protected'],
    ['defaults.timeoutSeconds', 120, 300, 'protected'],
  ];
  for (const [path, before, after, tier] of notDangerous) {
    it(`${path}: ${JSON.stringify(before)} → ${JSON.stringify(after)} is ${tier}`, () => {
      expect(classify(policy, leaf(path, before, after)).tier).toBe(tier);
    });
  }
});

describe('planChange on real exec documents', () => {
  it('adding an allowlist entry (id-keyed list) is protected', () => {
    const result = plan(cautious, (document) => {
      document.agents.main.allowlist.push({ id: 'new', pattern: '/usr/bin/curl' });
    });
    expect(result.tier).toBe('protected');
  });

  it('adding a bare-string entry to a list with bare strings is protected; a bare "*" is dangerous', () => {
    expect(plan(legacy, (document) => document.agents.ops.allowlist.push('/usr/bin/jq')).tier).toBe('protected');
    const anything = plan(legacy, (document) => document.agents.ops.allowlist.push('*'));
    expect(anything.tier).toBe('dangerous');
    expect(anything.changes.some((change) => change.ruleId === 'allowlist-match-anything')).toBe(true);
  });

  it('an "anything" entry cannot hide in an id-keyed list either', () => {
    const result = plan(cautious, (document) => document.agents.main.allowlist.push({ id: 'y', pattern: ' * ' }));
    expect(result.tier).toBe('dangerous');
  });

  it('YOLO from the default document is dangerous, change by change', () => {
    const result = plan(defaultExecDocument() as JsonObject, (document) => {
      document.defaults.security = 'full';
      document.defaults.ask = 'off';
      document.defaults.askFallback = 'full';
    });
    expect(result.tier).toBe('dangerous');
    expect(result.changes.map((change) => change.tier)).toEqual(['dangerous', 'dangerous', 'dangerous']);
  });

  it('dropping the whole totp block, or the defaults, is dangerous', () => {
    expect(plan(defaultExecDocument() as JsonObject, (document) => delete document.totp).tier).toBe('dangerous');
    expect(plan(defaultExecDocument() as JsonObject, (document) => delete document.defaults).tier).toBe('dangerous');
  });

  it('removing an agent that was denied everything is dangerous (it falls back to looser defaults)', () => {
    const result = plan(cautious, (document) => delete document.agents.reviewer);
    expect(result.tier).toBe('dangerous');
  });

  it('tightening is still an owner decision, but not a dangerous one', () => {
    const result = plan(legacy, (document) => {
      document.defaults.ask = 'always';
      document.agents.main.allowlist.pop();
    });
    expect(result.tier).toBe('protected');
  });

  it('the socket token is redacted from the plan', () => {
    const result = plan(legacy, (document) => {
      document.socket.token = 'attacker-chosen-token-value-000000';
    });
    // The owner sees what the proposer wrote, never the current secret; public views show neither.
    const owner = JSON.stringify([result.changes, result.operations, result.shownTarget]);
    expect(owner).not.toContain('q8c1Q2t9s0Vb3mZk4yXwLr7pN5hJ6eFa');
    const shared = JSON.stringify([result.publicChanges, result.publicOperations]);
    expect(shared).not.toContain('q8c1Q2t9s0Vb3mZk4yXwLr7pN5hJ6eFa');
    expect(shared).not.toContain('attacker-chosen-token-value');
  });
});
