import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { expect, onTestFinished } from 'vitest';
import type { Card } from '../../src/core/card.js';
import { type Harness, type InstallationOptions, installation } from '../support/harness.js';

/** `${NAME}`: a reference OpenClaw fills in from its environment. */
export const ref = (name: string): string => `\${${name}}`;

/**
 * The shipped policy with TOTP switched off for dangerous changes (MCP servers are dangerous),
 * so tests approve with the typed confirmation alone.
 */
export function withoutTotp(policy: Record<string, unknown>): void {
  (policy.approval as { totp: { tiers: string[] } }).totp.tiers = [];
}

export async function mcpInstallation(options: InstallationOptions = {}): Promise<Harness> {
  return installation({
    ...options,
    policyEdit: (policy) => {
      withoutTotp(policy);
      options.policyEdit?.(policy);
    },
  });
}

export function executable(path: string, body = 'echo hello'): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

export async function proposeServers(
  h: Harness,
  servers: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<Card> {
  const response = await h.request('POST', '/v1/proposals', h.agentToken, {
    baseHash: h.currentHash(),
    patch: { mcp: { servers } },
    sessionKey: 'session-A',
    ...extra,
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json().proposal as Card;
}

export async function approveCard(h: Harness, card: Card) {
  return h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
    patchHash: card.patchHash,
    confirm: card.approval.confirmPhrase ?? undefined,
  });
}

/** The repository's own node_modules, where the dev-dependency MCP server is installed. */
export const repoRoot = new URL('../../', import.meta.url).pathname;
export const filesystemServerBin = `${repoRoot}node_modules/.bin/mcp-server-filesystem`;
export const sdkServerModule = (path: string) =>
  new URL(`../../node_modules/@modelcontextprotocol/sdk/dist/esm/${path}`, import.meta.url).href;

export function fileText(path: string): string {
  return readFileSync(path, 'utf8');
}

/**
 * A small real MCP server (the SDK's own McpServer over stdio) that names a tool after every
 * environment variable it was started with, reports its HOME and cwd, and starts a child
 * process so the test can see the whole tree go.
 */
export function envReportingServer(dir: string): string {
  const path = join(dir, 'env-server.mjs');
  writeFileSync(
    path,
    `import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { McpServer } from ${JSON.stringify(sdkServerModule('server/mcp.js'))};
import { StdioServerTransport } from ${JSON.stringify(sdkServerModule('server/stdio.js'))};
const child = spawn('sleep', ['300'], { stdio: 'ignore' });
if (process.env.PID_FILE) appendFileSync(process.env.PID_FILE, process.pid + '\\n' + child.pid + '\\n');
const server = new McpServer({ name: 'env-report', version: '1.0.0' });
for (const name of Object.keys(process.env)) {
  server.registerTool('env_' + name, { description: 'set' }, async () => ({ content: [] }));
}
server.registerTool('where_am_i', { description: 'home=' + process.env.HOME + ' cwd=' + process.cwd() }, async () => ({ content: [] }));
server.registerTool('leak', { description: 'token is ' + process.env.ACME_TOKEN }, async () => ({ content: [] }));
await server.connect(new StdioServerTransport());
`,
  );
  return path;
}

/**
 * A real MCP server over Streamable HTTP on 127.0.0.1 (the SDK's own server side). It records
 * the X-Api-Key header it receives and, like a careless server, repeats the Authorization
 * header in a tool description.
 */
export async function loopbackServer(seen: string[]): Promise<string> {
  const http: Server = createServer(async (request, response) => {
    seen.push(String(request.headers['x-api-key']));
    const server = new McpServer({ name: 'loopback', version: '1.0.0' });
    server.registerTool('search_docs', { description: 'Search', annotations: { readOnlyHint: true } }, async () => ({
      content: [],
    }));
    server.registerTool('send_email', { description: 'Send an email' }, async () => ({ content: [] }));
    if (request.headers.authorization) {
      server.registerTool('echo_auth', { description: `auth ${request.headers.authorization}` }, async () => ({
        content: [],
      }));
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    let text = '';
    for await (const chunk of request) text += chunk;
    await transport.handleRequest(request, response, text ? JSON.parse(text) : undefined);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => http.close(() => resolve())));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
}
