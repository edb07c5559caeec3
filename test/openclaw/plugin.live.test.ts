// Live proof of countersign with a real OpenClaw (issue 12): the plugin in integrations/openclaw
// loaded from this checkout by a real `openclaw gateway run`, on a config countersign manages,
// and a real agent turn whose model is a scripted stub (test/openclaw/stub-model.ts). Needs
// OpenClaw 2026.9.6 and Node 24, found through OPENCLAW_BIN (the `openclaw.mjs` entry) and
// OPENCLAW_NODE_BIN; `.ci/openclaw` installs both into a cache and runs `npm run test:openclaw`.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { type Harness, installation } from '../support/harness.js';
import { type StubModel, startStubModel } from './stub-model.js';

const run = promisify(execFile);
const openclawBin = process.env.OPENCLAW_BIN;
const nodeBin = process.env.OPENCLAW_NODE_BIN;
const pluginDir = fileURLToPath(new URL('../../integrations/openclaw/', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

// biome-ignore lint/suspicious/noExplicitAny: a client reads replies field by field
type Reply = { status: number; body: any; text: string };

async function fetchJson(url: string, init: { method?: string; token?: string; json?: unknown } = {}): Promise<Reply> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body, text };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number, log = () => ''): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log().slice(0, 12000)}`);
    await sleep(250);
  }
}

describe.skipIf(!openclawBin || !nodeBin)('countersign with a live OpenClaw gateway', () => {
  let h: Harness;
  let cs: string;
  let gatewayUrl: string;
  let gateway: ChildProcess | undefined;
  let model: StubModel | undefined;
  let gatewayLog = '';
  const gatewayToken = 'gw-test-token-0123456789abcdef';
  const home = mkdtempSync(join(tmpdir(), 'openclaw-home-'));
  const stateDir = join(home, 'state');
  const workspace = join(home, 'workspace');
  let env: NodeJS.ProcessEnv;
  /** Every document countersign wrote to openclaw.json, each checked by `openclaw config validate`. */
  const written: string[] = [];

  const openclaw = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    run(nodeBin as string, [openclawBin as string, ...args], {
      env: { ...env, ...extraEnv },
      timeout: 180_000,
      maxBuffer: 16 << 20,
    });

  afterAll(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway?.once('exit', resolve));
      gateway.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (gateway.exitCode === null) gateway.kill('SIGKILL');
    }
    await model?.close();
  });

  // One test, steps in order: the harness cleans up per test, and every step needs the same gateway.
  it('plugin, proposals, reload and the exec gate on a real gateway and a real agent turn', async () => {
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(workspace, { recursive: true });
    model = await startStubModel();
    const csPort = await freePort();
    const gwPort = await freePort();
    cs = `http://127.0.0.1:${csPort}`;
    gatewayUrl = `http://127.0.0.1:${gwPort}`;
    const document = {
      gateway: { mode: 'local', port: gwPort, bind: 'loopback', auth: { mode: 'token', token: gatewayToken } },
      // The agent's model is the stub; everything around it is real.
      models: {
        mode: 'merge',
        providers: {
          stub: {
            baseUrl: model.url,
            api: 'openai-completions',
            apiKey: 'x',
            models: [
              {
                id: 'stub-1',
                name: 'Stub',
                reasoning: false,
                input: ['text'],
                cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
                contextWindow: 128000,
                maxTokens: 4096,
              },
            ],
          },
        },
      },
      agents: { defaults: { workspace, model: { primary: 'stub/stub-1' } } },
      tools: {
        profile: 'coding',
        alsoAllow: ['countersign_config_propose', 'countersign_proposal_status'],
        // OpenClaw itself would run anything: countersign's gate is the only check, so the test shows it is one.
        exec: { host: 'gateway', security: 'full', ask: 'off' },
      },
      plugins: {
        load: { paths: [pluginDir] },
        entries: {
          countersign: {
            enabled: true,
            // The token is a SecretRef: OpenClaw resolves it from the gateway's environment.
            config: {
              url: cs,
              token: { source: 'env', provider: 'default', id: 'COUNTERSIGN_TOKEN' },
              execGate: true,
              timeoutSeconds: 60,
            },
            hooks: { timeouts: { before_tool_call: 75_000 } },
          },
        },
      },
    };
    h = await installation({ document });
    await h.app.listen({ host: '127.0.0.1', port: csPort });
    env = {
      PATH: `${dirname(nodeBin as string)}:${process.env.PATH}`,
      HOME: home,
      OPENCLAW_CONFIG_PATH: h.configPath,
      OPENCLAW_STATE_DIR: stateDir,
      COUNTERSIGN_TOKEN: h.agentToken,
    };
    written.push(h.documentText());
    await validates(h.documentText());

    gateway = spawn(nodeBin as string, [openclawBin as string, 'gateway', 'run'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [gateway.stdout, gateway.stderr]) {
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        gatewayLog += chunk;
      });
    }
    await until(
      'the gateway to answer /health',
      async () => {
        if (gateway?.exitCode !== null) throw new Error(`gateway exited\n${gatewayLog}`);
        const status = await fetch(`${gatewayUrl}/health`).then(
          (r) => r.status,
          () => 0,
        );
        return status === 200 ? true : undefined;
      },
      120_000,
      () => gatewayLog,
    );

    await inspects();
    await proposesThroughTheGateway();
    await approvedChangeHotReloads();
    await execRunsOnlyWhenAllowed();
    await execNeverRunsWhenDenied();
    for (const text of written) await validates(text);
  }, 600_000);

  const validates = async (text: string) => {
    const file = join(home, `written-${written.indexOf(text)}.json`);
    writeFileSync(file, text);
    const { stdout } = await openclaw(['config', 'validate', '--json'], { OPENCLAW_CONFIG_PATH: file });
    expect(JSON.parse(stdout), text).toMatchObject({ valid: true });
  };

  const inspects = async () => {
    const { stdout } = await openclaw(['plugins', 'inspect', 'countersign', '--runtime', '--json']);
    const inspected = JSON.parse(stdout);
    const text = JSON.stringify(inspected);
    expect(text).toContain('countersign_config_propose');
    expect(text).toContain('countersign_proposal_status');
    expect(text).toMatch(/"status":"loaded"/);
  };

  const invoke = (tool: string, args: Record<string, unknown>) =>
    fetchJson(`${gatewayUrl}/tools/invoke`, {
      method: 'POST',
      token: gatewayToken,
      json: { tool, args, agentId: 'main' },
    });

  const pending = async () =>
    (await fetchJson(`${cs}/v1/proposals?status=pending`, { token: h.ownerToken })).body.proposals as Array<{
      id: string;
      reason: string;
      patchHash: string;
      approval: { confirmPhrase?: string };
    }>;

  const proposesThroughTheGateway = async () => {
    const reply = await invoke('countersign_config_propose', {
      patch: { gateway: { auth: { mode: 'none' } } },
      reason: 'live test: a dangerous change stays pending',
    });
    expect(reply.status, reply.text).toBe(200);
    const [proposal] = await pending();
    expect(proposal?.reason).toContain('live test');
    // Left pending: the document is untouched.
    expect(h.document()).toMatchObject({ gateway: { auth: { mode: 'token' } } });
  };

  const approvedChangeHotReloads = async () => {
    const reply = await invoke('countersign_config_propose', {
      patch: { tools: { exec: { timeoutSeconds: 120 } } },
      reason: 'live test: a longer exec timeout',
    });
    expect(reply.status, reply.text).toBe(200);
    const proposal = (await pending()).find((p) => p.reason.includes('longer exec timeout'));
    expect(proposal).toBeDefined();
    const card = (await fetchJson(`${cs}/v1/proposals/${proposal?.id}`, { token: h.ownerToken })).body;
    expect(card.restartRequired).toBe(false);
    const logBefore = gatewayLog.length;
    const approved = await fetchJson(`${cs}/v1/proposals/${proposal?.id}/approve`, {
      method: 'POST',
      token: h.ownerToken,
      json: { patchHash: card.patchHash },
    });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({ status: 'applied', restartRequired: false });
    written.push(h.documentText());
    // The gateway's own watcher picks up countersign's atomic rename and hot-applies that path.
    const line = await until(
      'the gateway to hot-reload tools.exec.timeoutSeconds',
      async () => /\[reload\] config hot reload applied \(([^)]*)\)/.exec(gatewayLog.slice(logBefore))?.[0],
      30_000,
      () => gatewayLog,
    );
    expect(line).toContain('tools.exec.timeoutSeconds');
    expect(gatewayLog.slice(logBefore)).not.toContain('requires gateway restart');
  };

  /** One agent turn through the gateway: the stub model asks for `exec` with `command`. */
  const agentTurn = (sessionKey: string, command: string) =>
    openclaw([
      'agent',
      '--agent',
      'main',
      '--session-key',
      sessionKey,
      '--message',
      `Please do this. run: ${command}`,
      '--json',
    ]).then(
      (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? 1,
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? '',
      }),
    );

  const pendingExec = (command: string) =>
    until(
      `an exec request for ${command}`,
      async () => {
        const list = await fetchJson(`${cs}/v1/exec/requests?status=pending`, { token: h.ownerToken });
        return (list.body.requests as Array<{ id: string; command?: string; planHash: string; agentId: string }>).find(
          (request) => JSON.stringify(request).includes(command.split(' ')[1] as string),
        );
      },
      90_000,
      () =>
        `${model?.log.join('\n')}\nexec requests: ${JSON.stringify(h.service.exec.list({})).slice(0, 3000)}\naudit: ${h.auditKinds().join(' ')}\n${gatewayLog.slice(-6000)}`,
    );

  const resolve = (request: { id: string; planHash: string }, decision: 'allow-once' | 'deny') =>
    fetchJson(`${cs}/v1/exec/requests/${request.id}/resolve`, {
      method: 'POST',
      token: h.ownerToken,
      json: { decision, planHash: request.planHash, reason: `live test: ${decision}` },
    });

  const execRunsOnlyWhenAllowed = async () => {
    const marker = join(workspace, 'ran-allowed.txt');
    const command = 'touch ran-allowed.txt';
    const turn = agentTurn('agent:main:countersign-live-allow', command);
    const request = await pendingExec(command);
    expect(request.agentId).toBe('main');
    // The gate holds the call while the owner decides: nothing has run yet.
    await sleep(1_000);
    expect(existsSync(marker)).toBe(false);
    const decided = await resolve(request, 'allow-once');
    expect(decided.status, decided.text).toBe(200);
    const done = await turn;
    const state = (await fetchJson(`${cs}/v1/exec/requests/${request.id}`, { token: h.ownerToken })).body.request;
    expect(
      done.code,
      `marker ${existsSync(marker)}, request ${state?.status}\nmodel:\n${model?.log.join('\n')}\n${done.stdout}\n${done.stderr}\n${gatewayLog.slice(-3000)}`,
    ).toBe(0);
    expect(existsSync(marker)).toBe(true);
    const consumed = (await fetchJson(`${cs}/v1/exec/requests/${request.id}`, { token: h.ownerToken })).body.request;
    expect(consumed.status).toBe('consumed');
  };

  const execNeverRunsWhenDenied = async () => {
    const marker = join(workspace, 'ran-denied.txt');
    const command = 'touch ran-denied.txt';
    const toolResults = model?.toolResults.length ?? 0;
    const turn = agentTurn('agent:main:countersign-live-deny', command);
    const request = await pendingExec(command);
    const decided = await resolve(request, 'deny');
    expect(decided.status, decided.text).toBe(200);
    await turn;
    expect(existsSync(marker)).toBe(false);
    // The model was told why, in countersign's words.
    const told = model?.toolResults.slice(toolResults).join('\n') ?? '';
    expect(told).toContain('countersign');
    expect(told).toMatch(/denied/);
  };
});
