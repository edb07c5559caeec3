import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cli, cliOk, e2eTimeout, init, repoRoot, serveFails, tempDir } from './cli.js';

describe.concurrent('countersign audit verify (real CLI)', { timeout: e2eTimeout }, () => {
  it('exits 1 and names the broken seq after an audit row is edited in the database', async (t) => {
    const installation = await init(join(tempDir(t), 'data'));
    const intact = await cli(['audit', 'verify', '--data', installation.dataDir, '--json']);
    expect(intact.code).toBe(0);
    expect(JSON.parse(intact.stdout)).toMatchObject({ ok: true, count: 2 });

    const db = new Database(join(installation.dataDir, 'countersign.db'));
    try {
      const { body } = db.prepare('SELECT body FROM audit_events WHERE seq = 2').get() as { body: string };
      const forged = body.replace('"main"', '"mallory"');
      expect(forged).not.toBe(body);
      expect(db.prepare('UPDATE audit_events SET body = ? WHERE seq = 2').run(forged).changes).toBe(1);
    } finally {
      db.close();
    }

    const broken = await cli(['audit', 'verify', '--data', installation.dataDir]);
    expect(broken.code).toBe(1);
    expect(`${broken.stdout}${broken.stderr}`).toMatch(/BROKEN at event 2\b/);
  });
});

describe.concurrent('countersign policy explain (real CLI)', { timeout: e2eTimeout }, () => {
  it('names the deciding rule and tier, and --json parses', async () => {
    const mcp = await cliOk(['policy', 'explain', 'commands.mcp', '--value', 'true']);
    expect(mcp.stdout).toContain('mcp-command');
    expect(mcp.stdout).toContain('DANGEROUS');

    const thinking = await cliOk(['policy', 'explain', 'agents.defaults.thinkingDefault', '--value', '"high"']);
    expect(thinking.stdout).toContain('ALLOWLISTED');

    const json = JSON.parse((await cliOk(['policy', 'explain', 'commands.mcp', '--value', 'true', '--json'])).stdout);
    // OpenClaw's reload plan hot-reloads commands.*: no gateway restart.
    expect(json).toMatchObject({ path: 'commands.mcp', tier: 'dangerous', ruleId: 'mcp-command', restart: false });
    const port = JSON.parse((await cliOk(['policy', 'explain', 'gateway.port', '--value', '18790', '--json'])).stdout);
    expect(port).toMatchObject({ path: 'gateway.port', restart: true });
    expect(json.matchingRules).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'mcp-command' })]));

    // The rule's `when: { to: [true] }` makes turning it off a lower tier.
    const off = JSON.parse((await cliOk(['policy', 'explain', 'commands.mcp', '--value', 'false', '--json'])).stdout);
    expect(off.tier).not.toBe('dangerous');
  });
});

describe.concurrent('--help (real CLI)', { timeout: e2eTimeout }, () => {
  it('top level, approve, token create and serve exit 0 and list their options', async () => {
    const [top, approve, tokenCreate, serve] = await Promise.all([
      cli(['--help']),
      cli(['approve', '--help']),
      cli(['token', 'create', '--help']),
      cli(['serve', '--help']),
    ]);
    for (const result of [top, approve, tokenCreate, serve]) {
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: countersign');
    }
    for (const command of ['init', 'serve', 'token', 'totp', 'pending', 'show', 'approve', 'deny', 'audit', 'policy'])
      expect(top.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    for (const option of ['--totp', '--confirm', '--url', '--token', '--json'])
      expect(approve.stdout).toContain(option);
    for (const option of ['--data', '--role', '--name', '--surface', '--agent-id', '--json'])
      expect(tokenCreate.stdout).toContain(option);
    for (const option of ['--data', '--host', '--port', '--rate-limit', '--init'])
      expect(serve.stdout).toContain(option);
  });
});

describe.concurrent('a bad policy file (real CLI)', { timeout: e2eTimeout }, () => {
  it('makes serve exit non-zero before listening, naming the bad field', async (t) => {
    const dir = tempDir(t);
    const policyPath = join(dir, 'policy.json');
    const shipped = readFileSync(join(repoRoot, 'policies', 'openclaw.json'), 'utf8');
    writeFileSync(policyPath, shipped);
    const installation = await init(join(dir, 'data'), ['--policy', policyPath]);

    const policy = JSON.parse(shipped) as { rules: { id: string; tier: string }[] };
    const index = policy.rules.findIndex((rule) => rule.id === 'mcp-command');
    expect(index).toBeGreaterThanOrEqual(0);
    (policy.rules[index] as { tier: string }).tier = 'critical';
    writeFileSync(policyPath, JSON.stringify(policy, null, 2));

    const result = await serveFails(installation.dataDir);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull(); // it exited by itself, not by our timeout kill
    expect(result.stdout).not.toContain('listening');
    expect(result.stderr).toContain(policyPath);
    expect(result.stderr).toContain(`rules[${index}].tier`);
  });

  it('makes init refuse before creating anything', async (t) => {
    const dir = tempDir(t);
    const policyPath = join(dir, 'policy.json');
    writeFileSync(policyPath, JSON.stringify({ version: 1, mode: 'approve', defaultTier: 'critical', rules: [] }));
    const result = await cli(['init', '--data', join(dir, 'data'), '--policy', policyPath, '--json']);
    expect(result.code).not.toBe(0);
    // Under --json the failure is JSON on stdout (issue 15).
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'setup_error' } });
    expect(JSON.parse(result.stdout).error.message).toContain('defaultTier');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });
});
