import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendAudit, withAudit } from '../../src/service/audit.js';
import { openService } from '../../src/service/context.js';
import { freeze } from '../../src/service/freeze.js';
import { readSse, until, webhookReceiver, writeWebhooks } from '../support/events.js';
import { type Harness, installation, tempDir } from '../support/harness.js';
import { base32, totpCode } from '../support/rfc6238.js';
import { enrolOwner, midStepClock } from '../support/totp.js';

/*
 * Manual takeover (SPEC §11) over real HTTP on a real SQLite file: every agent path refused while
 * frozen and working again after an unfreeze, owners still repairing, grants voided for good,
 * TOTP to lift it, owner-only, broadcast, and a freeze written by another process honoured on the
 * next request.
 */

const allowlisted = { agents: { defaults: { thinkingDefault: 'high' } } };
const portChange = { gateway: { port: 18790 } };

function propose(h: Harness, patch: unknown, token = h.agentToken, extra: Record<string, unknown> = {}) {
  return h.http('POST', '/v1/proposals', token, { baseHash: h.currentHash(), patch, ...extra });
}

function freezeNow(h: Harness, reason = 'agent went rogue') {
  return h.http('POST', '/v1/freeze', h.ownerToken, { reason });
}

/** A directory with a small program in it, and the exec policy set to ask about everything not allowlisted. */
function execWorkspace(h: Harness): { dir: string; tool: string } {
  const dir = realpathSync(tempDir('countersign-freeze-exec-'));
  const tool = join(dir, 'tool');
  writeFileSync(tool, '#!/bin/sh\nexit 0\n');
  chmodSync(tool, 0o755);
  const file = join(h.dir, 'exec-approvals.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { defaults: Record<string, unknown> };
  doc.defaults.security = 'allowlist';
  doc.defaults.ask = 'on-miss';
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return { dir, tool };
}

function askExec(h: Harness, argv: string[], cwd: string, extra: Record<string, unknown> = {}) {
  return h.http('POST', '/v1/exec/requests', h.agentToken, { argv, cwd, sessionKey: 's1', ...extra });
}

describe('freeze: owner only, audited, survives in the database', () => {
  it('agents can neither freeze, unfreeze nor read the status (403 forbidden); no token is 401', async () => {
    const h = await installation();
    expect((await h.http('POST', '/v1/freeze', h.agentToken, { reason: 'x' })).body.error.code).toBe('forbidden');
    expect((await h.http('POST', '/v1/freeze', h.agentToken, { reason: 'x' })).status).toBe(403);
    expect((await freezeNow(h)).status).toBe(200);
    const unfreeze = await h.http('POST', '/v1/unfreeze', h.agentToken, {});
    expect(unfreeze.status).toBe(403);
    expect(unfreeze.body.error.code).toBe('forbidden');
    expect((await h.http('GET', '/v1/status', h.agentToken)).status).toBe(403);
    expect((await h.http('POST', '/v1/unfreeze', null, {})).status).toBe(401);
    // Still frozen: the agent's attempt changed nothing.
    expect((await h.http('GET', '/v1/status', h.ownerToken)).body.frozen).toBe(true);
  });

  it('a reason is required, bounded, and unknown fields are refused (400, nothing frozen)', async () => {
    const h = await installation();
    for (const body of [
      {},
      { reason: '' },
      { reason: '   ' },
      { reason: 'x'.repeat(1001) },
      { reason: 'x', extra: 1 },
    ]) {
      const reply = await h.http('POST', '/v1/freeze', h.ownerToken, body);
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe('invalid_request');
    }
    expect((await h.http('GET', '/v1/status', h.ownerToken)).body).toMatchObject({ frozen: false });
    expect(h.auditKinds()).not.toContain('freeze.applied');
  });

  it('status shows the freeze (frozen, since, reason, who) and freezing twice keeps the first', async () => {
    const h = await installation();
    expect((await h.http('GET', '/v1/status', h.ownerToken)).body).toEqual({
      frozen: false,
      since: null,
      reason: null,
      by: null,
      lastDrill: null,
    });
    const first = await freezeNow(h, 'first reason');
    expect(first.body).toMatchObject({ frozen: true, reason: 'first reason', alreadyFrozen: false });
    const again = await freezeNow(h, 'second reason');
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      frozen: true,
      reason: 'first reason',
      since: first.body.since,
      alreadyFrozen: true,
    });
    const status = await h.http('GET', '/v1/status', h.ownerToken);
    expect(status.body).toMatchObject({
      frozen: true,
      since: first.body.since,
      reason: 'first reason',
      by: { role: 'owner', name: 'owner', surface: 'cli' },
      lastDrill: null,
    });
    expect(h.auditKinds().filter((kind) => kind === 'freeze.applied')).toHaveLength(1);
    const applied = h.service.audit.list({ limit: 1000 }).find((event) => event.kind === 'freeze.applied');
    expect(applied).toMatchObject({ reason: 'first reason', actor: { role: 'owner', name: 'owner' } });
    expect(h.service.audit.verify().ok).toBe(true);
  });

  it('status?format=markdown is a chat card with the reason quoted inert', async () => {
    const h = await installation();
    await freezeNow(h, '**bold** [link](http://x) @everyone');
    const reply = await h.http('GET', '/v1/status?format=markdown', h.ownerToken);
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('FROZEN');
    expect(reply.text).toContain('> \\*\\*bold\\*\\* \\[link\\]\\(http\\:\\/\\/x\\) \\@everyone');
    const text = await h.http('GET', '/v1/status?format=text', h.ownerToken);
    expect(text.text).toContain('Reason: **bold**');
  });

  it('lastDrill is read from the newest drill.ran event, tolerant of its details', async () => {
    const h = await installation();
    const drill = (details: Record<string, unknown>) =>
      withAudit(h.service, () =>
        appendAudit(h.service, { kind: 'drill.ran', details: details as Record<string, never> }),
      );
    drill({ ok: false, changes: 3 });
    const second = drill({ ok: true, changes: [{ proposalId: 'a' }, { proposalId: 'b' }] });
    const status = await h.http('GET', '/v1/status', h.ownerToken);
    expect(status.body.lastDrill).toEqual({ at: second.at, ok: true, changes: 2, seq: second.seq });
    drill({ changes: 'nonsense' });
    expect((await h.http('GET', '/v1/status', h.ownerToken)).body.lastDrill).toMatchObject({
      ok: false,
      changes: null,
    });
  });
});

describe('while frozen, every agent path is refused; after unfreeze it works again', () => {
  it('agent proposals: 403 frozen, allowlisted and dry-run ones too; nothing stored or applied', async () => {
    const h = await installation();
    await freezeNow(h);
    const before = h.documentText();
    for (const [patch, extra] of [
      [allowlisted, {}],
      [portChange, {}],
      [portChange, { dryRun: true }],
    ] as const) {
      const reply = await propose(h, patch, h.agentToken, extra);
      expect(reply.status).toBe(403);
      expect(reply.body.error).toMatchObject({ code: 'frozen' });
      expect(reply.body.error.message).toContain('agent went rogue');
    }
    // Even a malformed or stale proposal learns only that it is frozen.
    const stale = await h.http('POST', '/v1/proposals', h.agentToken, {
      baseHash: `hmac-sha256:${'0'.repeat(64)}`,
      patch: {},
    });
    expect(stale.body.error.code).toBe('frozen');
    expect(h.documentText()).toBe(before);
    expect(h.service.proposals.list()).toHaveLength(0);

    const lifted = await h.http('POST', '/v1/unfreeze', h.ownerToken, { reason: 'fixed' });
    expect(lifted.body).toMatchObject({ frozen: false, wasFrozen: true });
    const after = await propose(h, allowlisted);
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('applied');
  });

  it("approving an agent's pending proposal: 409 frozen (no code spent); an owner's own proposal still applies", async () => {
    const h = await installation();
    const agentCard = (await propose(h, portChange)).body.proposal;
    await freezeNow(h);
    const refused = await h.http('POST', `/v1/proposals/${agentCard.id}/approve`, h.ownerToken, {
      patchHash: agentCard.patchHash,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('frozen');
    expect(h.service.proposals.get(agentCard.id)?.card.status).toBe('pending');
    // The owner can still deny it.
    const owned = await propose(h, { gateway: { port: 18791 } }, h.ownerToken);
    expect(owned.status).toBe(202);
    const approved = await h.http('POST', `/v1/proposals/${owned.body.proposal.id}/approve`, h.ownerToken, {
      patchHash: owned.body.proposal.patchHash,
    });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('applied');
    expect((h.document().gateway as { port: number }).port).toBe(18791);
    // The agent's proposal went stale with the document moving; deny still works on pending ones.
    const fresh = await h.http('GET', `/v1/proposals/${agentCard.id}`, h.ownerToken);
    expect(['pending', 'stale']).toContain(fresh.body.status);
  });

  it('after unfreeze, a pending agent proposal can be approved again', async () => {
    const h = await installation();
    const card = (await propose(h, portChange)).body.proposal;
    await freezeNow(h);
    await h.http('POST', '/v1/unfreeze', h.ownerToken, {});
    const approved = await h.http('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('applied');
  });

  it('owner rollback goes through the gate while frozen', async () => {
    const h = await installation();
    const card = (await propose(h, portChange)).body.proposal;
    await h.http('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, { patchHash: card.patchHash });
    const original = JSON.parse(readFileSync(h.configPath, 'utf8')) as { gateway: { port: number } };
    expect(original.gateway.port).toBe(18790);
    await freezeNow(h);
    const rollback = await h.http('POST', `/v1/proposals/${card.id}/rollback`, h.ownerToken);
    expect(rollback.status).toBe(202);
    const inverse = rollback.body.proposal;
    const applied = await h.http('POST', `/v1/proposals/${inverse.id}/approve`, h.ownerToken, {
      patchHash: inverse.patchHash,
    });
    expect(applied.status).toBe(200);
    expect(applied.body.status).toBe('applied');
    expect((h.document().gateway as { port: number }).port).not.toBe(18790);
  });

  it('exec requests: 403 exec_denied with reason frozen, stored and audited; dry runs too; allowlisted ones too', async () => {
    const h = await installation();
    const ws = execWorkspace(h);
    const file = join(h.dir, 'exec-approvals.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.agents = { main: { allowlist: [{ id: 'a1', pattern: ws.tool }] } };
    writeFileSync(file, JSON.stringify(doc, null, 2));
    expect((await askExec(h, [ws.tool], ws.dir)).status).toBe(200);

    await freezeNow(h);
    const refused = await askExec(h, [ws.tool], ws.dir);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'exec_denied', reason: 'frozen' });
    const stored = await h.http('GET', `/v1/exec/requests/${refused.body.error.requestId}`, h.ownerToken);
    expect(stored.body.request).toMatchObject({ status: 'denied', reason: 'frozen' });
    const dry = await askExec(h, [ws.tool], ws.dir, { dryRun: true });
    expect(dry.status).toBe(403);
    expect(dry.body.error).toMatchObject({ code: 'exec_denied', reason: 'frozen', dryRun: true });
    const asked = await askExec(h, [ws.tool, 'not-allowlisted-arg'], ws.dir);
    expect(asked.body.error).toMatchObject({ code: 'exec_denied', reason: 'frozen' });

    await h.http('POST', '/v1/unfreeze', h.ownerToken, {});
    expect((await askExec(h, [ws.tool], ws.dir)).status).toBe(200);
  });

  it('an owner may deny a pending exec request but not allow it (409 frozen); the fallback allows nothing', async () => {
    const h = await installation();
    const ws = execWorkspace(h);
    const file = join(h.dir, 'exec-approvals.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.defaults.askFallback = 'full';
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const first = await askExec(h, [ws.tool, 'one'], ws.dir);
    const second = await askExec(h, [ws.tool, 'two'], ws.dir);
    expect(first.status).toBe(202);
    await freezeNow(h);
    const allow = await h.http('POST', `/v1/exec/requests/${first.body.request.id}/resolve`, h.ownerToken, {
      decision: 'allow-once',
      planHash: first.body.request.planHash,
    });
    expect(allow.status).toBe(409);
    expect(allow.body.error.code).toBe('frozen');
    const deny = await h.http('POST', `/v1/exec/requests/${first.body.request.id}/resolve`, h.ownerToken, {
      decision: 'deny',
      planHash: first.body.request.planHash,
    });
    expect(deny.status).toBe(200);
    expect(deny.body.status).toBe('denied');
    // Nobody decides the second in time: askFallback "full" would allow it, but not while frozen.
    h.clock.advance(3600);
    const late = await h.http('GET', `/v1/exec/requests/${second.body.request.id}`, h.ownerToken);
    expect(late.body.request.status).toBe('expired');
  });

  it('allowed exec requests not yet run are voided: consume is refused while frozen and stays refused after', async () => {
    const h = await installation();
    const ws = execWorkspace(h);
    const asked = await askExec(h, [ws.tool, 'x'], ws.dir);
    const { id, planHash } = asked.body.request;
    const allowed = await h.http('POST', `/v1/exec/requests/${id}/resolve`, h.ownerToken, {
      decision: 'allow-once',
      planHash,
    });
    expect(allowed.body.status).toBe('allowed');
    const frozen = await freezeNow(h);
    expect(frozen.body.voided.execRequests).toEqual([id]);
    const consume = await h.http('POST', `/v1/exec/requests/${id}/consume`, h.agentToken, {
      planHash,
      sessionKey: 's1',
    });
    expect(consume.status).toBe(403);
    expect(consume.body.error).toMatchObject({ code: 'exec_denied', reason: 'frozen', requestId: id });
    await h.http('POST', '/v1/unfreeze', h.ownerToken, {});
    const later = await h.http('POST', `/v1/exec/requests/${id}/consume`, h.agentToken, { planHash, sessionKey: 's1' });
    expect(later.status).toBe(409);
    expect(later.body.error.code).toBe('not_pending');
    expect((await h.http('GET', `/v1/exec/requests/${id}`, h.ownerToken)).body.request).toMatchObject({
      status: 'denied',
      resolution: { reason: 'frozen' },
    });
  });

  it('standing allow-for grants are revoked for good (audited), so the command is asked about again', async () => {
    const h = await installation();
    const ws = execWorkspace(h);
    const asked = await askExec(h, [ws.tool, 'x'], ws.dir);
    const granted = await h.http('POST', `/v1/exec/requests/${asked.body.request.id}/resolve`, h.ownerToken, {
      decision: 'allow-for',
      planHash: asked.body.request.planHash,
      durationSeconds: 600,
    });
    expect(granted.status).toBe(200);
    const grants = (await h.http('GET', '/v1/exec/grants', h.ownerToken)).body.grants;
    expect(grants).toHaveLength(1);
    expect((await askExec(h, [ws.tool, 'x'], ws.dir)).body.request.reason).toBe('allow_for');

    const frozen = await freezeNow(h);
    expect(frozen.body.voided.execGrants).toEqual([grants[0].id]);
    expect((await h.http('GET', '/v1/exec/grants', h.ownerToken)).body.grants).toEqual([]);
    const revoked = h.service.audit.list({ limit: 1000 }).filter((event) => event.kind === 'exec.grant_revoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]?.details).toMatchObject({ voidedBy: 'freeze', grantId: grants[0].id });

    await h.http('POST', '/v1/unfreeze', h.ownerToken, {});
    const again = await askExec(h, [ws.tool, 'x'], ws.dir);
    expect(again.status).toBe(202);
    expect(again.body.decision).toBe('ask');
  });

  it('by-agent grants are voided for good: apply is 409 frozen, then not_pending after unfreeze', async () => {
    const h = await installation({
      policyEdit: (policy) => {
        (policy.approval as Record<string, unknown>).apply = 'by-agent';
      },
    });
    const card = (await propose(h, portChange, h.agentToken, { sessionKey: 'sess' })).body.proposal;
    const approved = await h.http('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(approved.body.status).toBe('approved');
    const frozen = await freezeNow(h);
    expect(frozen.body.voided.proposals).toEqual([card.id]);
    const apply = await h.http('POST', `/v1/proposals/${card.id}/apply`, h.agentToken, { sessionKey: 'sess' });
    expect(apply.status).toBe(409);
    expect(apply.body.error.code).toBe('frozen');
    const shown = await h.http('GET', `/v1/proposals/${card.id}`, h.ownerToken);
    expect(shown.body).toMatchObject({
      status: 'denied',
      resolution: { reason: 'Voided by freeze: agent went rogue' },
    });
    await h.http('POST', '/v1/unfreeze', h.ownerToken, {});
    const later = await h.http('POST', `/v1/proposals/${card.id}/apply`, h.agentToken, { sessionKey: 'sess' });
    expect(later.status).toBe(409);
    expect(later.body.error.code).toBe('not_pending');
    expect((h.document().gateway as { port: number }).port).not.toBe(18790);
  });
});

describe('a hostile agent while frozen', () => {
  it('finds no way around it: the exec-approvals target, forged fields, a stolen code, other agents', async () => {
    const clock = midStepClock();
    const h = await installation({ clock });
    const secret = randomBytes(20);
    enrolOwner(h, secret);
    const other = h.token({ role: 'agent', name: 'helper', agentId: 'helper' });
    await freezeNow(h);
    const execDoc = await h.http('GET', '/v1/config?target=exec-approvals', h.agentToken);
    expect(execDoc.status).toBe(200);
    // Widening its own exec allowlist is a proposal like any other.
    const widen = await h.http('POST', '/v1/proposals', h.agentToken, {
      target: 'exec-approvals',
      baseHash: execDoc.body.hash,
      patch: { defaults: { security: 'full' } },
    });
    expect(widen.status).toBe(403);
    expect(widen.body.error.code).toBe('frozen');
    // Another agent token is frozen just the same.
    expect((await propose(h, allowlisted, other)).body.error.code).toBe('frozen');
    // Fields that claim to be an owner are refused by shape, and change nothing.
    const forged = await h.http('POST', '/v1/freeze', h.agentToken, { reason: 'x', role: 'owner' });
    expect(forged.status).toBe(400);
    // Even a valid code does not let an agent token unfreeze.
    const withCode = await h.http('POST', '/v1/unfreeze', h.agentToken, { totp: totpCode(secret, clock.now()) });
    expect(withCode.status).toBe(403);
    expect(withCode.body.error.code).toBe('forbidden');
    // Withdrawing or reading is fine: it does nothing.
    expect((await h.http('GET', '/v1/config', h.agentToken)).status).toBe(200);
    expect((await h.http('GET', '/v1/status', h.ownerToken)).body.frozen).toBe(true);
    expect(h.service.audit.verify().ok).toBe(true);
  });
});

describe('unfreeze needs a fresh TOTP code once any owner has an authenticator', () => {
  it('no code: totp_required; wrong: totp_invalid; right: lifted; replayed: refused; an un-enrolled owner: totp_not_enrolled', async () => {
    const clock = midStepClock();
    const h = await installation({ clock });
    const secret = randomBytes(20);
    enrolOwner(h, secret);
    const other = h.token({ role: 'owner', name: 'deputy', surface: 'web' });
    await freezeNow(h);

    const none = await h.http('POST', '/v1/unfreeze', h.ownerToken, {});
    expect(none.status).toBe(403);
    expect(none.body.error.code).toBe('totp_required');
    const wrong = await h.http('POST', '/v1/unfreeze', h.ownerToken, {
      totp: totpCode(secret, new Date(clock.now().getTime() + 600_000)),
    });
    expect(wrong.body.error.code).toBe('totp_invalid');
    const deputy = await h.http('POST', '/v1/unfreeze', other, {});
    expect(deputy.status).toBe(403);
    expect(deputy.body.error.code).toBe('totp_not_enrolled');
    expect((await h.http('GET', '/v1/status', h.ownerToken)).body.frozen).toBe(true);

    const code = totpCode(secret, clock.now());
    const right = await h.http('POST', '/v1/unfreeze', h.ownerToken, { totp: code });
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ frozen: false, wasFrozen: true, stepUp: 'totp' });
    const lifted = h.service.audit.list({ limit: 1000 }).find((event) => event.kind === 'freeze.lifted');
    expect(lifted).toMatchObject({ stepUp: 'totp', actor: { name: 'owner' } });

    await freezeNow(h, 'again');
    const replay = await h.http('POST', '/v1/unfreeze', h.ownerToken, { totp: code });
    expect(replay.body.error.code).toBe('totp_replayed');
  });

  it('a cooldown opened by an approval does not lift a freeze', async () => {
    const clock = midStepClock();
    const h = await installation({ clock });
    const secret = randomBytes(20);
    enrolOwner(h, secret);
    const card = (await propose(h, { commands: { mcp: true } })).body.proposal;
    const approved = await h.http('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
      confirm: card.approval.confirmPhrase,
      totp: totpCode(secret, clock.now()),
    });
    expect(approved.status).toBe(200);
    await freezeNow(h);
    const none = await h.http('POST', '/v1/unfreeze', h.ownerToken, {});
    expect(none.body.error.code).toBe('totp_required');
    expect(base32(secret)).toBeTruthy();
  });
});

describe('broadcast and out-of-process freezes', () => {
  it('freeze and unfreeze go out on the event stream and to webhooks, with a chat text', async () => {
    const h0 = await installation();
    const receiver = await webhookReceiver();
    writeWebhooks(h0.dir, [{ url: receiver.url, secret: 's'.repeat(32) }]);
    // A second service on the same directory reads the webhook settings.
    const service = openService(h0.dir);
    const { buildApp } = await import('../../src/http/app.js');
    const app = await buildApp(service, { logRequests: false, rateLimit: false, webhooks: { attempts: 1 } });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const sse = await readSse(base, h0.ownerToken);
      const frozen = await fetch(`${base}/v1/freeze`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h0.ownerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'incident 42' }),
      });
      expect(frozen.status).toBe(200);
      const event = await until('freeze.applied on SSE', () => sse.events.find((e) => e.event === 'freeze.applied'));
      expect(event.data).toMatchObject({ frozen: true, reason: 'incident 42', by: { name: 'owner' } });
      expect((event.data as { markdown: string }).markdown).toContain('FROZEN');
      const hook = await until('freeze.applied webhook', () =>
        receiver.received.find((r) => r.headers['x-countersign-event'] === 'freeze.applied'),
      );
      expect(JSON.parse(hook.body).data).toMatchObject({ frozen: true, reason: 'incident 42' });

      await fetch(`${base}/v1/unfreeze`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h0.ownerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'all clear' }),
      });
      const lifted = await until('freeze.lifted on SSE', () => sse.events.find((e) => e.event === 'freeze.lifted'));
      expect(lifted.data).toMatchObject({ frozen: false, reason: 'all clear', by: { name: 'owner' } });
      await until('freeze.lifted webhook', () =>
        receiver.received.find((r) => r.headers['x-countersign-event'] === 'freeze.lifted'),
      );
    } finally {
      await app.close();
      service.close();
    }
  });

  it('a freeze written by another process (the CLI on --data) is honoured on the next request and announced', async () => {
    const h = await installation();
    const sse = await readSse(await h.listen(), h.ownerToken);
    expect((await propose(h, allowlisted)).status).toBe(200);

    const elsewhere = openService(h.dir);
    try {
      freeze(elsewhere, { role: 'owner', name: 'data-dir', agentId: null, sessionKey: null, surface: 'cli' }, 'wedged');
    } finally {
      elsewhere.close();
    }
    const refused = await propose(h, { agents: { defaults: { thinkingDefault: 'low' } } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('frozen');
    const event = await until('freeze.applied announced', () => sse.events.find((e) => e.event === 'freeze.applied'));
    expect(event.data).toMatchObject({ frozen: true, reason: 'wedged', by: { name: 'data-dir' } });
    // Both processes appended to one chain, which still verifies.
    expect(h.service.audit.verify().ok).toBe(true);
  });
});
