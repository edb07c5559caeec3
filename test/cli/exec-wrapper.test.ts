/**
 * `countersign exec …` (the built CLI, real processes) against a scripted HTTP server that speaks
 * the SPEC §9 contract: what the wrapper sends, that it runs exactly the plan it is handed (not
 * what was typed), how it waits, withdraws and maps outcomes to exit codes, and what the owner
 * commands send. test/e2e/exec-cli.test.ts runs the same flows against the real service; this
 * file pins the client side on its own, including answers the real service gives only rarely
 * (a plan that differs from the argv, a consume refused for file_changed).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ExecRequest } from '../../src/core/exec/request.js';
import { cliPath, repoRoot } from '../e2e/cli.js';

type Call = { method: string; url: string; body: Record<string, unknown> | null; auth: string | undefined };
type Reply = { status: number; body?: unknown } | null;
type Script = (call: Call, calls: Call[]) => Reply | Promise<Reply>;

/** A server that records every call and answers as the test scripts it. */
async function scripted(script: Script): Promise<{ url: string; calls: Call[] }> {
  const calls: Call[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const call: Call = {
        method: request.method ?? '',
        url: request.url ?? '',
        body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
        auth: request.headers.authorization,
      };
      calls.push(call);
      const reply = await script(call, calls);
      if (reply === null) return; // never answers (a long poll the client must abandon)
      response.writeHead(reply.status, { 'content-type': 'application/json' });
      response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

type Result = { code: number | null; stdout: string; stderr: string };

function runCli(
  args: string[],
  env: Record<string, string>,
  options: { onStderr?: (text: string, child: ReturnType<typeof spawn>) => void; cwd?: string } = {},
): Promise<Result> {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(base)) if (key.startsWith('COUNTERSIGN_')) delete base[key];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out\n${stdout}\n${stderr}`));
    }, 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const hash = `hmac-sha256:${'c'.repeat(64)}`;

function execRequest(overrides: Partial<ExecRequest> = {}): ExecRequest {
  return {
    id: 'req-1',
    status: 'pending',
    agentId: 'main',
    sessionKey: 'sess',
    argv: ['/bin/echo', 'typed'],
    commandText: null,
    cwd: '/',
    env: [],
    resolvedPath: '/bin/echo',
    fileOperand: null,
    segments: [
      {
        argv: ['/bin/echo', 'typed'],
        resolvedPath: '/bin/echo',
        matched: null,
        inlineEval: false,
        elevated: false,
        destructive: false,
      },
    ],
    risk: { elevated: false, destructive: false, inlineEval: false, unanalysable: false },
    reason: 'allowlist_miss',
    planHash: hash,
    allowedDecisions: ['allow-once', 'allow-for', 'allow-always', 'deny'],
    approval: { totp: false, surfaces: ['cli'] },
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T00:02:00.000Z',
    resolution: null,
    ...overrides,
  };
}

function plan(argv: string[] | null, extra: Record<string, unknown> = {}) {
  return {
    argv,
    commandText: null,
    cwd: '/',
    env: [],
    agentId: 'main',
    sessionKey: 'sess',
    host: null,
    elevated: false,
    executables: [{ segment: 0, stage: 0, resolvedPath: null, sha256: null }],
    fileOperand: null,
    ...extra,
  };
}

const allowed = (request: ExecRequest): ExecRequest => ({
  ...request,
  status: 'allowed',
  resolution: {
    status: 'allowed',
    at: '2026-01-01T00:00:10.000Z',
    decision: 'allow-once',
    reason: 'owner',
    by: { role: 'owner', name: 'owner', agentId: null, sessionKey: null, surface: 'cli' },
    stepUp: 'none',
    pattern: null,
    grantId: null,
    grantExpiresAt: '2026-01-01T00:01:10.000Z',
  },
});

function agentEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return { COUNTERSIGN_URL: url, COUNTERSIGN_TOKEN: 'agent-token', ...extra };
}

describe('exec run', () => {
  it('sends argv (options after -- included), the real cwd and the session; runs exactly the plan it gets back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-exec-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    symlinkSync(tmpdir(), join(dir, 'link'));
    const server = await scripted((call) => {
      if (call.method === 'POST' && call.url === '/v1/exec/requests') {
        return { status: 200, body: { decision: 'allow', request: allowed(execRequest()), grant: { expiresAt: 'x' } } };
      }
      if (call.url === '/v1/exec/requests/req-1/consume') {
        // The plan, not the typed argv, is what runs: here a shell printing its cwd, an env entry and argv[0].
        return {
          status: 200,
          body: {
            run: true,
            plan: plan(null, {
              commandText: 'printf "%s|%s|%s" "$PWD" "$PLANNED" "$0"; exit 7',
              cwd: realpathSync(tmpdir()),
              env: [{ name: 'PLANNED', value: 'from-plan' }],
            }),
          },
        };
      }
      return { status: 404, body: { error: { code: 'not_found', message: 'no' } } };
    });
    const result = await runCli(
      ['exec', 'run', '--cwd', join(dir, 'link'), '--env', 'MODE=fast', '--', '/bin/echo', '--force', '-x'],
      agentEnv(server.url, { COUNTERSIGN_SESSION: 'sess' }),
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${realpathSync(tmpdir())}|from-plan|/bin/sh`);
    expect(result.code).toBe(7);
    const [post, consume] = server.calls;
    expect(post?.auth).toBe('Bearer agent-token');
    expect(post?.body).toEqual({
      argv: ['/bin/echo', '--force', '-x'],
      cwd: realpathSync(tmpdir()),
      sessionKey: 'sess',
      env: { MODE: 'fast' },
    });
    expect(consume?.body).toEqual({ planHash: hash, sessionKey: 'sess' });
  });

  it('runs the resolved executable with argv[0] as written, and inherits stdio', async () => {
    const server = await scripted((call) => {
      if (call.url === '/v1/exec/requests') {
        return { status: 200, body: { decision: 'allow', request: allowed(execRequest()), grant: { expiresAt: 'x' } } };
      }
      return {
        status: 200,
        body: {
          run: true,
          plan: plan(['not-on-path', '-c', 'printf "%s" "$0"'], {
            executables: [{ segment: 0, stage: 0, resolvedPath: '/bin/sh', sha256: null }],
          }),
        },
      };
    });
    const result = await runCli(['exec', 'run', '--', 'not-on-path'], agentEnv(server.url));
    expect(result.stdout).toBe('not-on-path');
    expect(result.code).toBe(0);
    // No session given: one is generated and shown.
    expect(result.stderr).toMatch(/^countersign: session exec-[0-9a-f-]{36} /);
  });

  it('waits with a long poll while the owner decides, says what the owner sees, then runs', async () => {
    let polls = 0;
    const server = await scripted((call) => {
      if (call.url === '/v1/exec/requests') return { status: 202, body: { decision: 'ask', request: execRequest() } };
      if (call.url.startsWith('/v1/exec/requests/req-1?wait=')) {
        polls++;
        return { status: 200, body: { request: polls < 2 ? execRequest() : allowed(execRequest()) } };
      }
      return { status: 200, body: { run: true, plan: plan(['/bin/echo', 'ran']) } };
    });
    const result = await runCli(['exec', 'run', '--session', 'sess', '--', '/bin/echo', 'typed'], agentEnv(server.url));
    expect(result.stdout).toBe('ran\n');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("exec request req-1 is waiting for an owner's decision.");
    expect(result.stderr).toContain('the owner sees: ["/bin/echo","typed"] in "/" — risk none flagged');
    expect(result.stderr).toContain('approve with `countersign exec approve req-1`');
    expect(server.calls.filter((call) => call.url.includes('?wait='))).toHaveLength(2);
    expect(server.calls[1]?.url).toBe('/v1/exec/requests/req-1?wait=30');
  });

  it('exits 126 with the reason when the owner denies, the policy denies, or the consume is refused', async () => {
    const denied = await scripted((call) => {
      if (call.url === '/v1/exec/requests') return { status: 202, body: { decision: 'ask', request: execRequest() } };
      const request = execRequest({
        status: 'denied',
        resolution: {
          ...(allowed(execRequest()).resolution as NonNullable<ExecRequest['resolution']>),
          status: 'denied',
          decision: 'deny',
        },
      });
      return { status: 200, body: { request } };
    });
    const one = await runCli(['exec', 'run', '--', '/bin/echo'], agentEnv(denied.url, { COUNTERSIGN_SESSION: 's' }));
    expect(one.code).toBe(126);
    expect(one.stdout).toBe('');
    expect(one.stderr).toContain('exec request req-1 denied by owner: owner; nothing ran.');
    expect(denied.calls.some((call) => call.url.endsWith('/consume'))).toBe(false);

    const policy = await scripted(() => ({
      status: 403,
      body: { error: { code: 'exec_denied', message: 'security: deny', reason: 'security_deny', requestId: 'req-9' } },
    }));
    const two = await runCli(['exec', 'run', '--', '/bin/echo'], agentEnv(policy.url, { COUNTERSIGN_SESSION: 's' }));
    expect(two.code).toBe(126);
    expect(two.stderr).toContain('exec request req-9 denied (security_deny): security: deny');

    const changed = await scripted((call) => {
      if (call.url === '/v1/exec/requests') {
        return { status: 200, body: { decision: 'allow', request: allowed(execRequest()), grant: { expiresAt: 'x' } } };
      }
      return {
        status: 409,
        body: { error: { code: 'file_changed', message: 'the script changed since the request' } },
      };
    });
    const three = await runCli(['exec', 'run', '--', '/bin/echo'], agentEnv(changed.url, { COUNTERSIGN_SESSION: 's' }));
    expect(three.code).toBe(126);
    expect(three.stdout).toBe('');
    expect(three.stderr).toContain('cannot run: the script changed since the request [file_changed]');
  });

  it('Ctrl-C while waiting withdraws the request and exits 130; --wait running out withdraws and exits 126', async () => {
    const server = await scripted((call) => {
      if (call.url === '/v1/exec/requests') return { status: 202, body: { decision: 'ask', request: execRequest() } };
      if (call.url.endsWith('/withdraw')) return { status: 200, body: { request: execRequest({ status: 'denied' }) } };
      return null; // the long poll hangs
    });
    const interrupted = await runCli(
      ['exec', 'run', '--', '/bin/echo'],
      agentEnv(server.url, { COUNTERSIGN_SESSION: 's' }),
      {
        onStderr: (text, child) => {
          if (text.includes('Ctrl-C withdraws')) setTimeout(() => child.kill('SIGINT'), 200);
        },
      },
    );
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toContain('exec request req-1 withdrawn: interrupted (SIGINT); nothing ran.');
    expect(server.calls.at(-1)).toMatchObject({ method: 'POST', url: '/v1/exec/requests/req-1/withdraw' });

    const quick = await scripted((call) => {
      if (call.url === '/v1/exec/requests') return { status: 202, body: { decision: 'ask', request: execRequest() } };
      if (call.url.endsWith('/withdraw')) return { status: 200, body: {} };
      return { status: 200, body: { request: execRequest() } }; // answers "pending" at once: polled, not spun
    });
    const started = Date.now();
    const timedOut = await runCli(
      ['exec', 'run', '--wait', '2', '--', '/bin/echo'],
      agentEnv(quick.url, { COUNTERSIGN_SESSION: 's' }),
    );
    expect(timedOut.code).toBe(126);
    expect(timedOut.stderr).toContain('withdrawn: no decision within 2 s; nothing ran.');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(quick.calls.filter((call) => call.url.includes('?wait=')).length).toBeLessThanOrEqual(4);
    expect(quick.calls.at(-1)?.url).toBe('/v1/exec/requests/req-1/withdraw');
  });

  it('a command ended by a signal exits 128+N; an unreachable server exits 125', async () => {
    const server = await scripted((call) => {
      if (call.url === '/v1/exec/requests') {
        return { status: 200, body: { decision: 'allow', request: allowed(execRequest()), grant: { expiresAt: 'x' } } };
      }
      return { status: 200, body: { run: true, plan: plan(['/bin/sh', '-c', 'kill -TERM $$']) } };
    });
    const killed = await runCli(['exec', 'run', '--', '/bin/sh'], agentEnv(server.url, { COUNTERSIGN_SESSION: 's' }));
    expect(killed.code).toBe(143);

    const down = await runCli(
      ['exec', 'run', '--', '/bin/echo'],
      agentEnv('http://127.0.0.1:9', { COUNTERSIGN_SESSION: 's' }),
    );
    expect(down.code).toBe(125);
    expect(down.stderr).toContain('Cannot reach countersign');
  });
});

describe('exec check', () => {
  it('sends a dry run and exits 0 allow, 1 ask, 126 deny; --json prints the decision', async () => {
    let answer: Reply = { status: 200, body: { decision: 'allow', request: allowed(execRequest()) } };
    const server = await scripted(() => answer);
    const allow = await runCli(['exec', 'check', '--json', '--', '/bin/echo', '-n'], agentEnv(server.url));
    expect(allow.code).toBe(0);
    expect(JSON.parse(allow.stdout)).toMatchObject({ decision: 'allow', request: { id: 'req-1' } });
    expect(server.calls[0]?.body).toMatchObject({ argv: ['/bin/echo', '-n'], dryRun: true });

    answer = { status: 202, body: { decision: 'ask', request: execRequest() } };
    const ask = await runCli(['exec', 'check', '--', '/bin/echo'], agentEnv(server.url));
    expect(ask.code).toBe(1);
    expect(ask.stdout).toContain('Decision: ASK (allowlist_miss)');
    expect(ask.stdout).toContain('  [0] "/bin/echo"');
    expect(ask.stdout).not.toContain('countersign exec approve');

    answer = {
      status: 403,
      body: { error: { code: 'exec_denied', message: 'no', reason: 'allowlist_miss', requestId: 'r' } },
    };
    const deny = await runCli(['exec', 'check', '--json', '--', '/bin/echo'], agentEnv(server.url));
    expect(deny.code).toBe(126);
    expect(JSON.parse(deny.stdout)).toEqual({ decision: 'deny', reason: 'allowlist_miss', message: 'no' });

    const down = await runCli(['exec', 'check', '--json', '--', '/bin/echo'], agentEnv('http://127.0.0.1:9'));
    expect(down.code).toBe(125);
    expect(JSON.parse(down.stdout)).toMatchObject({ error: { code: 'unreachable' } });
    const downText = await runCli(['exec', 'check', '--', '/bin/echo'], agentEnv('http://127.0.0.1:9'));
    expect(downText.code).toBe(125);
  });
});

describe('owner commands', () => {
  function ownerServer(request: ExecRequest, resolve: Reply = null) {
    return scripted((call) => {
      if (call.method === 'GET' && call.url === `/v1/exec/requests/${request.id}`)
        return { status: 200, body: { request } };
      if (call.url.endsWith('/resolve'))
        return resolve ?? { status: 200, body: { status: 'allowed', request: allowed(request) } };
      if (call.url.startsWith('/v1/exec/requests?status=')) return { status: 200, body: { requests: [request] } };
      return { status: 404, body: { error: { code: 'not_found', message: 'No such exec request.' } } };
    });
  }
  const ownerEnv = (url: string) => ({ COUNTERSIGN_URL: url, COUNTERSIGN_TOKEN: 'owner-token' });

  it('approve resolves with the planHash shown: once, --for, --always; and names --totp when there is no terminal', async () => {
    const server = await ownerServer(execRequest());
    const once = await runCli(['exec', 'approve', 'req-1', '--reason', 'ok'], ownerEnv(server.url));
    expect(once.code).toBe(0);
    expect(once.stdout).toContain('Exec request req-1  [pending]');
    expect(once.stdout).toContain('Allowed once. The agent may run it until 2026-01-01T00:01:10.000Z.');
    await runCli(['exec', 'approve', 'req-1', '--for', '30m', '--totp', '123456'], ownerEnv(server.url));
    await runCli(['exec', 'approve', 'req-1', '--always'], ownerEnv(server.url));
    const resolves = server.calls
      .filter((call) => call.url === '/v1/exec/requests/req-1/resolve')
      .map((call) => call.body);
    expect(resolves).toEqual([
      { decision: 'allow-once', planHash: hash, reason: 'ok' },
      { decision: 'allow-for', planHash: hash, durationSeconds: 1800, totp: '123456' },
      { decision: 'allow-always', planHash: hash },
    ]);
    const both = await runCli(['exec', 'approve', 'req-1', '--always', '--for', '1h'], ownerEnv(server.url));
    expect(both.code).not.toBe(0);

    const needsCode = await ownerServer(execRequest({ approval: { totp: true, surfaces: ['cli'] } }), {
      status: 403,
      body: { error: { code: 'totp_required', message: 'An authenticator code is required.' } },
    });
    const refused = await runCli(['exec', 'approve', 'req-1'], ownerEnv(needsCode.url));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('pass --totp CODE');
  });

  it('on a terminal, approve asks first and prompts for the TOTP code without echoing it', async () => {
    const server = await ownerServer(execRequest({ approval: { totp: true, surfaces: ['cli'] } }));
    const driver = fileURLToPath(new URL('../support/pty-drive.py', import.meta.url));
    const answers = [
      ['Allow this command once?', 'y'],
      ['Authenticator code', '654321'],
    ];
    const { code, screen } = await new Promise<{ code: number | null; screen: string }>((resolve, reject) => {
      const child = spawn(
        'python3',
        [driver, JSON.stringify(answers), process.execPath, cliPath, 'exec', 'approve', 'req-1'],
        {
          cwd: repoRoot,
          env: { ...process.env, ...ownerEnv(server.url), TERM: 'dumb', NO_COLOR: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
      });
      child.on('error', reject);
      child.on('exit', (exit) => resolve({ code: exit, screen: out }));
    });
    expect(screen).toContain('an authenticator (TOTP) code is required');
    expect(screen).toContain('<<answered Authenticator code>>');
    expect(screen.split('<<answered Authenticator code>>')[1]).not.toContain('654321');
    expect(screen).toContain('Allowed once.');
    expect(code).toBe(0);
    expect(server.calls.at(-1)?.body).toEqual({ decision: 'allow-once', planHash: hash, totp: '654321' });
  });

  it('approve refuses --always where the request does not allow it, before asking the server', async () => {
    const server = await ownerServer(execRequest({ allowedDecisions: ['allow-once', 'deny'] }));
    const result = await runCli(['exec', 'approve', 'req-1', '--always', '--json'], ownerEnv(server.url));
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'cli_error' } });
    expect(server.calls.some((call) => call.url.endsWith('/resolve'))).toBe(false);
  });

  it('deny, pending, show; --json errors are { error: { code, message } } on stdout', async () => {
    const server = await ownerServer(
      execRequest({
        argv: ['/bin/rm', '-rf', '\u001b[2Jx'],
        risk: { elevated: false, destructive: true, inlineEval: false, unanalysable: false },
      }),
    );
    const denied = await runCli(['exec', 'deny', 'req-1', '--reason', 'no'], ownerEnv(server.url));
    expect(denied.stdout).toBe('Denied req-1.\n');
    expect(server.calls.at(-1)?.body).toEqual({ decision: 'deny', planHash: hash, reason: 'no' });

    const pending = await runCli(['exec', 'pending'], ownerEnv(server.url));
    expect(pending.stdout).toMatch(
      /^ID\s+RISK\s+AGENT\s+EXPIRES \(UTC\)\s+COMMAND\nreq-1\s+destructive\s+main\s+2026-01-01 00:02:00\s+\["\/bin\/rm","-rf","\\u001b\[2Jx"\]\n$/,
    );

    const shown = await runCli(['exec', 'show', 'req-1'], ownerEnv(server.url));
    expect(shown.stdout).toContain('  [2] "\\u001b[2Jx"');
    expect(shown.stdout).toContain('Risk:      DESTRUCTIVE');

    const missing = await runCli(['exec', 'show', 'nope', '--json'], ownerEnv(server.url));
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toEqual({ error: { code: 'not_found', message: 'No such exec request.' } });
  });
});
