import { describe, expect, it } from 'vitest';
import { fixture, installation } from '../support/harness.js';

const mcpOn = { commands: { mcp: true } };
const thinkingHigh = { agents: { defaults: { thinkingDefault: 'high' } } };

describe('POST /v1/proposals outcomes', () => {
  it('unchanged: a patch that changes nothing writes nothing', async () => {
    const h = await installation();
    const before = h.documentText();
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { commands: { mcp: false } },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'unchanged', hash: h.currentHash() });
    expect(h.documentText()).toBe(before);
    expect(h.auditKinds()).not.toContain('proposal.created');
  });

  it('applied: an allowlisted change is written at once and audited with its reason', async () => {
    const h = await installation();
    const base = h.currentHash();
    const response = await h.request('POST', '/v1/proposals', h.agentToken, { baseHash: base, patch: thinkingHigh });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.status).toBe('applied');
    expect(body.hash).toBe(h.currentHash());
    expect(body.hash).not.toBe(base);
    expect(body.proposal).toMatchObject({
      status: 'applied',
      tier: 'allowlisted',
      baseHash: base,
      targetHash: body.hash,
    });
    expect(body.proposal.changes).toEqual([
      expect.objectContaining({
        path: 'agents.defaults.thinkingDefault',
        op: 'replace',
        before: 'low',
        after: 'high',
        tier: 'allowlisted',
      }),
    ]);
    expect((h.document().agents as { defaults: { thinkingDefault: string } }).defaults.thinkingDefault).toBe('high');
    const applied = h.service.audit.list().find((event) => event.kind === 'change.applied');
    expect(applied).toMatchObject({
      proposalId: body.proposal.id,
      tier: 'allowlisted',
      stepUp: 'none',
      targetHash: body.hash,
    });
    expect(applied?.details.why).toMatch(/allowlist/);
  });

  it('pending: a dangerous change waits for an owner and shows the exact card', async () => {
    const h = await installation();
    const before = h.documentText();
    const base = h.currentHash();
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: base,
      patch: mcpOn,
      reason: 'Owner asked to enable MCP',
      sessionKey: 'session-1',
    });
    expect(response.statusCode).toBe(202);
    const { status, proposal } = response.json();
    expect(status).toBe('pending');
    expect(proposal).toMatchObject({
      target: 'openclaw',
      status: 'pending',
      tier: 'dangerous',
      requestedBy: { role: 'agent', name: 'main', agentId: 'main', sessionKey: 'session-1', surface: null },
      reason: 'Owner asked to enable MCP',
      baseHash: base,
      // OpenClaw 2026.9.6 applies `commands.*` without restarting (its reload plan, policies/openclaw.json `reload`).
      restartRequired: false,
      review: { mcp: [] },
      resolution: null,
      operations: [{ op: 'replace', path: '/commands/mcp', value: true }],
    });
    expect(proposal.changes).toEqual([
      expect.objectContaining({
        path: 'commands.mcp',
        op: 'replace',
        before: false,
        after: true,
        tier: 'dangerous',
        ruleId: 'mcp-command',
        restart: false,
      }),
    ]);
    expect(proposal.changes[0].explain.length).toBeGreaterThan(20);
    expect(proposal.patchHash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(proposal.approval).toEqual({
      totp: true,
      confirmPhrase: `apply ${proposal.patchHash.slice('hmac-sha256:'.length, 'hmac-sha256:'.length + 8)}`,
      surfaces: ['cli', 'web', 'chat-dm'],
    });
    expect(Date.parse(proposal.expiresAt) - Date.parse(proposal.createdAt)).toBe(900_000);
    expect(h.documentText()).toBe(before);
  });

  it('dry-run: returns the card and stores nothing', async () => {
    const h = await installation();
    const before = h.documentText();
    const kinds = h.auditKinds();
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: mcpOn,
      dryRun: true,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'dry-run', proposal: { status: 'dry-run', tier: 'dangerous' } });
    const list = await h.request('GET', '/v1/proposals', h.ownerToken);
    expect(list.json().proposals).toEqual([]);
    expect(h.documentText()).toBe(before);
    expect(h.auditKinds()).toEqual(kinds);
  });

  it('blocked: a change a rule blocks is refused with its paths, even for owners', async () => {
    const h = await installation({
      policyEdit: (policy) => {
        (policy.rules as unknown[]).push({ id: 'no-gateway-auth', match: ['gateway.auth.**'], tier: 'blocked' });
      },
    });
    const before = h.documentText();
    for (const token of [h.agentToken, h.ownerToken]) {
      const response = await h.request('POST', '/v1/proposals', token, {
        baseHash: h.currentHash(),
        patch: { gateway: { auth: { mode: 'none' } }, agents: { defaults: { thinkingDefault: 'high' } } },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json().error).toMatchObject({ code: 'blocked', paths: ['gateway.auth.mode'] });
    }
    expect(h.documentText()).toBe(before);
    expect(h.auditKinds()).toContain('proposal.refused');
  });

  it('hard-block mode refuses anything above allowlisted and still applies the allowlist', async () => {
    const h = await installation({ policyEdit: (policy) => Object.assign(policy, { mode: 'hard-block' }) });
    const before = h.documentText();
    const refused = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { ...mcpOn, ...thinkingHigh },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: 'blocked', paths: ['commands.mcp'] });
    expect(h.documentText()).toBe(before);
    const protectedChange = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { gateway: { port: 18790 } },
    });
    expect(protectedChange.json().error.code).toBe('blocked');
    const allowed = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: thinkingHigh,
    });
    expect(allowed.json().status).toBe('applied');
  });

  it('stale_base: a proposal against an old hash is refused with the current hash', async () => {
    const h = await installation();
    const old = h.currentHash();
    await h.request('POST', '/v1/proposals', h.agentToken, { baseHash: old, patch: thinkingHigh });
    const before = h.documentText();
    const response = await h.request('POST', '/v1/proposals', h.agentToken, { baseHash: old, patch: mcpOn });
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({ code: 'stale_base', currentHash: h.currentHash() });
    expect(h.documentText()).toBe(before);
  });

  it('invalid_config: a result that fails the target JSON Schema is refused with each issue', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const schemaPath = join(tmpdir(), `countersign-schema-${process.pid}.json`);
    writeFileSync(
      schemaPath,
      JSON.stringify({
        type: 'object',
        properties: {
          gateway: { type: 'object', properties: { port: { type: 'integer', minimum: 1, maximum: 65535 } } },
        },
      }),
    );
    const h = await installation({ schema: schemaPath });
    const before = h.documentText();
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { gateway: { port: 'eighty' } },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe('invalid_config');
    expect(response.json().error.issues).toEqual([{ path: '/gateway/port', message: 'must be integer' }]);
    expect(h.documentText()).toBe(before);
  });
});

describe('patch forms', () => {
  it('RFC 6902 operations and whole-document replace produce the same card as a merge patch', async () => {
    const h = await installation();
    const base = h.currentHash();
    const merge = (
      await h.request('POST', '/v1/proposals', h.agentToken, { baseHash: base, patch: mcpOn, dryRun: true })
    ).json();
    const operations = (
      await h.request('POST', '/v1/proposals', h.agentToken, {
        baseHash: base,
        operations: [
          { op: 'test', path: '/commands/mcp', value: false },
          { op: 'replace', path: '/commands/mcp', value: true },
        ],
        dryRun: true,
      })
    ).json();
    // An agent replaces with what it can read: the redacted document, its placeholders keeping the secrets.
    const document = (await h.request('GET', '/v1/config', h.agentToken)).json().config;
    (document.commands as Record<string, unknown>).mcp = true;
    const replaced = (
      await h.request('POST', '/v1/proposals', h.agentToken, { baseHash: base, replace: document, dryRun: true })
    ).json();
    for (const result of [operations, replaced]) {
      expect(result.proposal.patchHash).toBe(merge.proposal.patchHash);
      expect(result.proposal.targetHash).toBe(merge.proposal.targetHash);
      expect(result.proposal.changes).toEqual(merge.proposal.changes);
    }
  });

  it('merges id-keyed arrays by id (legacy agents.list) and classifies per agent', async () => {
    const h = await installation({ document: fixture('openclaw.legacy.json') });
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { agents: { list: [{ id: 'ops', model: 'anthropic/claude-sonnet-4-6' }] } },
    });
    expect(response.json().status).toBe('applied');
    const list = (h.document().agents as { list: Array<Record<string, unknown>> }).list;
    expect(list.map((agent) => agent.id)).toEqual(['main', 'ops']);
    expect(list[1]).toMatchObject({ id: 'ops', model: 'anthropic/claude-sonnet-4-6', sandbox: { mode: 'all' } });
    expect(response.json().proposal.changes.map((change: { path: string }) => change.path)).toEqual([
      'agents.list[id=ops].model',
    ]);

    const removal = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { agents: { list: [{ id: 'main', default: true, model: 'anthropic/claude-sonnet-4-6' }] } },
      replacePaths: ['agents.list'],
    });
    expect(removal.statusCode).toBe(202);
    const paths = removal
      .json()
      .proposal.changes.map((change: { path: string; tier: string }) => `${change.path}:${change.tier}`);
    expect(paths).toContain('agents.list[id=ops].sandbox.mode:dangerous');
    expect(paths).toContain('agents.list[id=ops].id:allowlisted');
  });

  it('keeps a secret when the patch sends back the redacted placeholder, and never shows it', async () => {
    const h = await installation();
    const config = (await h.request('GET', '/v1/config', h.agentToken)).json();
    expect(config.config.gateway.auth.token).toBe('[redacted]');
    expect(config.config.channels.telegram.botToken).toBe('[redacted]');
    expect(JSON.stringify(config)).not.toContain('oc_live_');
    const edited = structuredClone(config.config);
    edited.gateway.port = 18790;
    const response = await h.request('POST', '/v1/proposals', h.agentToken, { baseHash: config.hash, replace: edited });
    expect(response.statusCode).toBe(202);
    expect(response.json().proposal.changes.map((change: { path: string }) => change.path)).toEqual(['gateway.port']);

    const rotate = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: config.hash,
      patch: { gateway: { auth: { token: 'oc_live_NEWSECRETVALUE' } } },
    });
    expect(rotate.statusCode).toBe(202);
    // The proposer's own new value is echoed to it and shown to the owner, who must see what it
    // approves (SPEC §4); the current secret never is.
    const text = rotate.body;
    expect(text).not.toContain('oc_live_7f3a9c');
    expect(rotate.json().proposal.changes[0]).toMatchObject({
      path: 'gateway.auth.token',
      before: '[redacted]',
      after: 'oc_live_NEWSECRETVALUE',
    });
    const id = rotate.json().proposal.id;
    const chat = (await h.request('GET', `/v1/proposals/${id}/card?format=markdown`, h.ownerToken)).body;
    expect(chat).toContain('gateway.auth.token');
    expect(chat).not.toContain('NEWSECRETVALUE');
    const audit = JSON.stringify(h.service.audit.list());
    expect(audit).not.toContain('NEWSECRETVALUE');
    expect(audit).not.toContain('oc_live_7f3a9c');
  });

  it('refuses a placeholder where there is no secret to keep', async () => {
    const h = await installation();
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { channels: { discord: { token: '[redacted]' } } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'invalid_patch', path: 'channels.discord.token' });
  });
});

describe('bad input gets a specific 4xx and changes nothing', () => {
  const cases: Array<{ name: string; body: unknown; status: number; code: string }> = [
    { name: 'missing baseHash', body: { patch: mcpOn }, status: 400, code: 'invalid_request' },
    { name: 'malformed baseHash', body: { baseHash: 'abc', patch: mcpOn }, status: 400, code: 'invalid_request' },
    { name: 'two patch forms', body: { patch: mcpOn, replace: {} }, status: 400, code: 'invalid_request' },
    { name: 'no patch form', body: {}, status: 400, code: 'invalid_request' },
    { name: 'unknown field', body: { patch: mcpOn, approve: true }, status: 400, code: 'invalid_request' },
    {
      name: 'operation with an unknown op',
      body: { operations: [{ op: 'delete', path: '/a' }] },
      status: 400,
      code: 'invalid_patch',
    },
    {
      name: 'failing test operation',
      body: { operations: [{ op: 'test', path: '/commands/mcp', value: true }] },
      status: 400,
      code: 'invalid_patch',
    },
    {
      name: 'unresolvable path',
      body: { operations: [{ op: 'replace', path: '/nope/deeper', value: 1 }] },
      status: 400,
      code: 'invalid_patch',
    },
    { name: 'merge patch that is not an object', body: { patch: [1, 2] }, status: 400, code: 'invalid_patch' },
    { name: 'replace with a non-object', body: { replace: 'x' }, status: 400, code: 'invalid_patch' },
    {
      name: 'constructor in an operation path',
      body: { operations: [{ op: 'add', path: '/constructor/x', value: 1 }] },
      status: 400,
      code: 'forbidden_key',
    },
    {
      name: 'escaped prototype in a path',
      body: { operations: [{ op: 'add', path: '/a/prototype', value: 1 }] },
      status: 400,
      code: 'forbidden_key',
    },
  ];
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const h = await installation();
      const before = h.documentText();
      const kinds = h.auditKinds();
      const body = { baseHash: h.currentHash(), ...(testCase.body as object) };
      if (testCase.name.startsWith('missing baseHash')) delete (body as { baseHash?: string }).baseHash;
      const response = await h.request('POST', '/v1/proposals', h.agentToken, body);
      expect(response.statusCode).toBe(testCase.status);
      expect(response.json().error.code).toBe(testCase.code);
      expect(response.json().error.message).toEqual(expect.any(String));
      expect(h.documentText()).toBe(before);
      expect(h.auditKinds()).toEqual(kinds);
    });
  }

  it('__proto__ anywhere in the raw body is forbidden_key', async () => {
    const h = await installation();
    const before = h.documentText();
    const raw = `{"baseHash":"${h.currentHash()}","patch":{"agents":{"defaults":{"__proto__":{"polluted":true}}}}}`;
    const response = await h.request('POST', '/v1/proposals', h.agentToken, raw);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'forbidden_key', key: '__proto__' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(h.documentText()).toBe(before);
  });

  it('deeply nested bodies are refused before any recursion', async () => {
    const h = await installation();
    const raw = `{"baseHash":"${h.currentHash()}","patch":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    const response = await h.request('POST', '/v1/proposals', h.agentToken, raw);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_request');
  });

  it('oversized bodies are 413', async () => {
    const h = await installation();
    const raw = JSON.stringify({ baseHash: h.currentHash(), patch: { x: 'a'.repeat(9 * 1024 * 1024) } });
    const response = await h.request('POST', '/v1/proposals', h.agentToken, raw);
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('payload_too_large');
  });

  it('invalid JSON is invalid_request', async () => {
    const h = await installation();
    const response = await h.request('POST', '/v1/proposals', h.agentToken, '{"baseHash": ');
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_request');
  });

  it('requests without a valid token are 401', async () => {
    const h = await installation();
    for (const token of [null, 'cs_agent_not-a-real-token']) {
      const response = await h.request('POST', '/v1/proposals', token, { baseHash: h.currentHash(), patch: mcpOn });
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('unauthorized');
    }
    expect((await h.request('GET', '/healthz', null)).json()).toEqual({ ok: true, version: expect.any(String) });
  });
});
