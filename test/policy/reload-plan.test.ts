import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePath } from '../../src/core/path.js';
import { classify, compilePolicy } from '../../src/core/policy.js';
import { compileReload, ReloadTableSchema, reloadKind, watchedPath } from '../../src/core/reload-plan.js';
import { loadPolicy } from '../../src/service/context.js';
import { shippedPolicy } from '../support/harness.js';

// What OpenClaw's gateway does per path is checked against the installed OpenClaw itself in the
// live suite (test/openclaw); these pin the matching rules and a few well-known answers.
const policy = loadPolicy(shippedPolicy).policy;
const kindOf = (path: string) =>
  reloadKind(policy.compiledReload ?? compileReload(ReloadTableSchema.parse({})), parsePath(path));

describe('reload plan (which changes restart the gateway)', () => {
  it('follows OpenClaw 2026.9.6: the longest prefix wins, unknown paths restart', () => {
    expect(kindOf('gateway.port')).toBe('restart');
    expect(kindOf('gateway.auth.mode')).toBe('restart');
    expect(kindOf('gateway.tools.allow')).toBe('hot');
    expect(kindOf('gateway.remote.url')).toBe('none');
    expect(kindOf('mcp.servers.files.command')).toBe('hot');
    expect(kindOf('mcp.apps.listen')).toBe('restart');
    expect(kindOf('mcp.apps.sandboxOrigin')).toBe('hot');
    expect(kindOf('agents.entries.main.decisionModel')).toBe('hot');
    expect(kindOf('agents.list[id=main].model')).toBe('none');
    expect(kindOf('commands.mcp')).toBe('hot');
    expect(kindOf('somethingNew.x')).toBe('restart');
  });

  it('a change inside a list is a change of the list, as OpenClaw diffs lists whole', () => {
    expect(watchedPath(parsePath('agents.list[id=main].tools.exec.host'))).toEqual(['agents', 'list']);
    expect(watchedPath(parsePath('tools.alsoAllow[2]'))).toEqual(['tools', 'alsoAllow']);
    expect(watchedPath(parsePath('plugins.entries."a.b".enabled'))).toEqual([
      'plugins',
      'entries',
      'a',
      'b',
      'enabled',
    ]);
  });

  it('cards say restart only where the gateway restarts', () => {
    const leaf = (path: string) => ({ path: parsePath(path), op: 'replace' as const, before: 1, after: 2 });
    expect(classify(policy, leaf('gateway.port')).restart).toBe(true);
    expect(classify(policy, leaf('tools.exec.timeoutSeconds')).restart).toBe(false);
    expect(classify(policy, leaf('plugins.entries.x.enabled')).restart).toBe(false);
  });

  it('a rule may still say restart on its own (custom policies), and the table never lowers it', () => {
    const custom = compilePolicy({
      version: 1,
      mode: 'approve',
      rules: [{ id: 'r', match: ['tools.**'], tier: 'protected', restart: true }],
      reload: { hot: ['tools'] },
    });
    expect(classify(custom, { path: parsePath('tools.a'), op: 'add', after: 1 }).restart).toBe(true);
  });

  it('refuses a table that names a prefix twice or writes a bad prefix', () => {
    expect(ReloadTableSchema.safeParse({ hot: ['a.b'], restart: ['a.b'] }).success).toBe(false);
    expect(ReloadTableSchema.safeParse({ hot: ['a..b'] }).success).toBe(false);
    expect(ReloadTableSchema.safeParse({ hot: ['a.**'] }).success).toBe(false);
  });

  it('both shipped OpenClaw policies carry the same table', () => {
    const read = (name: string) => JSON.parse(readFileSync(join(shippedPolicy, '..', name), 'utf8')).reload;
    expect(read('openclaw-hard-block.json')).toEqual(read('openclaw.json'));
  });

  it('matches like OpenClaw: a prefix names itself and everything under it, "*" one key', () => {
    const keys = fc.constantFrom('a', 'b', 'c');
    fc.assert(
      fc.property(
        fc.array(keys, { minLength: 1, maxLength: 4 }),
        fc.array(keys, { minLength: 1, maxLength: 4 }),
        (rule, path) => {
          const reload = compileReload(ReloadTableSchema.parse({ default: 'none', hot: [rule.join('.')] }));
          const dotted = path.join('.');
          const prefix = rule.join('.');
          const openclaw = dotted === prefix || dotted.startsWith(`${prefix}.`);
          expect(reloadKind(reload, parsePath(dotted)) === 'hot').toBe(openclaw);
        },
      ),
    );
  });
});
