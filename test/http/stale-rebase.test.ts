/**
 * Issue 10 items 10 and 11, attacked over real sockets as a hostile agent would: a proposal whose
 * base moved must stop looking approvable at once (CLI, GET /v1/proposals, the event stream), and
 * an agent must not be able to void every owner approval by applying an allowlisted change just
 * before it — such proposals are rebased, and the owner's approval then applies both changes.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { watchDocuments } from '../../src/service/watch.js';
import { TotpStore } from '../../src/store/totp.js';
import { readSse } from '../support/events.js';
import { type Harness, installation } from '../support/harness.js';
import { totpCode } from '../support/rfc6238.js';
import { enrolOwner, midStepClock } from '../support/totp.js';

const cliPath = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const mcpOn = { commands: { mcp: true } };
const allowlistedElsewhere = { agents: { defaults: { thinkingDefault: 'high' } } };

type Card = {
  id: string;
  status: string;
  tier: string;
  baseHash: string;
  patchHash: string;
  targetHash: string;
  expiresAt: string;
  changes: unknown[];
  approval: { confirmPhrase: string | null; totp: boolean };
  resolution: { reason: string | null } | null;
};

async function setUp() {
  const clock = midStepClock();
  const h = await installation({ clock });
  const secret = randomBytes(20);
  enrolOwner(h, secret);
  return { h, clock, secret };
}

async function proposeAsAgent(
  h: Harness,
  patch: unknown,
): Promise<{ status: number; body: { status: string; proposal: Card } }> {
  return h.http('POST', '/v1/proposals', h.agentToken, { baseHash: h.currentHash(), patch });
}

async function pendingIds(h: Harness): Promise<string[]> {
  const listed = await h.http('GET', '/v1/proposals?status=pending', h.ownerToken);
  expect(listed.status).toBe(200);
  return listed.body.proposals.map((card: Card) => card.id);
}

async function cardOf(h: Harness, id: string): Promise<Card> {
  const response = await h.http('GET', `/v1/proposals/${id}`, h.ownerToken);
  expect(response.status).toBe(200);
  return response.body as Card;
}

/** The built CLI's `pending --json`, as an owner runs it, against the listening server. */
async function cliPendingIds(h: Harness): Promise<string[] | null> {
  if (!existsSync(cliPath)) return null;
  const url = await h.listen();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    COUNTERSIGN_URL: url,
    COUNTERSIGN_TOKEN: h.ownerToken,
    NO_COLOR: '1',
  };
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, 'pending', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`cli exited ${code}`))));
  });
  return (JSON.parse(output) as { proposals: Card[] }).proposals.map((card) => card.id);
}

type SseEvent = { event: string; data: Card & { proposal?: Card } };

/** The owner's event stream over a real socket, collected as it arrives. */
async function openEvents(h: Harness): Promise<{ events: SseEvent[] }> {
  const stream = await readSse(await h.listen(), h.ownerToken);
  return stream as { events: SseEvent[] };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('item 11: an allowlisted change elsewhere rebases a pending proposal instead of voiding it', () => {
  it('the dangerous proposal stays pending on the new base, and the owner approval applies both changes', async () => {
    const { h, clock, secret } = await setUp();
    const stream = await openEvents(h);
    const proposed = await proposeAsAgent(h, mcpOn);
    expect(proposed.status).toBe(202);
    const first = proposed.body.proposal;
    expect(first.tier).toBe('dangerous');

    // The agent's move: an allowlisted change, applied at once, just before the owner decides.
    const sneaky = await proposeAsAgent(h, allowlistedElsewhere);
    expect([sneaky.status, sneaky.body.status]).toEqual([200, 'applied']);

    const rebased = await cardOf(h, first.id);
    expect(rebased.status).toBe('pending');
    expect(rebased.baseHash).toBe(h.currentHash());
    expect(rebased.baseHash).not.toBe(first.baseHash);
    expect(rebased.targetHash).not.toBe(first.targetHash);
    // What the owner sees and how long they have are unchanged.
    expect(rebased.changes).toEqual(first.changes);
    expect(rebased.expiresAt).toBe(first.expiresAt);
    // The patch hash is over the operations alone (SPEC §1); a rebase keeps the operations exactly,
    // so it is the same hash, and so is the confirm phrase derived from it.
    expect(rebased.patchHash).toBe(first.patchHash);
    expect(rebased.approval.confirmPhrase).toBe(first.approval.confirmPhrase);
    expect(await pendingIds(h)).toContain(first.id);

    const audit = h.service.audit.list({ limit: 1000 });
    const event = audit.find((entry) => entry.kind === 'proposal.rebased');
    expect(event).toMatchObject({
      proposalId: first.id,
      baseHash: rebased.baseHash,
      targetHash: rebased.targetHash,
      patchHash: rebased.patchHash,
      details: { previous: { baseHash: first.baseHash, targetHash: first.targetHash, patchHash: first.patchHash } },
    });
    expect(audit.some((entry) => entry.kind === 'proposal.stale')).toBe(false);
    await until(() =>
      stream.events.some((e) => e.event === 'proposal.created' && e.data.baseHash === rebased.baseHash),
    );
    const announced = stream.events.filter((e) => e.event === 'proposal.created' && e.data.id === first.id);
    expect(announced.map((e) => e.data.baseHash)).toEqual([first.baseHash, rebased.baseHash]);

    const approved = await h.http('POST', `/v1/proposals/${first.id}/approve`, h.ownerToken, {
      patchHash: rebased.patchHash,
      confirm: rebased.approval.confirmPhrase,
      totp: totpCode(secret, clock.now()),
    });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('applied');
    const document = h.document() as { commands: { mcp: boolean }; agents: { defaults: { thinkingDefault: string } } };
    expect(document.commands.mcp).toBe(true);
    expect(document.agents.defaults.thinkingDefault).toBe('high');
    expect(approved.body.hash).toBe(h.currentHash());
  });

  it('a rebased card keeps showing the owner the proposer’s secret value; the event veils it', async () => {
    const { h } = await setUp();
    const stream = await openEvents(h);
    const written = '987654321:AAWrittenByTheAgentItselfNotASecret';
    const proposed = await proposeAsAgent(h, { ...mcpOn, channels: { telegram: { botToken: written } } });
    expect(proposed.status).toBe(202);
    const first = proposed.body.proposal;
    expect(JSON.stringify(first.changes)).toContain(written);
    expect((await proposeAsAgent(h, allowlistedElsewhere)).body.status).toBe('applied');

    const rebased = await cardOf(h, first.id);
    expect([rebased.status, rebased.baseHash]).toEqual(['pending', h.currentHash()]);
    expect(rebased.changes).toEqual(first.changes);
    await until(() =>
      stream.events.some((e) => e.event === 'proposal.created' && e.data.baseHash === rebased.baseHash),
    );
    const event = stream.events.find((e) => e.event === 'proposal.created' && e.data.baseHash === rebased.baseHash);
    expect(JSON.stringify(event)).not.toContain(written);
    expect(JSON.stringify(event)).not.toContain('AAFakeTelegramTokenForFixturesOnly00');
    const audit = JSON.stringify(h.service.audit.list({ limit: 1000 }));
    expect(audit).not.toContain(written);
  });

  it('a change that copies a secret is voided, not re-planned into showing it', async () => {
    const { h } = await setUp();
    const stream = await openEvents(h);
    const secret = 'AAFakeTelegramTokenForFixturesOnly00';
    const proposed = await h.http('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      operations: [
        { op: 'replace', path: '/commands/mcp', value: true },
        { op: 'copy', from: '/channels/telegram/botToken', path: '/channels/telegram/webhookToken' },
      ],
    });
    expect(proposed.status).toBe(202);
    const first = proposed.body.proposal as Card;
    expect((await proposeAsAgent(h, allowlistedElsewhere)).body.status).toBe('applied');

    const card = await cardOf(h, first.id);
    expect(card.status).toBe('stale');
    expect(JSON.stringify(card)).not.toContain(secret);
    expect(JSON.stringify(stream.events)).not.toContain(secret);
    expect(JSON.stringify(h.service.audit.list({ limit: 1000 }))).not.toContain(secret);
    expect(h.service.audit.list({ limit: 1000 }).find((entry) => entry.kind === 'proposal.stale')).toMatchObject({
      details: { staleReason: 'does_not_carry_over' },
    });
  });

  it('an approval with a patch hash other than the card’s is refused with the card’s hash', async () => {
    const { h } = await setUp();
    const first = (await proposeAsAgent(h, mcpOn)).body.proposal;
    await proposeAsAgent(h, allowlistedElsewhere);
    const response = await h.http('POST', `/v1/proposals/${first.id}/approve`, h.ownerToken, {
      patchHash: first.baseHash,
      confirm: first.approval.confirmPhrase,
    });
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({
      code: 'patch_mismatch',
      patchHash: (await cardOf(h, first.id)).patchHash,
    });
  });
});

describe('item 10: a proposal whose base moved is stale at once, everywhere', () => {
  it('an intervening change to one of its paths voids it: not listed, not approvable, announced', async () => {
    const { h, clock, secret } = await setUp();
    const stream = await openEvents(h);
    // Dangerous overall, and it also touches the allowlisted path the agent then changes.
    const proposed = await proposeAsAgent(h, { ...mcpOn, agents: { defaults: { thinkingDefault: 'medium' } } });
    expect(proposed.status).toBe(202);
    const first = proposed.body.proposal;
    expect(await pendingIds(h)).toContain(first.id);

    expect((await proposeAsAgent(h, allowlistedElsewhere)).body.status).toBe('applied');

    const card = await cardOf(h, first.id);
    expect(card.status).toBe('stale');
    expect(card.resolution?.reason).toMatch(/same settings/);
    expect(await pendingIds(h)).not.toContain(first.id);
    const cli = await cliPendingIds(h);
    if (cli !== null) expect(cli).not.toContain(first.id);
    const stale = h.service.audit.list({ limit: 1000 }).filter((entry) => entry.kind === 'proposal.stale');
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ proposalId: first.id, details: { staleReason: 'same_path', cause: 'applied' } });
    await until(() => stream.events.some((e) => e.event === 'proposal.resolved' && e.data.id === first.id));
    expect(stream.events.find((e) => e.event === 'proposal.resolved' && e.data.id === first.id)?.data.status).toBe(
      'stale',
    );

    // The owner learns it before typing a phrase and a code, and no code is spent on it.
    const before = h.documentText();
    const approve = await h.http('POST', `/v1/proposals/${first.id}/approve`, h.ownerToken, {
      patchHash: first.patchHash,
      confirm: first.approval.confirmPhrase,
      totp: totpCode(secret, clock.now()),
    });
    expect([approve.status, approve.body.error.code, approve.body.error.status]).toEqual([409, 'not_pending', 'stale']);
    expect(h.documentText()).toBe(before);
    expect(new TotpStore(h.service.db).get('owner')?.lastStep).toBeNull();
  });

  it('a change an owner approved is never rebased over, even at other paths', async () => {
    const { h } = await setUp();
    const first = (await proposeAsAgent(h, mcpOn)).body.proposal;
    const other = (await proposeAsAgent(h, { gateway: { port: 18790 } })).body.proposal;
    expect(other.tier).toBe('protected');
    const approved = await h.http('POST', `/v1/proposals/${other.id}/approve`, h.ownerToken, {
      patchHash: other.patchHash,
    });
    expect(approved.status).toBe(200);
    expect((await cardOf(h, first.id)).status).toBe('stale');
    expect(h.service.audit.list({ limit: 1000 }).find((entry) => entry.kind === 'proposal.stale')).toMatchObject({
      proposalId: first.id,
      details: { staleReason: 'needs_approval' },
    });
  });

  it('an outside edit, even at an allowlisted path, voids pending proposals as soon as it is read', async () => {
    const { h } = await setUp();
    const first = (await proposeAsAgent(h, mcpOn)).body.proposal;
    const edited = h.document() as { agents: { defaults: Record<string, unknown> } };
    edited.agents.defaults.thinkingDefault = 'high';
    writeFileSync(h.configPath, JSON.stringify(edited, null, 2));
    // Any read of the document notices it — here the agent's own GET /v1/config.
    expect((await h.http('GET', '/v1/config', h.agentToken)).status).toBe(200);
    expect((await cardOf(h, first.id)).status).toBe('stale');
    expect(await pendingIds(h)).not.toContain(first.id);
    const kinds = h.auditKinds();
    expect(kinds.indexOf('proposal.stale')).toBeGreaterThan(kinds.indexOf('config.drift'));
    expect(h.service.audit.list({ limit: 1000 }).find((entry) => entry.kind === 'proposal.stale')).toMatchObject({
      details: { staleReason: 'outside_edit', cause: 'outside' },
    });
  });

  it('the file watch voids them without any request', async () => {
    const { h } = await setUp();
    const stream = await openEvents(h);
    const first = (await proposeAsAgent(h, mcpOn)).body.proposal;
    const stop = watchDocuments(h.service, 20);
    onTestFinished(stop);
    writeFileSync(h.configPath, JSON.stringify({ ...h.document(), edited: 'outside' }, null, 2));
    await until(() => stream.events.some((e) => e.event === 'proposal.resolved' && e.data.id === first.id));
    expect(h.service.proposals.get(first.id)?.card.status).toBe('stale');
  });
});
