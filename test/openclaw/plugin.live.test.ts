// Live proof of integrations/openclaw against a real OpenClaw gateway (issue 12).
// Not part of the default run: it needs OpenClaw 2026.9.6 and Node 24, found through
// OPENCLAW_BIN (the `openclaw` entry) and OPENCLAW_NODE_BIN (the node binary). Run with
// `npm run test:openclaw`.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { type Harness, installation } from '../support/harness.js';

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

describe.skipIf(!openclawBin || !nodeBin)('OpenClaw plugin on a live gateway', () => {
  let h: Harness;
  let countersignUrl: string;
  let gatewayUrl: string;
  let gateway: ChildProcess;
  let gatewayLog = '';
  const gatewayToken = 'gw-test-token-0123456789abcdef';
  const home = mkdtempSync(join(tmpdir(), 'openclaw-home-'));
  const stateDir = join(home, 'state');
  const workspace = join(home, 'workspace');
  let env: NodeJS.ProcessEnv;

  const openclaw = (args: string[], options: { input?: string } = {}) =>
    run(nodeBin as string, [openclawBin as string, ...args], {
      env,
      timeout: 120_000,
      maxBuffer: 16 << 20,
      ...options,
    });

  const fetchJson = async (url: string, init: RequestInit & { token?: string; json?: unknown } = {}) => {
    const response = await fetch(url, {
      ...init,
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: a client reads replies field by field
    let body: any = null;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: response.status, body, text };
  };

  // One test, steps in order: the harness cleans up per test, and every step needs the same gateway.
  it('loads from the checkout and proposes through /tools/invoke', async () => {
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(workspace, { recursive: true });
    const csPort = await freePort();
    const gwPort = await freePort();
    countersignUrl = `http://127.0.0.1:${csPort}`;
    gatewayUrl = `http://127.0.0.1:${gwPort}`;
    const document = {
      gateway: {
        mode: 'local',
        port: gwPort,
        bind: 'loopback',
        auth: { mode: 'token', token: gatewayToken },
        // /tools/invoke hard-denies exec by default; the gate is exercised through it here.
        tools: { allow: ['exec'] },
      },
      agents: { defaults: { workspace } },
      tools: {
        profile: 'coding',
        alsoAllow: ['countersign_config_propose', 'countersign_proposal_status'],
        exec: { host: 'gateway', security: 'full', ask: 'off' },
      },
      plugins: {
        load: { paths: [pluginDir] },
        entries: {
          countersign: {
            enabled: true,
            // The token is a SecretRef: OpenClaw resolves it from the gateway's environment.
            config: {
              url: countersignUrl,
              token: { source: 'env', provider: 'default', id: 'COUNTERSIGN_TOKEN' },
              execGate: true,
              timeoutSeconds: 5,
            },
            hooks: { timeouts: { before_tool_call: 20_000 } },
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
    gateway = spawn(nodeBin as string, [openclawBin as string, 'gateway', 'run'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      gatewayLog += chunk;
    });
    gateway.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      gatewayLog += chunk;
    });
    const deadline = Date.now() + 90_000;
    for (;;) {
      const health = await fetch(`${gatewayUrl}/health`).then(
        (r) => r.status,
        () => 0,
      );
      if (health === 200) break;
      if (gateway.exitCode !== null) throw new Error(`gateway exited\n${gatewayLog}`);
      if (Date.now() > deadline) throw new Error(`gateway did not start\n${gatewayLog}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log('[gateway] up at', gatewayUrl);
    await validates();
    await inspects();
    await proposes();
  }, 400_000);

  afterAll(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((r) => gateway.once('exit', r));
      gateway.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (gateway.exitCode === null) gateway.kill('SIGKILL');
    }
  });

  const invoke = (tool: string, args: Record<string, unknown>) =>
    fetchJson(`${gatewayUrl}/tools/invoke`, {
      method: 'POST',
      token: gatewayToken,
      json: { tool, args, agentId: 'main' },
    });

  const validates = async () => {
    const { stdout } = await openclaw(['config', 'validate', '--json']);
    expect(JSON.parse(stdout).valid).toBe(true);
  };

  const inspects = async () => {
    const { stdout } = await openclaw(['plugins', 'inspect', 'countersign', '--runtime', '--json']);
    const inspected = JSON.parse(stdout);
    console.log('[inspect]', JSON.stringify(inspected).slice(0, 1500));
    expect(JSON.stringify(inspected)).toContain('countersign_config_propose');
    expect(JSON.stringify(inspected)).toContain('countersign_proposal_status');
  };

  const proposes = async () => {
    const reply = await invoke('countersign_config_propose', {
      patch: { gateway: { auth: { mode: 'none' } } },
      reason: 'live test: a dangerous change stays pending',
    });
    console.log('[tools/invoke propose]', reply.status, reply.text.slice(0, 1500));
    expect(reply.status).toBe(200);
    const pending = await fetchJson(`${countersignUrl}/v1/proposals?status=pending`, { token: h.ownerToken });
    expect(pending.body.proposals.length).toBe(1);
    expect(pending.body.proposals[0].reason).toContain('live test');
  };

  // Not proven yet: with gateway.tools.allow ["exec"] and tools.profile "coding", POST /tools/invoke
  // still answers 404 "Tool not available: exec" on 2026.9.6, so the before_tool_call gate never ran.
  // Next: find which policy hides exec from /tools/invoke, or drive a real turn with the stub model.
  it.todo("exec through the gateway is blocked with countersign's reason when the policy denies it");
});
