/**
 * Issue 10 item 6: `agents.*.model.**` let an agent add 300,000 keys per request without an
 * owner, and the document grew to 33 MB. Allowlisted paths now take only the shapes OpenClaw
 * accepts, and every proposal is capped by the policy's `limits`. Attacks go over a real socket.
 */
import { describe, expect, it } from 'vitest';
import { installation } from '../support/harness.js';

type Harness = Awaited<ReturnType<typeof installation>>;

async function propose(h: Harness, body: Record<string, unknown>, token = h.agentToken) {
  return h.http('POST', '/v1/proposals', token, { baseHash: h.currentHash(), ...body });
}

function inventedKeys(count: number, size = 8): Record<string, string> {
  const keys: Record<string, string> = {};
  for (let index = 0; index < count; index++) keys[`k${index}`] = 'v'.repeat(size);
  return keys;
}

async function storedProposals(h: Harness): Promise<unknown[]> {
  const listed = await h.http('GET', '/v1/proposals', h.ownerToken);
  expect(listed.status).toBe(200);
  return listed.body.proposals;
}

describe('growth through agent-tunable paths', () => {
  it('keys an agent invents under its model are not agent-tunable', async () => {
    const h = await installation();
    const before = h.documentText();
    const reply = await propose(h, {
      patch: { agents: { entries: { main: { model: { primary: 'openai/gpt-5', ...inventedKeys(50) } } } } },
    });
    expect(reply.status).toBe(202);
    expect(reply.body.status).toBe('pending');
    const junk = reply.body.proposal.changes.find((change: { path: string }) => change.path.endsWith('.model.k0'));
    expect(junk).toMatchObject({ tier: 'protected', ruleId: null });
    expect(h.documentText()).toBe(before);
  });

  it('a model that is not a model name (100 kB of text, a list) is not agent-tunable', async () => {
    const h = await installation();
    const before = h.documentText();
    for (const model of ['x'.repeat(100_000), ['a', 'b'], { fallbacks: Array.from({ length: 500 }, () => 'm') }]) {
      const reply = await propose(h, { patch: { agents: { entries: { main: { model } } } } });
      expect(reply.status).toBe(202);
    }
    for (const model of [{ fallbacks: [{ deep: { deeper: 'x' } }] }, { primary: { nested: 'x' } }]) {
      const reply = await propose(h, { patch: { agents: { entries: { ops: { model } } } } });
      expect(reply.status).toBe(202);
    }
    expect(h.documentText()).toBe(before);
  });

  it('keys invented along a requireMention path are not agent-tunable', async () => {
    const h = await installation();
    const before = h.documentText();
    const junk: Record<string, unknown> = {};
    for (let index = 0; index < 20; index++) junk[`junk${index}`] = { requireMention: true };
    const reply = await propose(h, { patch: { channels: { telegram: junk } } });
    expect(reply.status).toBe(202);
    expect(h.documentText()).toBe(before);
  });

  // Waits for the lead's wiring of `checkLimits` into propose.
  it('the 33 MB attack: tens of thousands of invented keys are refused before anything is stored', async () => {
    const h = await installation();
    const before = h.documentText();
    const reply = await propose(h, {
      patch: { agents: { entries: { main: { model: { primary: 'openai/gpt-5', ...inventedKeys(25_000) } } } } },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.error).toMatchObject({
      code: 'too_many_changes',
      limit: 'maxChanges',
      max: 20_000,
      actual: expect.any(Number),
    });
    expect(reply.body.error.actual).toBeGreaterThan(20_000);
    expect(h.documentText()).toBe(before);
    expect(await storedProposals(h)).toEqual([]);
  }, 30_000);
});

describe('policy limits on one proposal (waits for the lead wiring `checkLimits` into propose)', () => {
  it('a change that would grow the document past maxGrowthBytes is 413 too_large', async () => {
    const h = await installation({
      policyEdit: (policy) => {
        policy.limits = { maxGrowthBytes: 4096 };
      },
    });
    const before = h.documentText();
    const small = await propose(h, { patch: { messages: { responsePrefix: 'x'.repeat(500) } } });
    expect(small.status).toBe(202);
    const reply = await propose(h, { patch: { messages: { responsePrefix: 'x'.repeat(20_000) } } });
    expect(reply.status).toBe(413);
    expect(reply.body.error).toMatchObject({ code: 'too_large', limit: 'maxGrowthBytes', max: 4096 });
    expect(reply.body.error.actual).toBeGreaterThan(4096);
    expect(reply.body.error.message).toMatch(/4096/);
    expect(h.documentText()).toBe(before);
  });

  it('a change that would make the document larger than maxDocumentBytes is 413 too_large', async () => {
    const h = await installation({
      policyEdit: (policy) => {
        policy.limits = { maxDocumentBytes: 8192 };
      },
    });
    const before = h.documentText();
    const reply = await propose(h, { patch: { messages: { responsePrefix: 'x'.repeat(20_000) } } });
    expect(reply.status).toBe(413);
    expect(reply.body.error).toMatchObject({ code: 'too_large', limit: 'maxDocumentBytes', max: 8192 });
    expect(reply.body.error.actual).toBeGreaterThan(8192);
    expect(h.documentText()).toBe(before);
    expect(await storedProposals(h)).toEqual([]);
  });

  it('the caps hold for allowlisted changes too: many small agent-tunable edits in one proposal', async () => {
    const groups: Record<string, { requireMention: boolean }> = {};
    for (let index = 0; index < 12; index++) groups[`-100${index}`] = { requireMention: true };
    const h = await installation({
      document: { channels: { telegram: { groups } } },
      policyEdit: (policy) => {
        policy.limits = { maxChanges: 10 };
      },
    });
    const before = h.documentText();
    const flip = (count: number) =>
      Object.fromEntries(
        Object.keys(groups)
          .slice(0, count)
          .map((id) => [id, { requireMention: false }]),
      );
    const reply = await propose(h, { patch: { channels: { telegram: { groups: flip(11) } } } });
    expect(reply.status).toBe(422);
    expect(reply.body.error).toMatchObject({ code: 'too_many_changes', limit: 'maxChanges', max: 10, actual: 11 });
    expect(h.documentText()).toBe(before);
    const fits = await propose(h, { patch: { channels: { telegram: { groups: flip(10) } } } });
    expect(fits.status).toBe(200);
    expect(fits.body.status).toBe('applied');
  });
});

describe('request bodies over the server limit', () => {
  it('are 413 payload_too_large as JSON, over a real socket, and change nothing', async () => {
    const h = await installation();
    const before = h.documentText();
    const raw = JSON.stringify({
      baseHash: h.currentHash(),
      patch: { agents: { entries: { main: { model: { primary: 'x', ...inventedKeys(1_000, 9 * 1024) } } } } },
    });
    expect(raw.length).toBeGreaterThan(8 * 1024 * 1024);
    const reply = await h.http('POST', '/v1/proposals', h.agentToken, raw);
    expect(reply.status).toBe(413);
    expect(reply.headers.get('content-type')).toMatch(/application\/json/);
    expect(reply.body.error).toMatchObject({ code: 'payload_too_large', message: expect.stringMatching(/larger/) });
    expect(h.documentText()).toBe(before);
  });
});
