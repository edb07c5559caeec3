import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentHash } from '../../src/core/hash.js';
import { documentAtSeq } from '../../src/core/restore.js';
import { cli, http, init, ownerEnv, serve, tempDir } from '../e2e/cli.js';
import { type Harness, installation, proposeAndApply } from '../support/harness.js';

/*
 * Point-in-time restore (issue 13): `countersign restore --to SEQ` proposes the document as it
 * was after audit event SEQ, as an owner proposal through the normal gate.
 */

type Server = { url: string };
type Card = { id: string; status: string; tier: string; patchHash: string; requestedBy: { role: string } };

async function applied(server: Server, agent: string, owner: string, patch: unknown): Promise<string> {
  const config = await http<{ hash: string }>(server, 'GET', '/v1/config', agent);
  const proposed = await http<{ status: string; proposal: Card }>(server, 'POST', '/v1/proposals', agent, {
    baseHash: config.body.hash,
    patch,
  });
  const { proposal } = proposed.body;
  if (proposed.body.status !== 'applied') {
    const approved = await http(server, 'POST', `/v1/proposals/${proposal.id}/approve`, owner, {
      patchHash: proposal.patchHash,
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
  }
  return proposal.id;
}

type Event = { seq: number; kind: string; proposalId: string | null };

async function appliedSeq(server: Server, owner: string, proposalId: string): Promise<number> {
  const { body } = await http<{ events: Event[] }>(server, 'GET', '/v1/audit?limit=500', owner);
  const event = body.events.find((item) => item.kind === 'change.applied' && item.proposalId === proposalId);
  if (!event) throw new Error(`no change.applied for ${proposalId}`);
  return event.seq;
}

describe('countersign restore (real CLI, real SQLite, real files)', () => {
  it('restore to an earlier seq is a pending owner proposal whose apply yields that document', async (t) => {
    const inst = await init(join(tempDir(t), 'data'));
    const server = await serve(t, inst.dataDir);
    const first = await applied(server, inst.agentToken, inst.ownerToken, { gateway: { port: 18790 } });
    const seq = await appliedSeq(server, inst.ownerToken, first);
    const wanted = readFileSync(inst.configPath, 'utf8');
    await applied(server, inst.agentToken, inst.ownerToken, { gateway: { port: 18791, reload: { mode: 'off' } } });
    await applied(server, inst.agentToken, inst.ownerToken, { agents: { defaults: { thinkingDefault: 'high' } } });
    expect(readFileSync(inst.configPath, 'utf8')).not.toBe(wanted);

    const result = await cli(['restore', '--to', String(seq), '--reason', 'bad day', '--json'], {
      env: ownerEnv(server, inst.ownerToken),
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const outcome = JSON.parse(result.stdout) as { status: string; proposal: Card & { reason: string } };
    expect(outcome.status).toBe('pending');
    expect(outcome.proposal.requestedBy.role).toBe('owner');
    expect(outcome.proposal.tier).toBe('protected');
    expect(outcome.proposal.reason).toBe(`Restore to audit event ${seq} (bad day)`);
    // Pending: nothing moved until the owner countersigns it, the normal way.
    expect(readFileSync(inst.configPath, 'utf8')).not.toBe(wanted);
    const approved = await http(server, 'POST', `/v1/proposals/${outcome.proposal.id}/approve`, inst.ownerToken, {
      patchHash: outcome.proposal.patchHash,
    });
    expect(approved.status).toBe(200);
    expect(JSON.parse(readFileSync(inst.configPath, 'utf8'))).toEqual(JSON.parse(wanted));

    // The text form points at the next step.
    await applied(server, inst.agentToken, inst.ownerToken, { gateway: { port: 18792 } });
    const text = await cli(['restore', '--to', String(seq)], { env: ownerEnv(server, inst.ownerToken) });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/pending\. Review and apply it with: countersign approve /);
  });

  it('restore to a seq that does not exist is unknown_seq: JSON on stdout, non-zero exit, nothing proposed', async (t) => {
    const inst = await init(join(tempDir(t), 'data'));
    const server = await serve(t, inst.dataDir);
    for (const seq of ['0', '99999']) {
      const result = await cli(['restore', '--to', seq, '--json'], { env: ownerEnv(server, inst.ownerToken) });
      expect(result.code).not.toBe(0);
      expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'unknown_seq' });
    }
    const notANumber = await cli(['restore', '--to', 'yesterday', '--json'], {
      env: ownerEnv(server, inst.ownerToken),
    });
    expect(notANumber.code).not.toBe(0);
    expect(JSON.parse(notANumber.stdout).error).toMatchObject({ code: 'invalid_usage' });
    const { body } = await http<{ proposals: unknown[] }>(
      server,
      'GET',
      '/v1/proposals?status=pending',
      inst.ownerToken,
    );
    expect(body.proposals).toEqual([]);
  });

  it('works on the data directory with an owner token, and refuses without one', async (t) => {
    const inst = await init(join(tempDir(t), 'data'));
    const server = await serve(t, inst.dataDir);
    const initial = readFileSync(inst.configPath, 'utf8');
    await applied(server, inst.agentToken, inst.ownerToken, { gateway: { port: 18790 } });
    await server.stop();

    const noToken = await cli(['restore', '--to', '1', '--data', inst.dataDir, '--json']);
    expect(noToken.code).not.toBe(0);
    expect(JSON.parse(noToken.stdout).error).toMatchObject({ code: 'unauthorized' });
    const agent = await cli(['restore', '--to', '1', '--data', inst.dataDir, '--json'], {
      env: { COUNTERSIGN_TOKEN: inst.agentToken },
    });
    expect(JSON.parse(agent.stdout).error).toMatchObject({ code: 'forbidden' });

    // Event 1 is from `init`: the document then was the one init found.
    const result = await cli(['restore', '--to', '1', '--data', inst.dataDir, '--json'], {
      env: { COUNTERSIGN_TOKEN: inst.ownerToken },
    });
    expect(result.code, result.stdout).toBe(0);
    const outcome = JSON.parse(result.stdout) as { status: string; proposal: Card };
    expect(outcome.status).toBe('pending');
    const again = await serve(t, inst.dataDir);
    await http(again, 'POST', `/v1/proposals/${outcome.proposal.id}/approve`, inst.ownerToken, {
      patchHash: outcome.proposal.patchHash,
    });
    expect(JSON.parse(readFileSync(inst.configPath, 'utf8'))).toEqual(JSON.parse(initial));
  });
});

function seqOf(h: Harness, kind: string, proposalId?: string): number {
  const events = h.service.audit.list({ limit: 1000 });
  const event = events.filter((item) => item.kind === kind && (!proposalId || item.proposalId === proposalId)).at(-1);
  if (!event) throw new Error(`no ${kind}`);
  return event.seq;
}

function outsideEdit(h: Harness, edit: (document: Record<string, unknown>) => void): void {
  const document = h.document();
  edit(document);
  writeFileSync(h.configPath, `${JSON.stringify(document, null, 2)}\n`);
}

describe('POST /v1/restore', () => {
  it('owners only; a malformed body is a 400 and proposes nothing', async () => {
    const h = await installation();
    await proposeAndApply(h, { gateway: { port: 18790 } });
    const agent = await h.request('POST', '/v1/restore', h.agentToken, { toSeq: 1 });
    expect([agent.statusCode, agent.json().error.code]).toEqual([403, 'forbidden']);
    for (const body of [
      {},
      { toSeq: -1 },
      { toSeq: 1.5 },
      { toSeq: '1' },
      { toSeq: 1, extra: 1 },
      { toSeq: 1, reason: 7 },
    ]) {
      const response = await h.request('POST', '/v1/restore', h.ownerToken, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect(h.service.proposals.list({ status: 'pending' })).toEqual([]);
  });

  it('is classified like any other proposal: an allowlisted restore applies at once', async () => {
    const h = await installation();
    const original = h.currentHash();
    const id = await proposeAndApply(h, { agents: { defaults: { thinkingDefault: 'high' } } });
    const response = await h.request('POST', '/v1/restore', h.ownerToken, {
      toSeq: seqOf(h, 'change.applied', id) - 1,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'applied', hash: original });
    expect(h.currentHash()).toBe(original);
    // Restoring to where we are changes nothing.
    const same = await h.request('POST', '/v1/restore', h.ownerToken, { toSeq: h.service.audit.head()?.seq });
    expect(same.json()).toMatchObject({ status: 'unchanged', hash: original });
  });

  it('cannot restore past the policy: a restore that would change a blocked path is refused', async () => {
    const h = await installation({
      policyEdit: (policy) => {
        (policy.rules as unknown[]).push({ id: 'auth-token', match: ['gateway.auth.token'], tier: 'blocked' });
      },
    });
    const id = await proposeAndApply(h, { gateway: { port: 18790 } });
    const seq = seqOf(h, 'change.applied', id);
    // Someone rotated the gateway token by hand; gateway.auth is blocked, so no proposal may put the old one back.
    outsideEdit(h, (document) => {
      (document.gateway as { auth: { token: string } }).auth.token = 'oc_rotated_by_hand_000000000000000';
    });
    const before = h.documentText();
    const response = await h.request('POST', '/v1/restore', h.ownerToken, { toSeq: seq });
    expect([response.statusCode, response.json().error.code]).toEqual([403, 'blocked']);
    expect(response.json().error.paths).toEqual(['gateway.auth.token']);
    expect(response.body).not.toContain('oc_live_');
    expect(response.body).not.toContain('oc_rotated');
    expect(h.documentText()).toBe(before);
  });

  it('a document written outside countersign and never proposed on is not kept: document_not_kept', async () => {
    const h = await installation();
    await proposeAndApply(h, { gateway: { port: 18790 } });
    outsideEdit(h, (document) => {
      (document.gateway as { port: number }).port = 1;
    });
    await h.request('GET', '/v1/config', h.ownerToken);
    const firstDrift = seqOf(h, 'config.drift');
    outsideEdit(h, (document) => {
      (document.gateway as { port: number }).port = 2;
    });
    await h.request('GET', '/v1/config', h.ownerToken);
    const response = await h.request('POST', '/v1/restore', h.ownerToken, { toSeq: firstDrift });
    expect([response.statusCode, response.json().error.code]).toEqual([409, 'document_not_kept']);
    expect(response.json().error.message).toContain(`config.drift, event ${firstDrift}`);
    expect(response.json().error).toMatchObject({ seq: firstDrift, decidedBy: firstDrift });

    // A drifted document that a proposal was later made against is kept (as that proposal's base).
    const secondDrift = seqOf(h, 'config.drift');
    await proposeAndApply(h, { gateway: { reload: { mode: 'off' } } });
    const restored = await h.request('POST', '/v1/restore', h.ownerToken, { toSeq: secondDrift });
    expect(restored.statusCode).toBe(202);
    const card = restored.json().proposal;
    await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, { patchHash: card.patchHash });
    expect(h.document()).toMatchObject({ gateway: { port: 2, reload: { mode: 'hybrid' } } });
  });

  it('a secret is restored without being shown on the card', async () => {
    const h = await installation();
    const id = await proposeAndApply(h, { gateway: { port: 18790 } });
    const seq = seqOf(h, 'change.applied', id);
    await proposeAndApply(h, { channels: { telegram: { botToken: '999:ROTATED_SECRET_123' } } });
    const response = await h.request('POST', '/v1/restore', h.ownerToken, { toSeq: seq });
    expect(response.statusCode).toBe(202);
    expect(response.body).not.toContain('ROTATED_SECRET');
    expect(response.body).not.toContain('AAFakeTelegramToken');
    const card = response.json().proposal;
    await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, { patchHash: card.patchHash });
    expect((h.document().channels as { telegram: { botToken: string } }).telegram.botToken).toBe(
      '123456789:AAFakeTelegramTokenForFixturesOnly00',
    );
    expect(documentHash(h.service.hashKey, h.document())).toBe(h.currentHash());
  });
});

describe('documentAtSeq', () => {
  const events = [
    { seq: 5, kind: 'change.applied' as const, proposalId: 'a', baseHash: 'h0', targetHash: 'h1' },
    { seq: 9, kind: 'config.drift' as const, proposalId: null, baseHash: 'h1', targetHash: 'h2' },
  ];
  it('takes the last document event at or before the seq, else the first one’s base', () => {
    expect(documentAtSeq(events, 1)).toMatchObject({ kind: 'initial', hash: 'h0' });
    expect(documentAtSeq(events, 5)).toMatchObject({ kind: 'after', hash: 'h1' });
    expect(documentAtSeq(events, 8)).toMatchObject({ kind: 'after', hash: 'h1' });
    expect(documentAtSeq(events, 9)).toMatchObject({ kind: 'after', hash: 'h2' });
    expect(documentAtSeq(events, 100)).toMatchObject({ kind: 'after', hash: 'h2' });
    expect(documentAtSeq([], 3)).toEqual({ kind: 'unchanged' });
  });
});
