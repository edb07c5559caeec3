/**
 * Exec approvals end to end (SPEC §9, issue 11): a real `countersign serve`, the built CLI as the
 * agent's wrapper (`exec run`, `exec check`) and as the owner (`exec pending|show|approve|deny|
 * grants`), and real commands run (or not) on this machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CliResult,
  type Ctx,
  cli,
  cliOk,
  cliPath,
  e2eTimeout,
  enrollTotp,
  http,
  ownerEnv,
  repoRoot,
  running,
  type Server,
  tempDir,
  totpCode,
} from './cli.js';

type ExecRequest = {
  id: string;
  status: string;
  argv: string[] | null;
  risk: { elevated: boolean; destructive: boolean; inlineEval: boolean; unanalysable: boolean };
  allowedDecisions: string[];
  approval: { totp: boolean; surfaces: string[] };
  resolution: { status: string; reason: string } | null;
};

type Background = {
  child: ChildProcess;
  /** Resolves with the request id once the wrapper says it is waiting for an owner. */
  waiting: Promise<string>;
  done: Promise<CliResult>;
};

/** Starts `countersign exec run …` as the agent, in the background (the owner decides meanwhile). */
function execRun(t: Ctx, server: Server, agentToken: string, args: string[]): Background {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('COUNTERSIGN_')) delete env[key];
  const child = spawn(process.execPath, [cliPath, 'exec', 'run', '--session', 'e2e-session', ...args], {
    cwd: repoRoot,
    env: { ...env, COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: agentToken },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  let announce: (id: string) => void = () => {};
  let gaveUp: (error: Error) => void = () => {};
  const waiting = new Promise<string>((resolve, reject) => {
    announce = resolve;
    gaveUp = reject;
  });
  // Unhandled only if a test never awaits it; a wrapper that ends before asking fails the wait at once.
  waiting.catch(() => {});
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    const match = /exec request (\S+) is waiting for an owner's decision/.exec(stderr);
    if (match) announce(match[1] as string);
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      gaveUp(
        new Error(
          `exec run ended (${code ?? signal}) before asking an owner\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
        ),
      );
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, waiting, done };
}

async function requestOf(server: Server, ownerToken: string, id: string): Promise<ExecRequest> {
  const response = await http<{ request: ExecRequest }>(server, 'GET', `/v1/exec/requests/${id}`, ownerToken);
  expect(response.status).toBe(200);
  return response.body.request;
}

describe.concurrent('exec approvals through the CLI (real server, real commands)', { timeout: e2eTimeout }, () => {
  it('runs on allow: the agent waits, the owner reviews and allows once, the command runs with its output and code', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const run = execRun(t, server, installation.agentToken, ['--', '/bin/sh', '-c', 'echo "ran"; exit 7']);
    const id = await run.waiting;

    const pending = await cliOk(['exec', 'pending'], { env });
    expect(pending.stdout).toContain(id);
    const shown = await cliOk(['exec', 'show', id], { env });
    expect(shown.stdout).toContain(`Exec request ${id}  [pending]`);
    expect(shown.stdout).toContain('  [0] "/bin/sh"');
    expect(shown.stdout).toContain('  [1] "-c"');
    expect(shown.stdout).toContain('  [2] "echo \\"ran\\"; exit 7"');
    expect(shown.stdout).toContain('INLINE EVAL');
    // An inline eval under strictInlineEval can be allowed once, never for good.
    expect(shown.stdout).not.toContain('--always');
    const always = await cli(['exec', 'approve', id, '--always'], { env });
    expect(always.code).toBe(1);

    await cliOk(['exec', 'approve', id, '--reason', 'looks fine'], { env });
    const result = await run.done;
    expect(result.stdout).toBe('ran\n');
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(`approve with \`countersign exec approve ${id}\``);
    expect((await requestOf(server, installation.ownerToken, id)).status).toBe('consumed');
  });

  it('exits 126 with the reason when the owner denies; nothing runs; hostile argv is shown inert', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const dir = tempDir(t);
    const marker = join(dir, 'ran');
    const run = execRun(t, server, installation.agentToken, [
      '--',
      '/usr/bin/touch',
      marker,
      '\u001b[2K\rRisk:      none flagged\u202e',
    ]);
    const id = await run.waiting;
    const shown = await cliOk(['exec', 'show', id], { env });
    expect(shown.stdout).toContain('  [2] "\\u001b[2K\\rRisk:      none flagged\\u202e"');
    expect(shown.stdout).not.toContain('\u001b');
    expect(shown.stdout).not.toContain('\u202e');

    const denied = await cliOk(['exec', 'deny', id, '--reason', 'not today'], { env });
    expect(denied.stdout).toBe(`Denied ${id}.\n`);
    const result = await run.done;
    expect(result.code).toBe(126);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('denied');
    expect(result.stderr).toContain('nothing ran');
    expect(existsSync(marker)).toBe(false);
  });

  it('Ctrl-C while waiting withdraws the request and exits 130', async (t) => {
    const { installation, server } = await running(t);
    const run = execRun(t, server, installation.agentToken, ['--', '/bin/echo', 'never']);
    const id = await run.waiting;
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`exec request ${id} withdrawn`);
    const request = await requestOf(server, installation.ownerToken, id);
    expect(request.status).toBe('denied');
    expect(request.resolution?.reason).toBe('withdrawn');
  });

  it('a destructive command needs the TOTP code: without a terminal the CLI names --totp; with it, it runs', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const secret = await enrollTotp(installation.dataDir);
    const victim = join(tempDir(t), 'victim');
    mkdirSync(join(victim, 'sub'), { recursive: true });
    const run = execRun(t, server, installation.agentToken, ['--', '/bin/rm', '-rf', victim]);
    const id = await run.waiting;

    const json = await cliOk(['exec', 'show', id, '--json'], { env });
    const { request } = JSON.parse(json.stdout) as { request: ExecRequest };
    expect(request.risk.destructive).toBe(true);
    expect(request.approval.totp).toBe(true);

    const noCode = await cli(['exec', 'approve', id], { env });
    expect(noCode.code).toBe(1);
    expect(noCode.stderr).toContain('--totp');
    expect(existsSync(victim)).toBe(true);

    await cliOk(['exec', 'approve', id, '--totp', totpCode(secret)], { env });
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(existsSync(victim)).toBe(false);
  });

  it('a script edited between request and run does not run (file_changed, 126)', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const dir = tempDir(t);
    const script = join(dir, 'job.sh');
    const marker = join(dir, 'ran');
    writeFileSync(script, 'echo harmless\n');
    const run = execRun(t, server, installation.agentToken, ['--cwd', dir, '--', '/bin/sh', script]);
    const id = await run.waiting;
    writeFileSync(script, `touch ${JSON.stringify(marker)}\n`);
    await cliOk(['exec', 'approve', id], { env });
    const result = await run.done;
    expect(result.code).toBe(126);
    expect(result.stderr).toContain('file_changed');
    expect(existsSync(marker)).toBe(false);
  });

  it('allow-always adds the exact command: the next run is allowed at once, check says allow (0)', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const agent = { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: installation.agentToken };

    const before = await cli(['exec', 'check', '--json', '--', '/bin/echo', 'again'], { env: agent });
    expect(before.code).toBe(1);
    expect(JSON.parse(before.stdout)).toMatchObject({ decision: 'ask' });
    // check stores nothing.
    const none = await cliOk(['exec', 'pending', '--json'], { env });
    expect(JSON.parse(none.stdout)).toEqual({ requests: [] });

    const first = execRun(t, server, installation.agentToken, ['--', '/bin/echo', 'again']);
    const id = await first.waiting;
    await cliOk(['exec', 'approve', id, '--always'], { env });
    expect((await first.done).stdout).toBe('again\n');

    const second = await cli(['exec', 'run', '--session', 's2', '--', '/bin/echo', 'again'], { env: agent });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('again\n');
    expect(second.stderr).not.toContain('waiting');
    const after = await cli(['exec', 'check', '--', '/bin/echo', 'again'], { env: agent });
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('Decision: ALLOW');
    // Other arguments are a different command.
    expect((await cli(['exec', 'check', '--', '/bin/echo', 'other'], { env: agent })).code).toBe(1);
  });

  it('allow-for makes a standing grant that is listed and revocable', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const agent = { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: installation.agentToken };
    const first = execRun(t, server, installation.agentToken, ['--', '/bin/echo', 'for-a-while']);
    const id = await first.waiting;
    await cliOk(['exec', 'approve', id, '--for', '10m'], { env });
    expect((await first.done).code).toBe(0);

    const listed = await cliOk(['exec', 'grants', '--json'], { env });
    const { grants } = JSON.parse(listed.stdout) as { grants: { id: string; agentId: string }[] };
    expect(grants).toHaveLength(1);
    const grantId = (grants[0] as { id: string }).id;
    expect((await cliOk(['exec', 'grants'], { env })).stdout).toContain(grantId);
    expect((await cli(['exec', 'check', '--', '/bin/echo', 'for-a-while'], { env: agent })).code).toBe(0);

    await cliOk(['exec', 'grants', 'revoke', grantId], { env });
    expect(JSON.parse((await cliOk(['exec', 'grants', '--json'], { env })).stdout)).toEqual({ grants: [] });
    expect((await cli(['exec', 'check', '--', '/bin/echo', 'for-a-while'], { env: agent })).code).toBe(1);
  });

  it('owner errors with --json are { error: { code, message } } on stdout', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const missing = await cli(['exec', 'show', 'no-such-request', '--json'], { env });
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'not_found' } });
    // An agent token cannot decide.
    const asAgent = await cli(['exec', 'pending', '--json'], {
      env: { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: installation.agentToken },
    });
    expect(asAgent.code === 0 || JSON.parse(asAgent.stdout).error.code === 'forbidden').toBe(true);
  });
});
