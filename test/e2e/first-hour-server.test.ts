// Issue 15, "a new user's first hour", through the real CLI and a real server: what `serve`
// prints, that it prints no fastify deprecation warnings, `countersign smoke-test`, and the
// new-key marker that makes a typo visible on the card.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Card,
  cli,
  cliOk,
  e2eTimeout,
  http,
  init,
  type OpenClawDocument,
  ownerEnv,
  repoRoot,
  running,
  serve,
  tempDir,
} from './cli.js';

type NewKey = { path: string; similarTo?: string };
type SmokeAnswer = {
  server: string;
  tools: { name: string; description: string; destructive: boolean; readOnly: boolean }[];
  warnings: { code: string; message: string }[];
};

const filesystemServer = join(repoRoot, 'node_modules/.bin/mcp-server-filesystem');

/** The agent proposes `patch` against the current document; returns the HTTP answer. */
async function propose(server: { url: string }, agentToken: string, patch: unknown) {
  const read = await http<{ hash: string }>(server, 'GET', '/v1/config', agentToken);
  return http<{ status: string; proposal: Card & { newKeys?: NewKey[] } }>(
    server,
    'POST',
    '/v1/proposals',
    agentToken,
    {
      baseHash: read.body.hash,
      patch,
      reason: 'first hour',
    },
  );
}

describe.concurrent('serve: what a new user sees (real CLI)', { timeout: e2eTimeout }, () => {
  it('serve --json prints the start-up block as one JSON line, tokens included on a first start', async (t) => {
    const dataDir = join(tempDir(t), 'data');
    const server = await serve(t, dataDir, ['--init', '--json', '--log-level', 'info']);
    await http(server, 'GET', '/healthz', null);
    // Every stdout line is JSON (fastify's own "listening" log may come first); one is the banner.
    const lines = server
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const banner = lines.find((line) => 'listening' in line);
    expect(banner).toMatchObject({
      listening: server.url,
      ui: `${server.url}/ui/`,
      docs: `${server.url}/docs`,
      initialised: { ownerToken: expect.stringMatching(/^cs_owner_/), agentToken: expect.stringMatching(/^cs_agent_/) },
    });
    const owner = await http(server, 'GET', '/v1/status', banner.initialised.ownerToken);
    expect(owner.status).toBe(200);
  });

  it('serve --init prints the tokens, how to use them and the /ui/ address as one block after listening', async (t) => {
    const dataDir = join(tempDir(t), 'data');
    // Request logs on (info), as `npm start` runs it.
    const server = await serve(t, dataDir, ['--init', '--log-level', 'info']);
    const out = server.stdout();
    const lines = out.split('\n');
    const first = lines.findIndex((line) => line.startsWith('Initialised '));
    const last = lines.findIndex((line) => line.startsWith('  API docs:'));
    expect(first, out).toBeGreaterThanOrEqual(0);
    expect(last, out).toBeGreaterThan(first);
    const block = lines.slice(first, last + 1);
    // One block: no log line (pino writes JSON) inside it.
    expect(block.filter((line) => line.startsWith('{'))).toEqual([]);
    const text = block.join('\n');
    const ownerToken = /owner \(surface cli\):\s*(\S+)/.exec(text)?.[1] as string;
    expect(ownerToken).toMatch(/^cs_owner_/);
    expect(text).toMatch(/agent \(id main\):\s*cs_agent_\S+/);
    expect(text).toContain(`export COUNTERSIGN_URL=${server.url}`);
    expect(text).toContain(`export COUNTERSIGN_TOKEN=${ownerToken}`);
    expect(text).toContain(`countersign token create --data ${dataDir} --role owner --name owner`);
    expect(text).toContain(`countersign listening on ${server.url}`);
    expect(text).toContain(`approval page: ${server.url}/ui/`);

    // The printed page address is the page.
    const page = await fetch(`${server.url}/ui/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    // The printed owner token works with the printed URL.
    const pending = await cliOk(['pending'], { env: ownerEnv(server, ownerToken) });
    expect(pending.stdout).toContain('No pending proposals.');

    await server.stop();
    const again = await serve(t, dataDir, ['--init']);
    expect(again.stdout()).not.toContain('cs_owner_');
    expect(again.stdout()).toContain(`approval page: ${again.url}/ui/`);
  });

  it('starts without any deprecation warning (FSTDEP022/023 came from fastify options)', async (t) => {
    const { server, installation } = await running(t);
    // Exercise the router (an over-long id) and request logging, then look at stderr.
    const long = await http(server, 'GET', `/v1/proposals/${'a'.repeat(300)}`, installation.ownerToken);
    expect(long.status).toBe(404);
    expect((await http(server, 'GET', '/v1/proposals', installation.ownerToken)).status).toBe(200);
    await server.stop();
    expect(server.stderr()).not.toMatch(/FSTDEP|DeprecationWarning|FastifyWarning/);
    expect(server.stdout()).not.toMatch(/FSTDEP/);
  });

  it('`serve --port N` (what `npm start -- --port N` passes) serves on that port', async (t) => {
    // A free port: ask the OS through a first start, then start again on that number.
    const dataDir = join(tempDir(t), 'data');
    const probe = await serve(t, dataDir, ['--init']);
    const port = new URL(probe.url).port;
    await probe.stop();
    const again = await serve(t, dataDir, ['--port', port]);
    expect(again.url).toBe(`http://127.0.0.1:${port}`);
    expect(again.stdout()).toContain(`approval page: http://127.0.0.1:${port}/ui/`);
  });
});

describe.concurrent('countersign smoke-test (real CLI, real MCP server)', { timeout: e2eTimeout }, () => {
  it('lists the tools of a proposed stdio server, marks destructive ones, exits 0; the card keeps it', async (t) => {
    const { installation, server } = await running(t);
    const root = tempDir(t);
    writeFileSync(join(root, 'notes.txt'), 'hello\n');
    const proposed = await propose(server, installation.agentToken, {
      mcp: { servers: { filesystem: { command: filesystemServer, args: [root] } } },
    });
    expect(proposed.status).toBe(202);
    const id = proposed.body.proposal.id;
    const env = ownerEnv(server, installation.ownerToken);

    // The card says how to run it.
    const before = await cliOk(['show', id], { env });
    expect(before.stdout).toContain(
      `smoke test: not run (owner-started: countersign smoke-test ${id} --server filesystem)`,
    );

    const json = await cli(['smoke-test', id, '--json'], { env, timeoutMs: 30_000 });
    expect(json.code, json.stderr).toBe(0);
    const answer = JSON.parse(json.stdout) as SmokeAnswer;
    expect(answer.server).toBe('filesystem');
    expect(answer.warnings).toEqual([]);
    expect(answer.tools).toContainEqual(expect.objectContaining({ name: 'write_file', destructive: true }));
    expect(answer.tools).toContainEqual(expect.objectContaining({ name: 'read_text_file', readOnly: true }));

    const text = await cli(['smoke-test', id.slice(0, 8), '--server', 'filesystem'], { env, timeoutMs: 30_000 }); // a short id works too
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^Smoke test of MCP server "filesystem" \\(proposal ${id}\\): listed \\d+ tool\\(s\\): \\d+ destructive`,
      ),
    );
    expect(text.stdout).toMatch(/^write_file\s+DESTRUCTIVE\s+\S/m);
    expect(text.stdout).toMatch(/^read_text_file\s+read-only\s+\S/m);

    const after = await cliOk(['show', id], { env });
    expect(after.stdout).toMatch(/smoke test \(.* by owner\): \d+ tool\(s\)/);
    const audit = await cliOk(['audit', '--data', installation.dataDir, '--json']);
    const kinds = (JSON.parse(audit.stdout) as { events: { kind: string }[] }).events.map((event) => event.kind);
    expect(kinds.filter((kind) => kind === 'mcp.smoke_test')).toHaveLength(2);
  });

  it('exits 1 when the server does not list its tools, 2 for a remote server it did not contact', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const dir = tempDir(t);
    const broken = join(dir, 'broken-server');
    writeFileSync(broken, '#!/bin/sh\necho "cannot start: no config" >&2\nexit 3\n', { mode: 0o755 });
    const failing = await propose(server, installation.agentToken, {
      mcp: { servers: { broken: { command: broken } } },
    });
    const failed = await cli(['smoke-test', failing.body.proposal.id], { env, timeoutMs: 30_000 });
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stdout).toContain('FAILED: the server did not list its tools');
    expect(failed.stdout).toContain('smoke_test_failed');

    const remote = await propose(server, installation.agentToken, {
      mcp: { servers: { far: { url: 'https://mcp.invalid/sse' } } },
    });
    const notTested = await cli(['smoke-test', remote.body.proposal.id, '--json'], { env });
    expect(notTested.code).toBe(2);
    expect((JSON.parse(notTested.stdout) as SmokeAnswer).warnings.map((w) => w.code)).toEqual(['remote_not_probed']);
    const hint = await cli(['smoke-test', remote.body.proposal.id], { env });
    expect(hint.stdout).toContain('--allow-remote');
  });

  it('refuses an agent, an unknown server and a decided proposal, each with the server code and exit 1', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const proposed = await propose(server, installation.agentToken, {
      mcp: { servers: { filesystem: { command: filesystemServer, args: [tempDir(t)] } } },
    });
    const id = proposed.body.proposal.id;

    const asAgent = await cli(['smoke-test', id], { env: ownerEnv(server, installation.agentToken) });
    expect(asAgent.code).toBe(1);
    expect(asAgent.stderr).toContain('[forbidden]');

    const unknown = await cli(['smoke-test', id, '--server', 'nope'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('[not_found]');

    await cliOk(['deny', id, '--reason', 'no'], { env });
    const decided = await cli(['smoke-test', id], { env });
    expect(decided.code).toBe(1);
    expect(decided.stderr).toContain('[not_pending]');
    expect(decided.stdout).toBe('');
  });
});

describe.concurrent('a typo in a key is flagged on the card (no schema attached)', { timeout: e2eTimeout }, () => {
  it('{"comands":{"mcp":true}} is a protected proposal whose card names the new key and the likely one', async (t) => {
    const installation = await init(join(tempDir(t), 'data'), ['--schema', 'none']);
    const server = await serve(t, installation.dataDir);
    const document = () => JSON.parse(readFileSync(installation.configPath, 'utf8')) as OpenClawDocument;
    const proposed = await propose(server, installation.agentToken, { comands: { mcp: true } });
    expect(proposed.status).toBe(202);
    const card = proposed.body.proposal;
    expect(card.changes.map((change) => change.path)).toEqual(['comands.mcp']);
    expect(card.newKeys).toEqual([{ path: 'comands', similarTo: 'commands' }]);

    const env = ownerEnv(server, installation.ownerToken);
    const shown = await cliOk(['show', card.id], { env });
    expect(shown.stdout).toContain('New keys (the document has no such key there yet; check the spelling):');
    expect(shown.stdout).toContain('  comands (did you mean commands?)');
    expect(shown.stdout).toMatch(/add\s+comands\.mcp\s+NEW KEY comands/);
    const chat = await fetch(`${server.url}/v1/proposals/${card.id}/card?format=markdown`, {
      headers: { authorization: `Bearer ${installation.ownerToken}` },
    });
    expect(await chat.text()).toContain('⚠️ **New key** (check the spelling): `comands` (did you mean `commands`?)');
    expect(document().commands.mcp).toBe(false);

    // A change to keys the document has carries no such list.
    const fine = await propose(server, installation.agentToken, { commands: { mcp: true } });
    expect(fine.body.proposal.newKeys).toBeUndefined();
  });
});

describe.concurrent('a typo in a key with a schema attached', { timeout: e2eTimeout }, () => {
  for (const [name, schema] of [
    ['the shipped OpenClaw schema (the default)', []],
    ['the OpenClaw fixture schema', ['--schema', join(repoRoot, 'test/fixtures/openclaw.schema.json')]],
  ] as const) {
    it(`is 422 invalid_config under ${name}, naming the unknown key; nothing is stored`, async (t) => {
      const installation = await init(join(tempDir(t), 'data'), [...schema]);
      const server = await serve(t, installation.dataDir);
      const proposed = await propose(server, installation.agentToken, { comands: { mcp: true } });
      expect(proposed.status).toBe(422);
      const error = (
        proposed.body as unknown as { error: { code: string; issues: { path: string; message: string }[] } }
      ).error;
      expect(error.code).toBe('invalid_config');
      expect(JSON.stringify(error.issues)).toContain('comands');
      const pending = await http<{ proposals: unknown[] }>(server, 'GET', '/v1/proposals', installation.ownerToken);
      expect(pending.body.proposals).toEqual([]);
    });
  }
});
