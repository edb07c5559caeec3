/**
 * `countersign mcp` (SPEC §10, issue 12) driven as an agent runtime drives it: the SDK's own
 * client over stdio, spawning the built CLI with COUNTERSIGN_URL and an agent COUNTERSIGN_TOKEN of
 * a real `countersign serve`. The owner decides over plain HTTP while tools wait.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import {
  type Ctx,
  cliOk,
  cliPath,
  e2eTimeout,
  enrollTotp,
  http,
  repoRoot,
  running,
  type Server,
  totpCode,
} from '../e2e/cli.js';

type ToolResult = {
  isError?: boolean;
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
};

async function connect(t: Ctx, server: Server, token: string): Promise<Client> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('COUNTERSIGN_')) env[key] = value;
  }
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cliPath, 'mcp'],
    cwd: repoRoot,
    env: { ...env, COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: token, COUNTERSIGN_SESSION: 'mcp-test' },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'countersign-test', version: '0.0.0' });
  await client.connect(transport);
  t.onTestFinished(() => client.close());
  return client;
}

async function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  options: { onprogress?: (progress: Progress) => void; signal?: AbortSignal } = {},
): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args }, CallToolResultSchema, {
    ...options,
    timeout: 60_000,
  })) as ToolResult;
}

const text = (result: ToolResult) => result.content.map((part) => part.text).join('\n');
const errorOf = (result: ToolResult) =>
  (result.structuredContent as { error: { code: string; message: string } }).error;

describe('countersign mcp', () => {
  it(
    'lists the contract tools with honest annotations',
    async (t) => {
      const { installation, server } = await running(t);
      const client = await connect(t, server, installation.agentToken);
      const { tools } = await client.listTools();
      const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
      expect(Object.keys(byName).sort()).toEqual([
        'config_get',
        'config_propose',
        'exec_request',
        'policy_explain',
        'proposal_status',
      ]);
      for (const name of ['config_get', 'proposal_status', 'policy_explain']) {
        expect(byName[name]?.annotations).toMatchObject({
          readOnlyHint: true,
          destructiveHint: false,
          idempotentHint: true,
        });
      }
      expect(byName.config_propose?.annotations).toMatchObject({
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
      });
      expect(byName.exec_request?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false });
      expect(byName.exec_request?.description).toContain('never runs the command');
      expect(byName.config_propose?.inputSchema.required).toEqual(['reason']);
      expect(byName.config_propose?.inputSchema.properties).toHaveProperty('wait');
    },
    e2eTimeout,
  );

  it(
    'config_get shows the document redacted, with its hash, whole or at a path',
    async (t) => {
      const { installation, server } = await running(t);
      const client = await connect(t, server, installation.agentToken);
      const whole = await call(client, 'config_get', {});
      expect(whole.isError).toBeFalsy();
      const read = whole.structuredContent as { hash: string; config: { gateway: { auth: { token: string } } } };
      expect(read.hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
      expect(read.config.gateway.auth.token).toBe('[redacted]');
      expect(JSON.stringify(whole)).not.toContain('oc_demo_');

      const secret = await call(client, 'config_get', { path: 'gateway.auth.token' });
      expect(secret.structuredContent).toMatchObject({ value: '[redacted]', hash: read.hash });
      const port = await call(client, 'config_get', { path: 'gateway.port' });
      expect(port.structuredContent).toMatchObject({ value: 18789 });
    },
    e2eTimeout,
  );

  it(
    'a dangerous proposal stays pending; without baseHash it says it read the hash; an allowlisted one applies',
    async (t) => {
      const { installation, server, document } = await running(t);
      const client = await connect(t, server, installation.agentToken);
      const pending = await call(client, 'config_propose', {
        patch: { commands: { mcp: true } },
        reason: 'register an MCP server',
      });
      expect(pending.isError).toBeFalsy();
      const result = pending.structuredContent as {
        status: string;
        baseHashRead: boolean;
        baseHash: string;
        proposal: { id: string; status: string; tier: string };
      };
      expect(result).toMatchObject({
        status: 'pending',
        baseHashRead: true,
        proposal: { status: 'pending', tier: 'dangerous' },
      });
      expect(text(pending)).toContain('No baseHash given: read the current hash');
      expect(document().commands.mcp).toBe(false);

      const status = await call(client, 'proposal_status', { id: result.proposal.id });
      expect(status.structuredContent).toMatchObject({ proposal: { id: result.proposal.id, status: 'pending' } });

      const { hash } = (await call(client, 'config_get', {})).structuredContent as { hash: string };
      const applied = await call(client, 'config_propose', {
        patch: { agents: { defaults: { thinkingDefault: 'high' } } },
        baseHash: hash,
        reason: 'think harder',
      });
      expect(applied.structuredContent).toMatchObject({ status: 'applied', baseHashRead: false });
      expect(text(applied)).not.toContain('No baseHash given');
      const disk = document() as unknown as { agents: { defaults: { thinkingDefault: string } } };
      expect(disk.agents.defaults.thinkingDefault).toBe('high');

      const explained = await call(client, 'policy_explain', { path: 'commands.mcp', value: true });
      expect(explained.structuredContent).toMatchObject({
        path: 'commands.mcp',
        tier: 'dangerous',
        ruleId: 'mcp-command',
      });
    },
    e2eTimeout,
  );

  it(
    'wait returns when the owner approves, with progress notifications meanwhile',
    async (t) => {
      const { installation, server, document } = await running(t);
      const secret = await enrollTotp(installation.dataDir);
      const client = await connect(t, server, installation.agentToken);
      const created = await call(client, 'config_propose', { patch: { commands: { mcp: true } }, reason: 'mcp' });
      const card = (created.structuredContent as { proposal: { id: string; patchHash: string } }).proposal;
      const full = await http<{ patchHash: string; approval: { confirmPhrase: string } }>(
        server,
        'GET',
        `/v1/proposals/${card.id}`,
        installation.ownerToken,
      );

      const progress: Progress[] = [];
      let firstProgress: () => void = () => {};
      const progressed = new Promise<void>((resolve) => {
        firstProgress = resolve;
      });
      const waiting = call(
        client,
        'proposal_status',
        { id: card.id, wait: 60 },
        {
          onprogress: (update) => {
            progress.push(update);
            firstProgress();
          },
        },
      );
      await progressed;
      const approved = await http(server, 'POST', `/v1/proposals/${card.id}/approve`, installation.ownerToken, {
        patchHash: full.body.patchHash,
        confirm: full.body.approval.confirmPhrase,
        totp: totpCode(secret),
      });
      expect(approved.status).toBe(200);
      const result = await waiting;
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ proposal: { status: 'applied' }, waited: { timedOut: false } });
      expect(text(result)).toContain('approved and applied');
      expect(progress.length).toBeGreaterThan(0);
      expect(progress[0]?.message).toContain('waiting for the owner');
      expect(document().commands.mcp).toBe(true);
    },
    e2eTimeout,
  );

  it(
    'refusals are tool errors with the service code: wrong types, unknown id, stale base',
    async (t) => {
      const { installation, server } = await running(t);
      const client = await connect(t, server, installation.agentToken);

      const wrongType = await call(client, 'config_propose', { patch: 'commands.mcp=true', reason: 7 });
      expect(wrongType.isError).toBe(true);
      expect(errorOf(wrongType).code).toBe('invalid_request');
      expect(text(wrongType)).toMatch(/^invalid_request: /);

      const twoForms = await call(client, 'config_propose', { patch: {}, replace: {}, reason: 'both' });
      expect(errorOf(twoForms).code).toBe('invalid_request');

      const unknown = await call(client, 'proposal_status', { id: 'no-such-proposal' });
      expect(unknown.isError).toBe(true);
      expect(errorOf(unknown).code).toBe('not_found');

      const { hash } = (await call(client, 'config_get', {})).structuredContent as { hash: string };
      await call(client, 'config_propose', {
        patch: { agents: { defaults: { thinkingDefault: 'medium' } } },
        baseHash: hash,
        reason: 'moves the hash on',
      });
      const stale = await call(client, 'config_propose', {
        patch: { agents: { defaults: { thinkingDefault: 'high' } } },
        baseHash: hash,
        reason: 'on an old read',
      });
      expect(stale.isError).toBe(true);
      expect(errorOf(stale)).toMatchObject({ code: 'stale_base', currentHash: expect.stringMatching(/^hmac-sha256:/) });
      expect(text(stale)).toMatch(/^stale_base: /);

      // An owner's proposal is not the agent's to read: reported as missing, like any unknown id.
      const badPath = await call(client, 'config_get', { path: 'gateway.[' });
      expect(badPath.isError).toBe(true);
    },
    e2eTimeout,
  );

  it(
    'exec_request: ask, the owner allows, the result carries the planHash to consume',
    async (t) => {
      const { installation, server } = await running(t);
      const client = await connect(t, server, installation.agentToken);
      let firstProgress: () => void = () => {};
      const progressed = new Promise<void>((resolve) => {
        firstProgress = resolve;
      });
      const waiting = call(
        client,
        'exec_request',
        { argv: ['/bin/echo', 'hello'], cwd: '/tmp', wait: 60 },
        { onprogress: () => firstProgress() },
      );
      await progressed;
      const listed = await http<{ requests: { id: string; planHash: string }[] }>(
        server,
        'GET',
        '/v1/exec/requests?status=pending',
        installation.ownerToken,
      );
      const request = listed.body.requests[0];
      expect(request).toBeDefined();
      const resolved = await http(server, 'POST', `/v1/exec/requests/${request?.id}/resolve`, installation.ownerToken, {
        decision: 'allow-once',
        planHash: request?.planHash,
      });
      expect(resolved.status).toBe(200);
      const result = await waiting;
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({
        decision: 'allowed',
        planHash: request?.planHash,
        mustConsume: true,
        sessionKey: 'mcp-test',
      });
      expect(text(result)).toContain('did not run it');
    },
    e2eTimeout,
  );

  it(
    'cancelling a wait stops it and withdraws the pending exec request',
    async (t) => {
      const { installation, server } = await running(t);
      const client = await connect(t, server, installation.agentToken);
      const abort = new AbortController();
      const waiting = call(
        client,
        'exec_request',
        { argv: ['/bin/echo', 'never'], cwd: '/tmp', wait: 60 },
        { signal: abort.signal, onprogress: () => abort.abort() },
      );
      await expect(waiting).rejects.toThrow();
      const deadline = Date.now() + 10_000;
      let status = 'pending';
      while (status === 'pending' && Date.now() < deadline) {
        const listed = await http<{ requests: { status: string; resolution: { reason: string } | null }[] }>(
          server,
          'GET',
          '/v1/exec/requests',
          installation.ownerToken,
        );
        status = listed.body.requests[0]?.status ?? 'missing';
        if (status === 'pending') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe('denied');
      // The server is still serving after the cancellation.
      expect((await call(client, 'config_get', {})).isError).toBeFalsy();
    },
    e2eTimeout,
  );

  it(
    'over HTTP: another agent cannot wait on a proposal (404 at once); explain needs a token',
    async (t) => {
      const { installation, server } = await running(t);
      const other = JSON.parse(
        (
          await cliOk([
            'token',
            'create',
            '--data',
            installation.dataDir,
            '--role',
            'agent',
            '--name',
            'other',
            '--json',
          ])
        ).stdout,
      ) as { token: string };
      const client = await connect(t, server, installation.agentToken);
      const created = await call(client, 'config_propose', { patch: { commands: { mcp: true } }, reason: 'mine' });
      const { id } = (created.structuredContent as { proposal: { id: string } }).proposal;
      const started = Date.now();
      const probe = await http(server, 'GET', `/v1/proposals/${id}?wait=30`, other.token);
      expect(probe.status).toBe(404);
      expect(Date.now() - started).toBeLessThan(5000);
      const mine = await http<{ status: string }>(server, 'GET', `/v1/proposals/${id}?wait=1`, installation.agentToken);
      expect(mine.body.status).toBe('pending');
      expect((await http(server, 'GET', '/v1/proposals/x?wait=9999', installation.agentToken)).status).toBe(400);

      expect((await http(server, 'GET', '/v1/policy/explain?path=commands.mcp', null)).status).toBe(401);
      const explained = await http(server, 'GET', '/v1/policy/explain?path=gateway.auth.token', other.token);
      expect(explained.status).toBe(200);
      expect(explained.body).toMatchObject({ redacted: true });
      expect(JSON.stringify(explained.body)).not.toContain('oc_demo_');
      const badValue = await http<{ error: { code: string } }>(
        server,
        'GET',
        '/v1/policy/explain?path=commands.mcp&value=not-json',
        other.token,
      );
      expect(badValue.body.error.code).toBe('invalid_request');
    },
    e2eTimeout,
  );
});
