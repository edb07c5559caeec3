import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Leaf } from '../../src/core/diff.js';
import type { Json } from '../../src/core/json.js';
import { parsePath } from '../../src/core/path.js';
import { classify } from '../../src/core/policy.js';
import { loadPolicy } from '../../src/service/context.js';
import { fixtures, shippedPolicy } from '../support/harness.js';

type Flag = { flag: string; path: string; before?: Json; after: Json };
type Pinned = { openclawVersion: string; flags: Flag[]; alsoDangerous: { flags: Flag[] } };

/** OpenClaw's own list of dangerous flags, pinned (see the file's `$comment` for where it comes from). */
const pinned = JSON.parse(readFileSync(join(fixtures, 'openclaw-dangerous-flags.json'), 'utf8')) as Pinned;
const policies = ['openclaw.json', 'openclaw-hard-block.json'].map((name) => ({
  name,
  policy: loadPolicy(join(shippedPolicy, '..', name)).policy,
}));

function leafOf(flag: Flag): Leaf {
  const path = parsePath(flag.path);
  return flag.before === undefined
    ? { path, op: 'add', after: flag.after }
    : { path, op: 'replace', before: flag.before, after: flag.after };
}

describe(`OpenClaw ${pinned.openclawVersion}'s own dangerous flags are dangerous in the shipped policies`, () => {
  it('pins the list OpenClaw names, including the two issue 10 found lagging', () => {
    expect(pinned.openclawVersion).toBe('2026.9.6');
    const labels = pinned.flags.map((flag) => flag.flag);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels).toEqual(
      expect.arrayContaining(['hooks.allowRequestSessionKey=true', 'security.audit.suppressions configured (<count>)']),
    );
    expect(labels).toHaveLength(21);
  });

  for (const { name, policy } of policies) {
    for (const flag of [...pinned.flags, ...pinned.alsoDangerous.flags]) {
      it(`${name}: ${flag.flag}`, () => {
        const decision = classify(policy, leafOf(flag));
        expect(decision.tier).toBe('dangerous');
        expect(decision.ruleId).not.toBeNull();
        expect(decision.explain).toMatch(/\w+ \w+ \w+ \w+/);
      });
    }
  }

  it('switching a flag back to its safe value is not dangerous', () => {
    const { policy } = policies[0] as (typeof policies)[number];
    const safe: Array<[string, Json, Json]> = [
      ['hooks.allowRequestSessionKey', true, false],
      ['tools.exec.host', 'gateway', 'sandbox'],
      ['plugins.entries.evil.enabled', true, false],
      ['gateway.controlUi.dangerouslyDisableDeviceAuth', true, false],
    ];
    for (const [path, before, after] of safe) {
      expect(classify(policy, { path: parsePath(path), op: 'replace', before, after }).tier, path).toBe('protected');
    }
  });
});
