import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Card } from '../../src/core/card.js';
import { smokeTest } from '../../src/service/mcp.js';
import { tempDir } from '../support/harness.js';
import {
  approveCard,
  envReportingServer,
  executable,
  filesystemServerBin,
  loopbackServer,
  mcpInstallation,
  proposeServers,
  ref,
} from './support.js';

/** Alive and not a zombie (a killed child whose parent has not reaped it yet is already gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

afterEach(() => {
  delete process.env.SMOKE_SERVICE_ONLY;
  delete process.env.SMOKE_ACME_TOKEN;
  delete process.env.SMOKE_HEADER_SECRET;
});

describe('smoke test against @modelcontextprotocol/server-filesystem (installed from npm)', () => {
  it('lists its real tools and marks the destructive ones; the result is kept on the card and audited', async () => {
    const h = await mcpInstallation();
    const root = tempDir();
    writeFileSync(join(root, 'notes.txt'), 'hello\n');
    const card = await proposeServers(h, { filesystem: { command: filesystemServerBin, args: [root] } });
    expect(card.review.mcp[0]?.provenance).toMatchObject({
      via: 'node_modules',
      package: '@modelcontextprotocol/server-filesystem',
      pinned: true,
    });

    const response = await h.request('POST', `/v1/proposals/${card.id}/smoke-test`, h.ownerToken);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as {
      server: string;
      tools: Array<{ name: string; description: string; destructive: boolean; readOnly: boolean }>;
      warnings: unknown[];
    };
    expect(body.server).toBe('filesystem');
    expect(body.warnings).toEqual([]);
    const names = body.tools.map((tool) => tool.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'read_file',
        'read_text_file',
        'read_media_file',
        'read_multiple_files',
        'write_file',
        'edit_file',
        'create_directory',
        'list_directory',
        'list_directory_with_sizes',
        'directory_tree',
        'move_file',
        'search_files',
        'get_file_info',
        'list_allowed_directories',
      ]),
    );
    const byName = Object.fromEntries(body.tools.map((tool) => [tool.name, tool]));
    expect(
      body.tools
        .filter((tool) => tool.destructive)
        .map((tool) => tool.name)
        .sort(),
    ).toEqual(['edit_file', 'move_file', 'write_file']);
    for (const name of ['read_file', 'read_text_file', 'list_directory', 'search_files', 'get_file_info']) {
      expect(byName[name], name).toMatchObject({ readOnly: true, destructive: false });
    }
    // The server's own annotation: creates, but destroys nothing.
    expect(byName.create_directory).toMatchObject({ readOnly: false, destructive: false });
    expect(byName.write_file?.description).toMatch(/file/i);

    const stored = (await h.request('GET', `/v1/proposals/${card.id}`, h.ownerToken)).json() as Card;
    expect(stored.review.mcp[0]?.smokeTest).toMatchObject({ by: 'owner', tools: body.tools, warnings: [] });
    expect(stored.status).toBe('pending');
    const text = (await h.request('GET', `/v1/proposals/${card.id}/card?format=text`, h.ownerToken)).body;
    expect(text).toContain('write_file [DESTRUCTIVE]');
    expect(text).toContain('read_file [read-only]');
    const markdown = (await h.request('GET', `/v1/proposals/${card.id}/card?format=markdown`, h.ownerToken)).body;
    expect(markdown).toContain('destructive: `write_file`, `edit_file`, `move_file`');

    const events = h.service.audit.list({ proposalId: card.id }).filter((event) => event.kind === 'mcp.smoke_test');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: { role: 'owner', name: 'owner' }, proposalId: card.id });
    expect(events[0]?.details).toEqual({
      server: 'filesystem',
      tools: body.tools.map(({ name, destructive, readOnly }) => ({ name, destructive, readOnly })),
      warnings: [],
    });
    expect(JSON.stringify(events[0])).not.toContain('description');
    expect(h.service.audit.verify()).toMatchObject({ ok: true });

    // Testing is not approving: the change still needs the owner's countersignature, and gets it.
    expect((await approveCard(h, stored)).statusCode).toBe(200);
  });

  it('agents get 403 forbidden; it never runs on its own', async () => {
    const h = await mcpInstallation();
    const card = await proposeServers(h, { filesystem: { command: filesystemServerBin, args: [tempDir()] } });
    const response = await h.request('POST', `/v1/proposals/${card.id}/smoke-test`, h.agentToken);
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('forbidden');
    expect(h.auditKinds()).not.toContain('mcp.smoke_test');
    expect(card.review.mcp[0]?.smokeTest).toBeUndefined();
  });

  it('?server= or { server } picks one of several; unknown names and removals are refused', async () => {
    const dir = tempDir();
    const h = await mcpInstallation({ document: { mcp: { servers: { old: { command: '/bin/true' } } } } });
    const card = await proposeServers(h, {
      old: null,
      first: { command: join(dir, 'missing-server') },
      second: { command: filesystemServerBin, args: [dir] },
    });
    expect(card.review.mcp.map((review) => review.server)).toEqual(['old', 'first', 'second']);

    const byQuery = await h.request('POST', `/v1/proposals/${card.id}/smoke-test?server=second`, h.ownerToken);
    expect(byQuery.json().server).toBe('second');
    expect(byQuery.json().tools.length).toBeGreaterThan(5);

    // Default: the first server that is not being removed; it does not exist, so it cannot start.
    const byDefault = await h.request('POST', `/v1/proposals/${card.id}/smoke-test`, h.ownerToken, {});
    expect(byDefault.json()).toMatchObject({ server: 'first', tools: [] });
    expect(byDefault.json().warnings[0]).toMatchObject({ code: 'smoke_test_failed' });

    const unknown = await h.request('POST', `/v1/proposals/${card.id}/smoke-test`, h.ownerToken, { server: 'nope' });
    expect(unknown.statusCode).toBe(404);
    const removal = await h.request('POST', `/v1/proposals/${card.id}/smoke-test`, h.ownerToken, { server: 'old' });
    expect(removal.statusCode).toBe(400);
  });

  it('a proposal with no MCP server has nothing to test', async () => {
    const h = await mcpInstallation();
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { gateway: { port: 18790 } },
    });
    const id = response.json().proposal.id as string;
    expect((await h.request('POST', `/v1/proposals/${id}/smoke-test`, h.ownerToken)).statusCode).toBe(404);
  });
});

describe('the sandbox around a stdio smoke test', () => {
  it('the environment is only the declared env (references resolved) plus a minimal PATH and a scratch HOME; the tree is killed', async () => {
    const h = await mcpInstallation();
    const dir = tempDir();
    const script = envReportingServer(dir);
    const pidFile = join(dir, 'pids');
    process.env.SMOKE_SERVICE_ONLY = 'the service has this, the server must not';
    process.env.SMOKE_ACME_TOKEN = 'acme-token-from-service-env-1234';
    const card = await proposeServers(h, {
      report: {
        command: process.execPath,
        args: [script],
        cwd: dir,
        env: { PID_FILE: pidFile, ACME_TOKEN: ref('SMOKE_ACME_TOKEN'), MODE: 'test' },
      },
    });
    expect(card.review.mcp[0]?.script?.path).toBe(script);

    const response = await h.request('POST', `/v1/proposals/${card.id}/smoke-test`, h.ownerToken);
    expect(response.statusCode, response.body).toBe(200);
    const tools = response.json().tools as Array<{ name: string; description: string }>;
    const envNames = tools.filter((tool) => tool.name.startsWith('env_')).map((tool) => tool.name.slice(4));
    expect(envNames).toEqual(expect.arrayContaining(['PID_FILE', 'ACME_TOKEN', 'MODE', 'PATH', 'HOME']));
    expect(envNames).not.toContain('SMOKE_SERVICE_ONLY');
    expect(envNames).not.toContain('SMOKE_ACME_TOKEN');
    // The SDK adds only its small default set on top (LOGNAME, SHELL, TERM, USER).
    expect(
      envNames.filter(
        (name) =>
          !['PID_FILE', 'ACME_TOKEN', 'MODE', 'PATH', 'HOME', 'LOGNAME', 'SHELL', 'TERM', 'USER'].includes(name),
      ),
    ).toEqual([]);

    const where = tools.find((tool) => tool.name === 'where_am_i')?.description ?? '';
    expect(where).toContain(`cwd=${dir}`);
    expect(where).not.toContain(`home=${homedir()} `);
    // The server printed the resolved secret into a description; what comes back is scrubbed.
    expect(tools.find((tool) => tool.name === 'leak')?.description).toBe('token is [redacted]');
    expect(response.body).not.toContain('acme-token-from-service-env-1234');

    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    expect(await eventually(() => pids.every((pid) => !alive(pid)))).toBe(true);
  });

  it('a server that never answers is stopped at the timeout, with its children', async () => {
    const h = await mcpInstallation();
    const dir = tempDir();
    const pidFile = join(dir, 'pids');
    const program = executable(
      join(dir, 'hang'),
      `echo $$ > ${pidFile}\nsleep 300 &\necho $! >> ${pidFile}\necho "starting up" >&2\nwait`,
    );
    const card = await proposeServers(h, { hang: { command: program } });
    const caller = h.service.tokens.authenticate(h.ownerToken);
    if (!caller) throw new Error('owner token not found');
    const started = Date.now();
    const result = await smokeTest(h.service, caller, card.id, {}, { timeoutMs: 1500 });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(result.tools).toEqual([]);
    expect(result.warnings[0]).toMatchObject({ code: 'smoke_test_failed' });
    expect(result.warnings[0]?.message).toContain('within 2 s');
    expect(result.warnings[0]?.message).toContain('starting up');
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    expect(await eventually(() => pids.every((pid) => !alive(pid)))).toBe(true);
  });

  it('the program must still be the approved one: a swap before the smoke test is refused', async () => {
    const h = await mcpInstallation();
    const program = executable(join(tempDir(), 'acme'));
    const card = await proposeServers(h, { acme: { command: program } });
    executable(program, 'echo swapped');
    const response = await h.request('POST', `/v1/proposals/${card.id}/smoke-test`, h.ownerToken);
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('executable_changed');
  });
});

describe('remote servers', () => {
  it('a loopback URL is listed over the SDK HTTP transport, with header references resolved', async () => {
    const seen: string[] = [];
    const url = await loopbackServer(seen);
    process.env.SMOKE_HEADER_SECRET = 'header-secret-from-service-env';
    const h = await mcpInstallation();
    const card = await proposeServers(h, {
      docs: { url, transport: 'streamable-http', headers: { 'X-Api-Key': ref('SMOKE_HEADER_SECRET') } },
    });
    expect(card.review.mcp[0]).toMatchObject({ transport: 'streamable-http', url, warnings: [], sha256: null });
    const response = await h.request('POST', `/v1/proposals/${card.id}/smoke-test`, h.ownerToken);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      server: 'docs',
      tools: [
        { name: 'search_docs', description: 'Search', destructive: false, readOnly: true },
        { name: 'send_email', description: 'Send an email', destructive: true, readOnly: false },
      ],
      warnings: [],
    });
    expect(seen).toContain('header-secret-from-service-env');
  });

  it('anything else is not contacted without { allowRemote: true }: remote_not_probed', async () => {
    const h = await mcpInstallation();
    const card = await proposeServers(h, { far: { url: 'https://mcp.invalid/sse' } });
    const response = await h.request('POST', `/v1/proposals/${card.id}/smoke-test`, h.ownerToken);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ server: 'far', tools: [], warnings: [{ code: 'remote_not_probed' }] });
    expect(response.json().warnings[0].message).toContain('allowRemote');
    expect(h.auditKinds()).not.toContain('mcp.smoke_test');

    const optedIn = await h.request('POST', `/v1/proposals/${card.id}/smoke-test`, h.ownerToken, { allowRemote: true });
    expect(optedIn.statusCode).toBe(200);
    expect(optedIn.json().warnings[0]).toMatchObject({ code: 'smoke_test_failed' }); // .invalid never resolves
    expect(h.auditKinds()).toContain('mcp.smoke_test');
  });
});
