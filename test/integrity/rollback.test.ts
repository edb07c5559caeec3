import { describe, expect, it } from 'vitest';
import { fixture, type Harness, installation } from '../support/harness.js';

async function applyAsOwner(h: Harness, patch: unknown, extra: Record<string, unknown> = {}) {
  const proposed = await h.request('POST', '/v1/proposals', h.agentToken, {
    baseHash: h.currentHash(),
    patch,
    ...extra,
  });
  const card = proposed.json().proposal;
  if (proposed.json().status === 'applied') return card;
  const approved = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
    patchHash: card.patchHash,
  });
  expect(approved.statusCode).toBe(200);
  return card;
}

describe('rollback', () => {
  it('proposes the inverse of an applied change, classified like any other, and restores the document', async () => {
    const h = await installation();
    const original = h.documentText();
    const originalHash = h.currentHash();
    const card = await applyAsOwner(h, { gateway: { port: 18790, reload: { mode: 'off' } } });
    expect(h.currentHash()).not.toBe(originalHash);
    const response = await h.request('POST', `/v1/proposals/${card.id}/rollback`, h.ownerToken);
    expect(response.statusCode).toBe(202);
    const rollback = response.json().proposal;
    expect(rollback.reason).toContain(card.id);
    expect(rollback.targetHash).toBe(originalHash);
    expect(
      rollback.changes.map((change: { path: string; before: unknown; after: unknown }) => [
        change.path,
        change.before,
        change.after,
      ]),
    ).toEqual([
      ['gateway.port', 18790, 18789],
      ['gateway.reload.mode', 'off', 'hybrid'],
    ]);
    await h.request('POST', `/v1/proposals/${rollback.id}/approve`, h.ownerToken, { patchHash: rollback.patchHash });
    expect(h.currentHash()).toBe(originalHash);
    expect(JSON.parse(h.documentText())).toEqual(JSON.parse(original));
  });

  it('an allowlisted change rolls back at once', async () => {
    const h = await installation();
    const originalHash = h.currentHash();
    const card = await applyAsOwner(h, { agents: { defaults: { thinkingDefault: 'high' } } });
    const response = await h.request('POST', `/v1/proposals/${card.id}/rollback`, h.ownerToken);
    expect(response.json().status).toBe('applied');
    expect(h.currentHash()).toBe(originalHash);
  });

  it('keeps later, unrelated changes — including other elements of the same id-keyed list', async () => {
    const h = await installation({ document: fixture('openclaw.legacy.json') });
    const card = await applyAsOwner(h, { agents: { list: [{ id: 'research', model: 'anthropic/claude-opus-4-6' }] } });
    await applyAsOwner(h, { agents: { list: [{ id: 'writer', model: 'anthropic/claude-sonnet-4-6' }] } });
    await applyAsOwner(h, { gateway: { port: 18800 } });
    const response = await h.request('POST', `/v1/proposals/${card.id}/rollback`, h.ownerToken);
    // Rolling back an added agent removes that agent: a change at the agent itself, which needs an owner (SPEC §2).
    expect(response.json().status).toBe('pending');
    const rollback = response.json().proposal;
    expect(rollback.changes).toContainEqual(
      expect.objectContaining({ path: 'agents.list[id=research]', op: 'remove' }),
    );
    const approved = await h.request('POST', `/v1/proposals/${rollback.id}/approve`, h.ownerToken, {
      patchHash: rollback.patchHash,
    });
    expect(approved.json().status).toBe('applied');
    const document = h.document() as { agents: { list: Array<{ id: string }> }; gateway: { port: number } };
    expect(document.agents.list.map((agent) => agent.id)).toEqual(['main', 'ops', 'writer']);
    expect(document.gateway.port).toBe(18800);
  });

  it('refuses with rollback_conflict when a later change touched the same paths', async () => {
    const h = await installation();
    const card = await applyAsOwner(h, { gateway: { port: 18790 } });
    await applyAsOwner(h, { gateway: { port: 18791 } });
    const before = h.documentText();
    const response = await h.request('POST', `/v1/proposals/${card.id}/rollback`, h.ownerToken);
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({ code: 'rollback_conflict', paths: ['gateway.port'] });
    expect(h.documentText()).toBe(before);
  });

  it('only owners, only applied proposals', async () => {
    const h = await installation();
    const pending = (
      await h.request('POST', '/v1/proposals', h.agentToken, {
        baseHash: h.currentHash(),
        patch: { gateway: { port: 1 } },
      })
    ).json().proposal;
    expect((await h.request('POST', `/v1/proposals/${pending.id}/rollback`, h.agentToken)).json().error.code).toBe(
      'forbidden',
    );
    const notApplied = await h.request('POST', `/v1/proposals/${pending.id}/rollback`, h.ownerToken);
    expect([notApplied.statusCode, notApplied.json().error.code]).toEqual([409, 'not_applied']);
    expect((await h.request('POST', '/v1/proposals/nope/rollback', h.ownerToken)).statusCode).toBe(404);
  });

  it('a secret changed by the proposal is restored without ever being shown', async () => {
    const h = await installation();
    const card = await applyAsOwner(h, { channels: { telegram: { botToken: '999:ROTATED_SECRET_123' } } });
    const response = await h.request('POST', `/v1/proposals/${card.id}/rollback`, h.ownerToken);
    expect(response.body).not.toContain('ROTATED_SECRET');
    expect(response.body).not.toContain('AAFakeTelegramToken');
    const rollback = response.json().proposal;
    await h.request('POST', `/v1/proposals/${rollback.id}/approve`, h.ownerToken, { patchHash: rollback.patchHash });
    expect((h.document().channels as { telegram: { botToken: string } }).telegram.botToken).toBe(
      '123456789:AAFakeTelegramTokenForFixturesOnly00',
    );
  });
});
