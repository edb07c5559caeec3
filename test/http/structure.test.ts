/**
 * Issue 10 item 7: adding or removing a whole agent, MCP server, channel account or chat place
 * is a change in its own right (SPEC §2), never allowlisted because every leaf inside it is.
 * Each attack is made as a hostile agent would make it: over a real socket with an agent token.
 */
import { describe, expect, it } from 'vitest';
import type { HttpReply } from '../support/harness.js';
import { fixture, installation } from '../support/harness.js';

type Change = { path: string; op: string; tier: string; ruleId: string | null; after?: unknown; before?: unknown };

const changeAt = (reply: HttpReply, path: string): Change | undefined =>
  (reply.body.proposal.changes as Change[]).find((change) => change.path === path);

async function propose(h: Awaited<ReturnType<typeof installation>>, body: Record<string, unknown>) {
  return h.http('POST', '/v1/proposals', h.agentToken, { baseHash: h.currentHash(), reason: 'tidy up', ...body });
}

describe('structure: whole entries need an owner', () => {
  it('removing an agent with `agents.entries.main: null` waits for an owner', async () => {
    const h = await installation();
    const before = h.documentText();
    const reply = await propose(h, { patch: { agents: { entries: { main: null } } } });
    expect(reply.status).toBe(202);
    expect(reply.body.status).toBe('pending');
    expect(reply.body.proposal.tier).toBe('protected');
    expect(changeAt(reply, 'agents.entries.main')).toMatchObject({
      op: 'remove',
      tier: 'protected',
      ruleId: 'agent-identity',
      before: { model: 'anthropic/claude-sonnet-4-6' },
    });
    expect(h.documentText()).toBe(before);
  });

  it('adding an agent whose settings are all agent-tunable waits for an owner', async () => {
    const h = await installation();
    const before = h.documentText();
    const helper = { model: 'anthropic/claude-opus-4-6', thinkingDefault: 'high' };
    const reply = await propose(h, { patch: { agents: { entries: { helper } } } });
    expect(reply.status).toBe(202);
    expect(changeAt(reply, 'agents.entries.helper')).toMatchObject({ op: 'add', tier: 'protected', after: helper });
    // The leaves inside are still shown, each with its own tier.
    expect(changeAt(reply, 'agents.entries.helper.model')?.tier).toBe('allowlisted');
    expect(h.documentText()).toBe(before);
  });

  it('legacy agent list: adding or removing an agent by id waits for an owner', async () => {
    const document = {
      agents: {
        list: [
          { id: 'main', model: 'anthropic/claude-sonnet-4-6' },
          { id: 'helper', model: 'anthropic/claude-opus-4-6' },
        ],
      },
    };
    const h = await installation({ document });
    const added = await propose(h, { patch: { agents: { list: [{ id: 'spy', model: 'openai/gpt-5' }] } } });
    expect(added.status).toBe(202);
    expect(changeAt(added, 'agents.list[id=spy]')).toMatchObject({
      op: 'add',
      tier: 'protected',
      ruleId: 'agent-identity',
    });

    const removed = await propose(h, { operations: [{ op: 'remove', path: '/agents/list/1' }] });
    expect(removed.status).toBe(202);
    expect(changeAt(removed, 'agents.list[id=helper]')).toMatchObject({ op: 'remove', tier: 'protected' });
    expect(h.document()).toEqual(document);
  });

  it('adding a channel account, a chat group or a whole channel waits for an owner', async () => {
    const h = await installation();
    const before = h.documentText();
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [
        { telegram: { accounts: { work: { requireMention: true } } } },
        'channels.telegram.accounts.work',
        'channel-accounts',
      ],
      [
        { telegram: { groups: { '-100999': { requireMention: false } } } },
        'channels.telegram.groups.-100999',
        'chat-places',
      ],
      [{ slack: { requireMention: true } }, 'channels.slack', 'channel-identity'],
    ];
    for (const [channels, path, ruleId] of cases) {
      const reply = await propose(h, { patch: { channels } });
      expect(reply.status, path).toBe(202);
      expect(changeAt(reply, path), path).toMatchObject({ op: 'add', tier: 'protected', ruleId });
    }
    expect(h.documentText()).toBe(before);
  });

  it('removing a chat group waits for an owner; switching its mention setting does not', async () => {
    const h = await installation();
    const removed = await propose(h, { patch: { channels: { telegram: { groups: { '-1001234567890': null } } } } });
    expect(removed.status).toBe(202);
    expect(changeAt(removed, 'channels.telegram.groups.-1001234567890')).toMatchObject({
      op: 'remove',
      tier: 'protected',
    });

    const toggled = await propose(h, {
      patch: { channels: { telegram: { groups: { '-1001234567890': { requireMention: false } } } } },
    });
    expect(toggled.status).toBe(200);
    expect(toggled.body.status).toBe('applied');
  });

  it('adding an MCP server is a dangerous change at the server itself, with the MCP review', async () => {
    const h = await installation();
    const github = { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@2026.8.1'] };
    const reply = await propose(h, { patch: { mcp: { servers: { github } } } });
    expect(reply.status).toBe(202);
    expect(changeAt(reply, 'mcp.servers.github')).toMatchObject({
      op: 'add',
      tier: 'dangerous',
      ruleId: 'mcp-servers',
      after: github,
    });
    expect(reply.body.proposal.review?.mcp).toBeDefined();
  });

  it('removing an MCP server is a dangerous change at the server itself', async () => {
    const h = await installation();
    const reply = await propose(h, { patch: { mcp: { servers: { filesystem: null } } } });
    expect(reply.status).toBe(202);
    expect(changeAt(reply, 'mcp.servers.filesystem')).toMatchObject({ op: 'remove', tier: 'dangerous' });
  });

  it('the whole-entry change never shows the secrets inside the entry', async () => {
    const document = fixture('openclaw.json') as { mcp: { servers: Record<string, unknown> } };
    const secret = 'sk-live-9f8e7d6c5b4a39281706';
    document.mcp.servers.paid = { command: 'npx', args: ['-y', 'paid-mcp@1.0.0'], env: { PAID_API_KEY: secret } };
    const h = await installation({ document });
    const reply = await propose(h, { patch: { mcp: { servers: { paid: null } } } });
    expect(reply.status).toBe(202);
    const removed = changeAt(reply, 'mcp.servers.paid');
    expect(removed).toMatchObject({ op: 'remove', tier: 'dangerous' });
    expect(JSON.stringify(removed)).toContain('PAID_API_KEY');
    expect(reply.text).not.toContain(secret);
    const id = reply.body.proposal.id;
    for (const url of [
      `/v1/proposals/${id}`,
      `/v1/proposals/${id}/card?format=markdown`,
      `/v1/proposals/${id}/card?format=text`,
    ]) {
      const shown = await h.http('GET', url, h.ownerToken);
      expect(shown.status, url).toBe(200);
      expect(shown.text, url).not.toContain(secret);
    }
  });

  it('an agent still tunes its own model alone', async () => {
    const h = await installation();
    const reply = await propose(h, {
      patch: { agents: { entries: { main: { model: 'anthropic/claude-opus-4-6' } } } },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('applied');
    expect(reply.body.proposal.changes).toHaveLength(1);
  });

  it('the owner approves the removal and it applies', async () => {
    const h = await installation();
    const proposed = await propose(h, { patch: { agents: { entries: { main: null } } } });
    expect(proposed.status).toBe(202);
    const card = proposed.body.proposal;
    const approved = await h.http('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('applied');
    expect(Object.keys((h.document().agents as { entries: object }).entries)).toEqual(['ops']);
  });

  it('hard-block mode refuses removing an agent, naming the agent', async () => {
    const h = await installation({
      policyEdit: (policy) => {
        policy.mode = 'hard-block';
      },
    });
    const before = h.documentText();
    const reply = await propose(h, { patch: { agents: { entries: { main: null } } } });
    expect(reply.status).toBe(403);
    expect(reply.body.error.code).toBe('blocked');
    expect(reply.body.error.paths).toContain('agents.entries.main');
    expect(h.documentText()).toBe(before);
  });

  it('making the legacy agent list plain counts as removing every agent in it', async () => {
    const legacy = fixture('openclaw.legacy.json');
    const h = await installation({ document: legacy });
    const list = (legacy.agents as { list: Array<{ id: string }> }).list;
    // A duplicate id makes the list plain: every agent in it counts as removed.
    const reply = await propose(h, { patch: { agents: { list: [...list, { id: 'main', model: 'x' }] } } });
    expect(reply.status).toBe(202);
    const paths = (reply.body.proposal.changes as Change[]).map((change) => change.path);
    expect(paths).toEqual(expect.arrayContaining(['agents.list[id=main]', 'agents.list[id=ops]']));
  });
});
