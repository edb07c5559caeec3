import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TotpStore } from '../../src/store/totp.js';
import { type Harness, installation, TestClock } from '../support/harness.js';
import { base32, totpCode } from '../support/rfc6238.js';

const mcpOn = { commands: { mcp: true } };
const portChange = { gateway: { port: 18790 } };

async function propose(h: Harness, patch: unknown, extra: Record<string, unknown> = {}) {
  const response = await h.request('POST', '/v1/proposals', h.agentToken, {
    baseHash: h.currentHash(),
    patch,
    ...extra,
  });
  expect(response.statusCode).toBe(202);
  return response.json().proposal as {
    id: string;
    patchHash: string;
    tier: string;
    approval: { confirmPhrase: string | null; totp: boolean };
  };
}

function enroll(h: Harness, owner = 'owner'): Buffer {
  const secret = randomBytes(20);
  new TotpStore(h.service.db).enroll(owner, base32(secret), h.clock.now());
  return secret;
}

/** A clock in the middle of a 30 s step, so adjacent-step tests are not at an edge. */
function midStepClock(): TestClock {
  const now = Date.now();
  return new TestClock(new Date(now - (now % 30_000) + 15_000));
}

describe('approve: each check in the contract order, each with its own code', () => {
  it('protected change: the owner approves the exact patch and the service applies it', async () => {
    const h = await installation();
    const card = await propose(h, portChange, { reason: 'move the gateway' });
    expect(card.tier).toBe('protected');
    expect(card.approval).toMatchObject({ totp: false, confirmPhrase: null });
    const response = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ status: 'applied', hash: h.currentHash(), restartRequired: true });
    expect(body.proposal.resolution).toMatchObject({
      status: 'applied',
      by: { role: 'owner', name: 'owner', surface: 'cli' },
      stepUp: 'none',
    });
    expect((h.document().gateway as { port: number }).port).toBe(18790);
    const event = h.service.audit.list().find((entry) => entry.kind === 'change.applied');
    expect(event).toMatchObject({
      proposalId: card.id,
      actor: { role: 'owner', surface: 'cli' },
      stepUp: 'none',
      paths: ['gateway.port'],
    });
    expect(event?.details.requestedBy).toMatchObject({ role: 'agent', agentId: 'main' });
    expect(h.service.audit.verify()).toMatchObject({ ok: true });
  });

  it('forbidden: an agent cannot approve, not even its own proposal', async () => {
    const h = await installation();
    const card = await propose(h, portChange);
    const before = h.documentText();
    const response = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.agentToken, {
      patchHash: card.patchHash,
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('forbidden');
    expect(h.documentText()).toBe(before);
  });

  it('not_found for an unknown id', async () => {
    const h = await installation();
    const response = await h.request(
      'POST',
      '/v1/proposals/00000000-0000-0000-0000-000000000000/approve',
      h.ownerToken,
      {
        patchHash: `hmac-sha256:${'0'.repeat(64)}`,
      },
    );
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('not_found');
  });

  it('single use: a second approval of the same proposal is not_pending', async () => {
    const h = await installation();
    const card = await propose(h, portChange);
    expect(
      (await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, { patchHash: card.patchHash }))
        .statusCode,
    ).toBe(200);
    const again = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'not_pending', status: 'applied' });
  });

  it('expired: past expiresAt the proposal cannot be approved (410) and is marked expired', async () => {
    const h = await installation();
    const card = await propose(h, portChange);
    const before = h.documentText();
    h.clock.advance(901);
    const response = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(response.statusCode).toBe(410);
    expect(response.json().error.code).toBe('expired');
    expect(h.documentText()).toBe(before);
    const shown = await h.request('GET', `/v1/proposals/${card.id}`, h.ownerToken);
    expect(shown.json().status).toBe('expired');
    expect(h.auditKinds()).toContain('proposal.expired');
  });

  it('surface_not_allowed: a group-chat owner may approve protected but never dangerous changes', async () => {
    const h = await installation({ clock: midStepClock() });
    const secret = enroll(h, 'alice');
    const groupOwner = h.token({ role: 'owner', name: 'alice', surface: 'chat-group' });
    const dangerous = await propose(h, mcpOn);
    const before = h.documentText();
    const refused = await h.request('POST', `/v1/proposals/${dangerous.id}/approve`, groupOwner, {
      patchHash: dangerous.patchHash,
      confirm: dangerous.approval.confirmPhrase,
      totp: totpCode(secret, h.clock.now()),
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: 'surface_not_allowed', allowed: ['cli', 'web', 'chat-dm'] });
    expect(h.documentText()).toBe(before);
    await h.request('POST', `/v1/proposals/${dangerous.id}/deny`, h.ownerToken, {});
    const protectedCard = await propose(h, portChange);
    const allowed = await h.request('POST', `/v1/proposals/${protectedCard.id}/approve`, groupOwner, {
      patchHash: protectedCard.patchHash,
    });
    expect(allowed.statusCode).toBe(200);
  });

  it('patch_mismatch: approving a different patch hash changes nothing', async () => {
    const h = await installation();
    const card = await propose(h, portChange);
    const before = h.documentText();
    const response = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: `hmac-sha256:${'a'.repeat(64)}`,
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('patch_mismatch');
    expect(h.documentText()).toBe(before);
    expect((await h.request('GET', `/v1/proposals/${card.id}`, h.ownerToken)).json().status).toBe('pending');
  });

  it('confirm_required: a dangerous change needs the exact typed phrase', async () => {
    const h = await installation({ clock: midStepClock() });
    const secret = enroll(h);
    const card = await propose(h, mcpOn);
    const before = h.documentText();
    for (const confirm of [
      undefined,
      'apply',
      `${card.approval.confirmPhrase} `,
      card.approval.confirmPhrase?.toUpperCase(),
    ]) {
      const response = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
        patchHash: card.patchHash,
        ...(confirm === undefined ? {} : { confirm }),
        totp: totpCode(secret, h.clock.now()),
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({
        code: 'confirm_required',
        confirmPhrase: card.approval.confirmPhrase,
      });
    }
    expect(h.documentText()).toBe(before);
  });

  it('if the document moved on, the proposal becomes stale at once and approval is refused', async () => {
    const h = await installation();
    const card = await propose(h, portChange);
    // An owner-approved change moves the base: nothing rebases over it (issue 10 items 10, 11).
    const other = await propose(h, { gateway: { reload: { mode: 'off' } } });
    await h.request('POST', `/v1/proposals/${other.id}/approve`, h.ownerToken, { patchHash: other.patchHash });
    const before = h.documentText();
    const response = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({ code: 'not_pending', status: 'stale' });
    expect(h.documentText()).toBe(before);
    expect((await h.request('GET', `/v1/proposals/${card.id}`, h.ownerToken)).json().status).toBe('stale');
  });

  it('stale_base after an outside edit: the drift is audited with its paths', async () => {
    const h = await installation();
    const card = await propose(h, portChange);
    const { writeFileSync } = await import('node:fs');
    const edited = h.document();
    (edited.commands as Record<string, unknown>).restart = true;
    writeFileSync(h.configPath, JSON.stringify(edited, null, 2));
    const response = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(response.json().error.code).toBe('stale_base');
    const drift = h.service.audit.list().find((event) => event.kind === 'config.drift');
    expect(drift?.paths).toEqual(['commands.restart']);
    expect(JSON.parse(h.documentText())).toEqual(edited);
  });
});

describe('TOTP step-up', () => {
  it('dangerous change: confirm phrase + a real RFC 6238 code applies it, recorded as totp', async () => {
    const h = await installation({ clock: midStepClock() });
    const secret = enroll(h);
    const card = await propose(h, mcpOn);
    const response = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
      confirm: card.approval.confirmPhrase,
      totp: totpCode(secret, h.clock.now()),
    });
    expect(response.statusCode).toBe(200);
    expect((h.document().commands as { mcp: boolean }).mcp).toBe(true);
    expect(h.service.audit.list().find((event) => event.kind === 'change.applied')?.stepUp).toBe('totp');
  });

  it('refuses: not enrolled, missing, wrong and replayed codes, then locks after 5 failures', async () => {
    const clock = midStepClock();
    const h = await installation({ clock });
    const card = await propose(h, mcpOn);
    const approve = (totp?: string) =>
      h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
        patchHash: card.patchHash,
        confirm: card.approval.confirmPhrase,
        ...(totp === undefined ? {} : { totp }),
      });
    const before = h.documentText();

    let response = await approve('123456');
    expect([response.statusCode, response.json().error.code]).toEqual([403, 'totp_not_enrolled']);

    const secret = enroll(h);
    response = await approve();
    expect([response.statusCode, response.json().error.code]).toEqual([403, 'totp_required']);

    const good = totpCode(secret, clock.now());
    const wrong = good === '000000' ? '111111' : '000000';
    response = await approve(wrong);
    expect([response.statusCode, response.json().error.code]).toEqual([403, 'totp_invalid']);

    // One step of drift either way is accepted; two is not.
    const twoStepsAgo = totpCode(secret, new Date(clock.now().getTime() - 60_000));
    if (twoStepsAgo !== good) {
      response = await approve(twoStepsAgo);
      expect(response.json().error.code).toBe('totp_invalid');
    }

    // A valid code is consumed even when the apply is then refused (here: by a stale base, from
    // an outside edit not yet noticed; an applied allowlisted change would rebase the proposal).
    const { writeFileSync } = await import('node:fs');
    // (A key OpenClaw knows: the document must stay valid against the schema init attaches.)
    writeFileSync(h.configPath, JSON.stringify({ ...h.document(), meta: { lastTouchedVersion: 'outside' } }, null, 2));
    response = await approve(good);
    expect(response.json().error.code).toBe('stale_base');
    const second = await propose(h, { commands: { mcp: true, restart: true } });
    const approveSecond = (totp?: string) =>
      h.request('POST', `/v1/proposals/${second.id}/approve`, h.ownerToken, {
        patchHash: second.patchHash,
        confirm: second.approval.confirmPhrase,
        ...(totp === undefined ? {} : { totp }),
      });
    // The cooldown opened by that code would let this through without a code; with the same code it is a replay.
    response = await approveSecond(good);
    expect([response.statusCode, response.json().error.code]).toEqual([403, 'totp_replayed']);
    const previousStep = totpCode(secret, new Date(clock.now().getTime() - 30_000));
    if (previousStep !== good) {
      response = await approveSecond(previousStep);
      expect(response.json().error.code).toBe('totp_replayed');
    }

    // Failures so far: wrong, (two steps ago), replayed, (previous step). Fill up to five.
    for (let attempt = 0; attempt < 5; attempt++) {
      response = await approveSecond(wrong);
      if (response.json().error.code === 'totp_locked') break;
      expect(response.json().error.code).toBe('totp_invalid');
    }
    expect(response.statusCode).toBe(429);
    expect(response.json().error.code).toBe('totp_locked');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right code is refused while locked.
    clock.advance(30);
    response = await approveSecond(totpCode(secret, clock.now()));
    expect(response.json().error.code).toBe('totp_locked');
    // Fifteen minutes later the lock is gone (the proposal has not expired: TTL is 15 minutes from its creation).
    clock.advance(15 * 60 - 30 - 1);
    expect(h.documentText()).not.toBe(before);
  });

  it('cooldown: after a code, same-or-lower tier approvals need none until it ends', async () => {
    const clock = midStepClock();
    const h = await installation({ clock });
    const secret = enroll(h);
    const first = await propose(h, mcpOn);
    const ok = await h.request('POST', `/v1/proposals/${first.id}/approve`, h.ownerToken, {
      patchHash: first.patchHash,
      confirm: first.approval.confirmPhrase,
      totp: totpCode(secret, clock.now()),
    });
    expect(ok.statusCode).toBe(200);

    clock.advance(60);
    const second = await propose(h, { tools: { elevated: { enabled: true } } });
    expect(second.tier).toBe('dangerous');
    const withinCooldown = await h.request('POST', `/v1/proposals/${second.id}/approve`, h.ownerToken, {
      patchHash: second.patchHash,
      confirm: second.approval.confirmPhrase,
    });
    expect(withinCooldown.statusCode).toBe(200);
    expect(withinCooldown.json().proposal.resolution.stepUp).toBe('cooldown');

    clock.advance(300);
    const third = await propose(h, { tools: { exec: { security: 'full' } } });
    const afterCooldown = await h.request('POST', `/v1/proposals/${third.id}/approve`, h.ownerToken, {
      patchHash: third.patchHash,
      confirm: third.approval.confirmPhrase,
    });
    expect(afterCooldown.json().error.code).toBe('totp_required');
    const steps = h.service.audit
      .list()
      .filter((event) => event.kind === 'change.applied')
      .map((event) => event.stepUp);
    expect(steps).toEqual(['totp', 'cooldown']);
  });
});

describe('deny, withdraw and visibility', () => {
  it('deny records the reason and leaves the document alone; agents cannot deny', async () => {
    const h = await installation();
    const card = await propose(h, portChange);
    const before = h.documentText();
    expect((await h.request('POST', `/v1/proposals/${card.id}/deny`, h.agentToken, {})).json().error.code).toBe(
      'forbidden',
    );
    const response = await h.request('POST', `/v1/proposals/${card.id}/deny`, h.ownerToken, { reason: 'not now' });
    expect(response.statusCode).toBe(200);
    expect(response.json().proposal).toMatchObject({
      status: 'denied',
      resolution: { status: 'denied', reason: 'not now' },
    });
    expect(h.documentText()).toBe(before);
    const approve = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(approve.json().error.code).toBe('not_pending');
  });

  it('withdraw: only the proposing agent', async () => {
    const h = await installation();
    const card = await propose(h, portChange);
    const other = h.token({ role: 'agent', name: 'ops', agentId: 'ops' });
    expect((await h.request('POST', `/v1/proposals/${card.id}/withdraw`, other)).json().error.code).toBe('not_found');
    expect((await h.request('POST', `/v1/proposals/${card.id}/withdraw`, h.ownerToken)).json().error.code).toBe(
      'forbidden',
    );
    const response = await h.request('POST', `/v1/proposals/${card.id}/withdraw`, h.agentToken);
    expect(response.statusCode).toBe(200);
    expect(response.json().proposal.status).toBe('withdrawn');
  });

  it('owners see every proposal, agents only their own', async () => {
    const h = await installation();
    const card = await propose(h, portChange);
    const other = h.token({ role: 'agent', name: 'ops', agentId: 'ops' });
    expect((await h.request('GET', '/v1/proposals?status=pending', h.ownerToken)).json().proposals).toHaveLength(1);
    expect((await h.request('GET', '/v1/proposals', h.agentToken)).json().proposals).toHaveLength(1);
    expect((await h.request('GET', '/v1/proposals', other)).json().proposals).toHaveLength(0);
    expect((await h.request('GET', `/v1/proposals/${card.id}`, other)).statusCode).toBe(404);
    expect((await h.request('GET', `/v1/proposals/${card.id}`, h.agentToken)).json().id).toBe(card.id);
  });

  it('renders the card for chat and terminal (owners only)', async () => {
    const h = await installation();
    const card = await propose(h, mcpOn, { reason: 'enable MCP' });
    const markdown = await h.request('GET', `/v1/proposals/${card.id}/card?format=markdown`, h.ownerToken);
    expect(markdown.headers['content-type']).toMatch(/text\/markdown/);
    expect(markdown.body).toContain('commands.mcp');
    expect(markdown.body).toContain(`countersign approve ${card.id}`);
    expect(markdown.body).toContain(card.approval.confirmPhrase as string);
    expect(markdown.body).toContain(`countersign show ${card.id}`);
    h.service.settings.server.publicUrl = 'https://countersign.example.net/';
    const linked = await h.request('GET', `/v1/proposals/${card.id}/card?format=markdown`, h.ownerToken);
    expect(linked.body).toContain(`[full card](https://countersign.example.net/ui/#/proposal/${card.id})`);
    const text = await h.request('GET', `/v1/proposals/${card.id}/card?format=text`, h.ownerToken);
    expect(text.body).toContain('DANGEROUS');
    expect((await h.request('GET', `/v1/proposals/${card.id}/card`, h.agentToken)).statusCode).toBe(403);
  });

  it('audit is owner-only, paginated and verifiable', async () => {
    const h = await installation();
    await propose(h, portChange);
    expect((await h.request('GET', '/v1/audit', h.agentToken)).statusCode).toBe(403);
    const all = (await h.request('GET', '/v1/audit', h.ownerToken)).json().events;
    expect(all.map((event: { seq: number }) => event.seq)).toEqual([1, 2, 3]);
    expect(all[2]).toMatchObject({
      kind: 'proposal.created',
      prevHash: all[1].hash,
      hash: expect.stringMatching(/^sha256:/),
    });
    const after = (await h.request('GET', '/v1/audit?after=2&limit=1', h.ownerToken)).json().events;
    expect(after.map((event: { seq: number }) => event.seq)).toEqual([3]);
    expect((await h.request('GET', '/v1/audit/verify', h.ownerToken)).json()).toEqual({
      ok: true,
      count: 3,
      head: { seq: 3, hash: all[2].hash },
    });
  });
});

describe('apply: "by-agent" grants', () => {
  async function approved(h: Harness) {
    const card = await propose(h, portChange, { sessionKey: 'session-A' });
    const response = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'approved', grant: { expiresAt: expect.any(String) } });
    return card;
  }
  const byAgent = (policy: Record<string, unknown>) => {
    (policy.approval as Record<string, unknown>).apply = 'by-agent';
  };

  it('the proposing agent applies with its own session, once', async () => {
    const h = await installation({ policyEdit: byAgent });
    const card = await approved(h);
    expect((h.document().gateway as { port: number }).port).toBe(18789);
    const response = await h.request('POST', `/v1/proposals/${card.id}/apply`, h.agentToken, {
      sessionKey: 'session-A',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'applied', hash: h.currentHash() });
    expect((h.document().gateway as { port: number }).port).toBe(18790);
    const twice = await h.request('POST', `/v1/proposals/${card.id}/apply`, h.agentToken, { sessionKey: 'session-A' });
    expect([twice.statusCode, twice.json().error.code]).toEqual([409, 'already_applied']);
  });

  it("an owner's own proposal (a repair, a rollback) is applied by the owner's approval: no agent holds its grant", async () => {
    const h = await installation({ policyEdit: byAgent });
    const card = await approved(h);
    await h.request('POST', `/v1/proposals/${card.id}/apply`, h.agentToken, { sessionKey: 'session-A' });
    expect((h.document().gateway as { port: number }).port).toBe(18790);
    const rollback = await h.request('POST', `/v1/proposals/${card.id}/rollback`, h.ownerToken, { reason: 'undo' });
    expect(rollback.statusCode).toBe(202);
    const undo = rollback.json().proposal;
    const response = await h.request('POST', `/v1/proposals/${undo.id}/approve`, h.ownerToken, {
      patchHash: undo.patchHash,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'applied', hash: h.currentHash() });
    expect((h.document().gateway as { port: number }).port).toBe(18789);
  });

  it('an agent must name its session when it will apply the grant itself', async () => {
    const h = await installation({ policyEdit: byAgent });
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: portChange,
    });
    expect([response.statusCode, response.json().error.code]).toEqual([400, 'invalid_request']);
    expect(response.json().error.message).toContain('sessionKey');
  });

  it('another agent, another session, or too late: refused and nothing written', async () => {
    const h = await installation({ policyEdit: byAgent });
    const card = await approved(h);
    const before = h.documentText();
    const other = h.token({ role: 'agent', name: 'ops', agentId: 'ops' });
    expect(
      (await h.request('POST', `/v1/proposals/${card.id}/apply`, other, { sessionKey: 'session-A' })).json().error.code,
    ).toBe('forbidden');
    expect(
      (await h.request('POST', `/v1/proposals/${card.id}/apply`, h.agentToken, { sessionKey: 'session-B' })).json()
        .error.code,
    ).toBe('forbidden');
    h.clock.advance(121);
    const late = await h.request('POST', `/v1/proposals/${card.id}/apply`, h.agentToken, { sessionKey: 'session-A' });
    expect([late.statusCode, late.json().error.code]).toEqual([410, 'grant_expired']);
    expect(h.documentText()).toBe(before);
  });
});
