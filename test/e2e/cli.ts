/**
 * End-to-end helpers: run the built CLI (dist/cli/main.js) as real child processes and talk to
 * `countersign serve` over a real socket on 127.0.0.1. Nothing here imports src/: the tests see
 * the product only as a user would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSync } from 'otplib';
import { expect, type TestContext } from 'vitest';

/** The part of a test's context the helpers need; tests run concurrently, so the global hooks cannot be used. */
export type Ctx = Pick<TestContext, 'onTestFinished'>;

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cliPath = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

if (!existsSync(cliPath)) {
  throw new Error(`${cliPath} is missing: run \`npm run build\` first (npm test does it for you).`);
}

/**
 * A temporary directory removed when the current test ends (as test/support/harness.ts's
 * tempDir; not imported from there because that module loads the whole server into the test
 * process, which these tests never need).
 */
export function tempDir(t: Ctx, prefix = 'countersign-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export type CliResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** The environment a CLI child sees: ours minus anything countersign-specific, plus `extra`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('COUNTERSIGN_')) delete env[key];
  return { ...env, ...extra };
}

/** Runs `node dist/cli/main.js …args` to completion (killed after `timeoutMs`). stdin is not a TTY. */
export function cli(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: repoRoot,
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`countersign ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Like `cli`, but fails the test (showing stderr) unless the command exits 0. */
export async function cliOk(args: string[], options: { env?: Record<string, string> } = {}): Promise<CliResult> {
  const result = await cli(args, options);
  if (result.code !== 0) {
    throw new Error(
      `countersign ${args.join(' ')} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  }
  return result;
}

export type Installation = { dataDir: string; configPath: string; ownerToken: string; agentToken: string };

export async function init(dataDir: string, extra: string[] = []): Promise<Installation> {
  const { stdout } = await cliOk(['init', '--data', dataDir, ...extra, '--json']);
  return JSON.parse(stdout) as Installation;
}

export async function enrollTotp(dataDir: string, owner = 'owner'): Promise<string> {
  const { stdout } = await cliOk(['totp', 'enroll', '--data', dataDir, '--owner', owner, '--json']);
  const enrolled = JSON.parse(stdout) as { owner: string; secret: string; uri: string };
  return enrolled.secret;
}

export function totpCode(secret: string): string {
  return generateSync({ secret });
}

export type Server = {
  url: string;
  child: ChildProcess;
  /** Everything the server printed on stdout so far (the listening line, tokens with --init, pino logs). */
  stdout: () => string;
  stderr: () => string;
  stop: () => Promise<void>;
};

// The banner, or with --json its first line's `listening`.
const listening = /(?:countersign listening on |"listening":")(http:\/\/127\.0\.0\.1:\d+)/;

/** Waits for a child to exit; SIGKILLs it if it has not after `graceMs`. */
function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts `countersign serve --data DIR --port 0 …extra` and resolves once it prints its address.
 * The server is stopped when the current test finishes, whatever happens. `env` is added to the
 * server's environment.
 */
export function serve(
  t: Ctx,
  dataDir: string | null,
  extra: string[] = [],
  timeoutMs = 15_000,
  env: Record<string, string> = {},
): Promise<Server> {
  const args = ['serve', ...(dataDir ? ['--data', dataDir] : []), '--host', '127.0.0.1', '--port', '0', ...extra];
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    env: childEnv({ COUNTERSIGN_LOG_LEVEL: 'warn', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.onTestFinished(() => stopChild(child));
  let stdout = '';
  let stderr = '';
  const server: Omit<Server, 'url'> = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: () => stopChild(child),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start within ${timeoutMs} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    }, timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = listening.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ ...server, url: match[1] as string });
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`serve exited (${code ?? signal}) before listening\n--- stdout\n${stdout}\n--- stderr\n${stderr}`),
      );
    });
  });
}

/** Starts `serve` expecting it to fail: resolves with its exit and output (it must not start listening). */
export async function serveFails(dataDir: string, extra: string[] = []): Promise<CliResult> {
  const result = await cli(['serve', '--data', dataDir, '--host', '127.0.0.1', '--port', '0', ...extra], {
    env: { COUNTERSIGN_LOG_LEVEL: 'warn' },
    timeoutMs: 10_000,
  });
  return result;
}

export type HttpResult<T = Record<string, unknown>> = { status: number; body: T };

/** A plain HTTP call, as an agent or owner would make it. */
export async function http<T = Record<string, unknown>>(
  server: { url: string },
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<HttpResult<T>> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

/** The environment owner commands read: the server URL and the owner token. */
export function ownerEnv(server: { url: string }, token: string): Record<string, string> {
  return { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: token };
}

export type Card = {
  id: string;
  status: string;
  tier: string;
  patchHash: string;
  targetHash: string;
  changes: { path: string; tier: string; ruleId: string | null; before?: unknown; after?: unknown }[];
  approval: { totp: boolean; confirmPhrase: string | null; surfaces: string[] };
  resolution: { status: string; reason?: string | null } | null;
};
export type OpenClawDocument = { commands: { mcp: boolean }; gateway: { auth: { token: string } } };

export type Running = {
  installation: Installation;
  server: Server;
  /** The document as it is on disk right now (text and parsed). */
  documentText: () => string;
  document: () => OpenClawDocument;
};

/** A fresh `init`ed installation with its server running. */
export async function running(t: Ctx): Promise<Running> {
  const installation = await init(join(tempDir(t), 'data'));
  const server = await serve(t, installation.dataDir);
  const documentText = () => readFileSync(installation.configPath, 'utf8');
  return { installation, server, documentText, document: () => JSON.parse(documentText()) as OpenClawDocument };
}

/** What the agent does in the worked example: read the (redacted) config, then propose commands.mcp = true. */
export async function agentProposesMcp(server: Server, agentToken: string): Promise<Card> {
  const read = await http<{ target: string; hash: string; config: OpenClawDocument }>(
    server,
    'GET',
    '/v1/config',
    agentToken,
  );
  expect(read.status).toBe(200);
  expect(read.body.target).toBe('openclaw');
  expect(read.body.hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  expect(read.body.config.gateway.auth.token).toBe('[redacted]');
  expect(read.body.config.commands.mcp).toBe(false);

  const proposed = await http<{ status: string; proposal: Card }>(server, 'POST', '/v1/proposals', agentToken, {
    baseHash: read.body.hash,
    patch: { commands: { mcp: true } },
    reason: 'I need to register an MCP server',
  });
  expect(proposed.status).toBe(202);
  expect(proposed.body.status).toBe('pending');
  const card = proposed.body.proposal;
  expect(card.status).toBe('pending');
  expect(card.tier).toBe('dangerous');
  expect(card.changes).toEqual([
    expect.objectContaining({
      path: 'commands.mcp',
      before: false,
      after: true,
      tier: 'dangerous',
      ruleId: 'mcp-command',
    }),
  ]);
  expect(card.approval.totp).toBe(true);
  expect(card.approval.confirmPhrase).toEqual(expect.any(String));
  return card;
}

/**
 * Per-test timeout for these suites: each test runs several real processes one after another,
 * and a loaded 2-core machine can make a single CLI start take a second or more.
 */
export const e2eTimeout = 60_000;

/** Every audit event, oldest first, paging through `GET /v1/audit` as an owner would. */
export async function allEvents<T extends { seq: number }>(server: { url: string }, token: string): Promise<T[]> {
  const events: T[] = [];
  for (;;) {
    const after = events.at(-1)?.seq ?? 0;
    const page = await http<{ events: T[] }>(server, 'GET', `/v1/audit?after=${after}&limit=1000`, token);
    events.push(...page.body.events);
    if (page.body.events.length < 1000) return events;
  }
}

/** Resolves once a child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
