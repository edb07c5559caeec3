import { afterEach, describe, expect, it } from 'vitest';
import type { Card } from '../../src/core/card.js';
import { loggingService } from '../support/events.js';
import { tempDir } from '../support/harness.js';
import { envReportingServer, loopbackServer, mcpInstallation, ref } from './support.js';

// Literal secrets written straight into the config: the worst case the card must still hide.
const ENV_SECRET = 'env-secret-value-Zq81xPw4';
const HEADER_SECRET = 'header-secret-Yt62wMv9';
// A secret that stays in the service's environment and only reaches the server at start.
const RESOLVED_SECRET = 'resolved-secret-Kp33vNq7';

afterEach(() => {
  delete process.env.SMOKE_RESOLVED_SECRET;
});

describe('no env or header value appears in anything countersign shows or records', () => {
  it('cards (JSON, text, markdown), list, smoke tests, approval, config, audit, events and logs', async () => {
    process.env.SMOKE_RESOLVED_SECRET = RESOLVED_SECRET;
    const seen: string[] = [];
    const url = await loopbackServer(seen);
    const dir = tempDir();
    const script = envReportingServer(dir);
    const h = await mcpInstallation();

    // A second service on the same installation, with a logger that keeps every line and request logs on.
    const { service, app, logs } = await loggingService(h.dir, h.clock.now, { logRequests: true, rateLimit: false });
    const events: unknown[] = [];
    for (const name of ['proposal.created', 'proposal.resolved', 'change.applied'] as const) {
      service.events.on(name, (payload: unknown) => events.push(payload));
    }
    // SPEC §4: the card (JSON and terminal text, for owners and the proposing agent) shows the
    // values the proposer wrote itself; everything else — chat cards, config reads, smoke tests,
    // audit, events, logs — never shows them.
    const outputs: string[] = [];
    const cardViews: string[] = [];
    const call = async (
      method: string,
      path: string,
      token: string,
      body?: unknown,
      view: 'card' | 'other' = 'other',
    ) => {
      const response = await app.inject({
        method: method as 'GET',
        url: path,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        payload: body === undefined ? undefined : JSON.stringify(body),
      });
      (view === 'card' ? cardViews : outputs).push(`${method} ${path} → ${response.statusCode}\n${response.body}`);
      return response;
    };

    const base = (await call('GET', '/v1/config', h.agentToken)).json().hash as string;
    const proposed = await call(
      'POST',
      '/v1/proposals',
      h.agentToken,
      {
        baseHash: base,
        patch: {
          mcp: {
            servers: {
              local: {
                command: process.execPath,
                args: [script],
                cwd: dir,
                env: { ACME_TOKEN: ENV_SECRET, RESOLVED: ref('SMOKE_RESOLVED_SECRET') },
              },
              remote: {
                url,
                transport: 'streamable-http',
                headers: { Authorization: `Bearer ${HEADER_SECRET}`, 'X-Api-Key': ref('SMOKE_RESOLVED_SECRET') },
              },
            },
          },
        },
      },
      'card',
    );
    expect(proposed.statusCode, proposed.body).toBe(202);
    const card = proposed.json().proposal as Card;
    // The review does its job: it sees both literal secrets without showing them.
    expect(card.review.mcp.flatMap((review) => review.warnings.map((w) => w.code))).toEqual(
      expect.arrayContaining(['literal_secret_env']),
    );
    expect(card.review.mcp[1]?.headers).toEqual([
      { name: 'Authorization', reference: false },
      { name: 'X-Api-Key', reference: true, reads: 'SMOKE_RESOLVED_SECRET' },
    ]);

    const local = await call('POST', `/v1/proposals/${card.id}/smoke-test?server=local`, h.ownerToken);
    expect(local.statusCode, local.body).toBe(200);
    // The server repeated its ACME_TOKEN in a tool description; it comes back redacted.
    expect(local.json().tools).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'leak', description: 'token is [redacted]' })]),
    );
    const remote = await call('POST', `/v1/proposals/${card.id}/smoke-test`, h.ownerToken, { server: 'remote' });
    expect(remote.statusCode, remote.body).toBe(200);
    expect(remote.json().tools).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'echo_auth', description: 'auth [redacted]' })]),
    );
    expect(seen).toContain(RESOLVED_SECRET); // the server really got the resolved value

    await call('GET', `/v1/proposals/${card.id}`, h.ownerToken, undefined, 'card');
    await call('GET', `/v1/proposals/${card.id}`, h.agentToken, undefined, 'card');
    await call('GET', '/v1/proposals', h.ownerToken, undefined, 'card');
    await call('GET', '/v1/proposals?status=pending', h.agentToken, undefined, 'card');
    for (const format of ['json', 'text']) {
      await call('GET', `/v1/proposals/${card.id}/card?format=${format}`, h.ownerToken, undefined, 'card');
    }
    await call('GET', `/v1/proposals/${card.id}/card?format=markdown`, h.ownerToken);
    const approved = await call(
      'POST',
      `/v1/proposals/${card.id}/approve`,
      h.ownerToken,
      { patchHash: card.patchHash, confirm: card.approval.confirmPhrase },
      'card',
    );
    expect(approved.statusCode, approved.body).toBe(200);
    await call('GET', '/v1/config', h.agentToken);
    await call('GET', '/v1/audit?limit=500', h.ownerToken);
    await call('GET', `/v1/proposals/${card.id}/card?format=text`, h.ownerToken, undefined, 'card');

    const audit = service.audit.list({ limit: 1000 });
    expect(audit.map((event) => event.kind)).toEqual(
      expect.arrayContaining(['proposal.created', 'mcp.smoke_test', 'change.applied']),
    );
    expect(events.length).toBeGreaterThan(0);
    expect(logs.length).toBeGreaterThan(0);

    const everything = [...outputs, JSON.stringify(audit), JSON.stringify(events), ...logs].join('\n');
    for (const secret of [ENV_SECRET, HEADER_SECRET, RESOLVED_SECRET]) {
      expect(everything.includes(secret), `found ${secret}`).toBe(false);
    }
    // The owner approved a literal secret the agent wrote: they saw it on the card; the value the
    // service's own environment supplies never appears at all.
    const cards = cardViews.join('\n');
    expect(cards).toContain(ENV_SECRET);
    expect(cards.includes(RESOLVED_SECRET)).toBe(false);
    // …while the document, which the platform needs, has them (the service is its only writer).
    expect(h.documentText()).toContain(ENV_SECRET);
    expect(h.documentText()).toContain(HEADER_SECRET);
  });
});
