import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, e2eTimeout, http, init, ownerEnv, serve, tempDir } from './cli.js';

const mode = (file: string) => statSync(file).mode & 0o777;

describe.concurrent('countersign init (real CLI)', { timeout: e2eTimeout }, () => {
  it('creates a private data directory, its database, settings, a demo document and two tokens', async (t) => {
    const dataDir = join(tempDir(t), 'data');
    const result = await cli(['init', '--data', dataDir, '--json']);
    expect(result.code).toBe(0);
    const installation = JSON.parse(result.stdout) as Record<string, string>;
    expect(Object.keys(installation).sort()).toEqual([
      'agentToken',
      'configPath',
      'dataDir',
      'execApprovalsPath',
      'ownerToken',
    ]);
    expect(installation.dataDir).toBe(dataDir);
    expect(installation.configPath).toBe(join(dataDir, 'openclaw.json'));
    // The exec policy of SPEC §9, with its default: deny unless allowlisted, ask on a miss.
    expect(installation.execApprovalsPath).toBe(join(dataDir, 'exec-approvals.json'));
    expect(JSON.parse(readFileSync(installation.execApprovalsPath as string, 'utf8'))).toMatchObject({
      version: 2,
      defaults: { security: 'allowlist', ask: 'on-miss', askFallback: 'deny', strictInlineEval: true },
      totp: { enabled: true, scope: 'destructive' },
    });
    expect(installation.ownerToken).toMatch(/^\S{20,}$/);
    expect(installation.agentToken).toMatch(/^\S{20,}$/);
    expect(installation.ownerToken).not.toBe(installation.agentToken);

    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'countersign.db'))).toBe(0o600);
    expect(mode(join(dataDir, 'countersign.json'))).toBe(0o600);
    const demo = JSON.parse(readFileSync(installation.configPath as string, 'utf8'));
    expect(demo.commands).toEqual({ mcp: false, restart: false });
    expect(mode(installation.configPath as string)).toBe(0o600);
    // Tokens are stored only as hashes.
    const database = readFileSync(join(dataDir, 'countersign.db'));
    expect(database.includes(installation.ownerToken as string)).toBe(false);
    expect(database.includes(installation.agentToken as string)).toBe(false);

    const again = await cli(['init', '--data', dataDir, '--json']);
    expect(again.code).not.toBe(0);
    // Under --json the failure is JSON on stdout (issue 15); without it, a line on stderr.
    expect(JSON.parse(again.stdout).error.message).toMatch(/already initiali[sz]ed/);
    expect((await cli(['init', '--data', dataDir])).stderr).toMatch(/already initiali[sz]ed/);
  });

  it('init --config FILE leaves an existing FILE untouched', async (t) => {
    const dir = tempDir(t);
    const configPath = join(dir, 'mine.json');
    // Valid against the shipped OpenClaw schema, which init now attaches (and checks) by default.
    const original = '{\n  "commands": { "mcp": false },\n  "meta": { "lastTouchedVersion": "keep me" }\n}\n';
    writeFileSync(configPath, original, { mode: 0o600 });
    const dataDir = join(dir, 'data');
    const installation = await init(dataDir, ['--config', configPath]);
    expect(installation.configPath).toBe(configPath);
    expect(readFileSync(configPath, 'utf8')).toBe(original);
    expect(existsSync(join(dataDir, 'openclaw.json'))).toBe(false);
  });

  it('serve --init initialises a new directory on first start and prints the tokens only then', async (t) => {
    const dataDir = join(tempDir(t), 'fresh', 'data');
    const first = await serve(t, dataDir, ['--init']);
    const printed = first.stdout();
    expect(printed).toContain(`Initialised ${dataDir}`);
    const ownerToken = /owner \(surface cli\):\s*(\S+)/.exec(printed)?.[1];
    const agentToken = /agent \(id main\):\s*(\S+)/.exec(printed)?.[1];
    expect(ownerToken).toBeTruthy();
    expect(agentToken).toBeTruthy();
    expect(mode(dataDir)).toBe(0o700);
    expect((await http(first, 'GET', '/healthz', null)).body).toMatchObject({ ok: true });
    await first.stop();
    expect(first.child.exitCode).toBe(0); // SIGTERM is a clean shutdown

    // Owner commands against a server that is gone fail with a readable message.
    const gone = await cli(['pending'], { env: ownerEnv(first, ownerToken as string) });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`Cannot reach countersign at ${first.url}`);

    const second = await serve(t, dataDir, ['--init']);
    expect(second.stdout()).not.toContain('Initialised');
    expect(second.stdout()).not.toContain(ownerToken);
    expect(second.stdout()).not.toContain(agentToken);
    // The tokens printed on the first start still work.
    const config = await http<{ config: { gateway: { auth: { token: string } } } }>(
      second,
      'GET',
      '/v1/config',
      agentToken as string,
    );
    expect(config.status).toBe(200);
    expect(config.body.config.gateway.auth.token).toBe('[redacted]');
    expect((await http(second, 'GET', '/v1/proposals', ownerToken as string)).status).toBe(200);
  });
});
