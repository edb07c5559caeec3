/**
 * Events and webhooks (SPEC §8) with real parts: the event stream is read over a real socket,
 * and webhooks are delivered to real HTTP servers on 127.0.0.1 whose received bytes are checked
 * against an HMAC computed here.
 */
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { WebhookSettings } from '../../src/core/settings.js';
import { retryDelayMs, signBody, verifySignature, webhookBody } from '../../src/core/webhooks.js';
import { buildApp } from '../../src/http/app.js';
import { loadSettings, openService, SetupError } from '../../src/service/context.js';
import type { WebhookOptions } from '../../src/service/webhooks.js';
import { type Answer, type Received, readSse, until, webhookReceiver, writeWebhooks } from '../support/events.js';
import { type Harness, installation } from '../support/harness.js';

const portChange = { gateway: { port: 18790 } };
const botToken = '999999999:AAFreshTelegramTokenNeverShown0000';

async function propose(
  h: { request: Harness['request']; currentHash: () => string; agentToken: string },
  patch: unknown,
) {
  const response = await h.request('POST', '/v1/proposals', h.agentToken, { baseHash: h.currentHash(), patch });
  expect(response.statusCode).toBe(202);
  return response.json().proposal as { id: string; patchHash: string };
}

const listenerCount = (h: Harness) =>
  (['proposal.created', 'proposal.resolved', 'change.applied'] as const).reduce(
    (sum, event) => sum + h.service.events.listenerCount(event),
    0,
  );

describe('GET /v1/events: Server-Sent Events for owners', () => {
  it('401 without a token, 403 for an agent', async () => {
    const h = await installation();
    const anonymous = await h.request('GET', '/v1/events', null);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('unauthorized');
    const agent = await h.request('GET', '/v1/events', h.agentToken);
    expect(agent.statusCode).toBe(403);
    expect(agent.json().error.code).toBe('forbidden');
  });

  it('streams proposal.created, proposal.resolved and change.applied over a real socket, redacted', async () => {
    const h = await installation();
    const base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const baseline = listenerCount(h);
    const stream = await readSse(base, h.ownerToken);
    expect(stream.response.statusCode).toBe(200);
    expect(stream.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.response.headers['cache-control']).toContain('no-cache');
    await until('the connected comment', () => stream.comments.length > 0);

    const card = await propose(h, { channels: { telegram: { botToken } }, ...portChange });
    const created = await until('proposal.created', () => stream.events.find((e) => e.event === 'proposal.created'));
    expect(created.data).toMatchObject({ id: card.id, status: 'pending' });
    expect(JSON.stringify(created.data)).toContain('[redacted]');

    const approved = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(approved.statusCode).toBe(200);
    const applied = await until('change.applied', () => stream.events.find((e) => e.event === 'change.applied'));
    expect(applied.data).toMatchObject({ target: 'openclaw', hash: h.currentHash(), proposal: { id: card.id } });
    const resolved = stream.events.find((e) => e.event === 'proposal.resolved');
    expect(resolved?.data).toMatchObject({ id: card.id, status: 'applied' });

    const second = await propose(h, { gateway: { port: 18791 } });
    await h.request('POST', `/v1/proposals/${second.id}/deny`, h.ownerToken, { reason: 'no' });
    const denied = await until('the denial', () =>
      stream.events.find((e) => e.event === 'proposal.resolved' && (e.data as { id: string }).id === second.id),
    );
    expect(denied.data).toMatchObject({ status: 'denied', resolution: { reason: 'no' } });

    // Ids increase; no secret ever crossed the stream.
    const ids = stream.events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(JSON.stringify(stream.events)).not.toContain(botToken);

    // Disconnecting removes every listener the stream added.
    expect(listenerCount(h)).toBe(baseline + 3);
    stream.close();
    await until('listeners removed', () => listenerCount(h) === baseline);
  });

  it('sends a heartbeat comment, and closing the server ends open streams', async () => {
    const h = await installation();
    const app = await buildApp(h.service, {
      logRequests: false,
      rateLimit: false,
      webhooks: false,
      eventHeartbeatMs: 50,
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const baseline = listenerCount(h);
    const stream = await readSse(base, h.ownerToken);
    await until('two heartbeats', () => stream.comments.filter((c) => c === 'heartbeat').length >= 2, 3000);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await until('the stream to end', () => stream.ended());
    expect(listenerCount(h)).toBe(baseline);
  });
});

// ------------------------------------------------------------------ webhooks

// A path with a secret in it, as hosted webhook URLs often have: it must not reach the delivery log.
const receiver = (answer?: (attempt: number) => Answer) =>
  webhookReceiver({ path: '/hooks/s3cr3t-path-token', answer });

const fast: WebhookOptions = { attempts: 4, baseDelayMs: 60, maxDelayMs: 1000, timeoutMs: 2000, random: () => 0 };

/**
 * The harness's installation, with webhooks written into DATA/countersign.json and a second
 * service and app opened on it (the harness's own app has no webhooks), with fast retries.
 */
async function withWebhooks(webhooks: WebhookSettings[], options: WebhookOptions = fast) {
  const h = await installation();
  writeWebhooks(h.dir, webhooks);
  const service = openService(h.dir, { now: h.clock.now });
  const app = await buildApp(service, { logRequests: false, rateLimit: false, webhooks: options });
  onTestFinished(async () => {
    await app.close();
    service.close();
  });
  const dispatcher = app.webhooks;
  if (!dispatcher) throw new Error('no webhook dispatcher');
  return {
    h,
    service,
    app,
    dispatcher,
    agentToken: h.agentToken,
    currentHash: h.currentHash,
    request: (method: string, url: string, token: string | null, body?: unknown) =>
      app.inject({
        method: method as 'POST',
        url,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
        payload: body === undefined ? undefined : JSON.stringify(body),
      }),
  };
}

/** The receiver's check, written independently of src/: hex HMAC-SHA256 of the raw body. */
function expectSigned(delivery: Received, secret: string): void {
  const expected = `sha256=${createHmac('sha256', secret).update(delivery.body).digest('hex')}`;
  expect(delivery.headers['x-countersign-signature']).toBe(expected);
  expect(verifySignature(secret, delivery.body, delivery.headers['x-countersign-signature'] as string)).toBe(true);
}

describe('webhooks: signed, filtered, retried, logged, never in the way', () => {
  const secret = 'whsec_0123456789abcdef';

  it('delivers each event to each matching webhook, signed with its secret, secrets redacted', async () => {
    const all = await receiver();
    const appliedOnly = await receiver();
    const w = await withWebhooks([
      { url: all.url, secret },
      { url: appliedOnly.url, secret: 'another-secret-of-16+', events: ['change.applied'] },
    ]);
    const card = await propose(w, { channels: { telegram: { botToken } }, ...portChange });
    const approved = await w.request('POST', `/v1/proposals/${card.id}/approve`, w.h.ownerToken, {
      patchHash: card.patchHash,
    });
    expect(approved.statusCode).toBe(200);
    await w.dispatcher.idle();

    expect(all.received.map((r) => r.headers['x-countersign-event']).sort()).toEqual([
      'change.applied',
      'proposal.created',
      'proposal.resolved',
    ]);
    for (const delivery of all.received) {
      expectSigned(delivery, secret);
      expect(
        verifySignature('not-the-secret-at-all', delivery.body, delivery.headers['x-countersign-signature'] as string),
      ).toBe(false);
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.headers['user-agent']).toMatch(/^countersign\//);
      const body = JSON.parse(delivery.body) as { id: string; event: string; createdAt: string; data: unknown };
      expect(body.event).toBe(delivery.headers['x-countersign-event']);
      expect(body.id).toBe(delivery.headers['x-countersign-delivery']);
      expect(Date.parse(body.createdAt)).not.toBeNaN();
      expect(delivery.body).not.toContain(botToken);
    }
    const created = JSON.parse(
      all.received.find((r) => r.headers['x-countersign-event'] === 'proposal.created')?.body ?? '{}',
    );
    expect(created.data).toMatchObject({ id: card.id, status: 'pending', tier: 'protected' });
    expect(JSON.stringify(created.data)).toContain('[redacted]');

    expect(appliedOnly.received).toHaveLength(1);
    expectSigned(appliedOnly.received[0] as Received, 'another-secret-of-16+');
    expect(JSON.parse(appliedOnly.received[0]?.body ?? '{}').data).toMatchObject({
      target: 'openclaw',
      hash: w.h.currentHash(),
      proposal: { id: card.id, status: 'applied' },
    });

    const log = w.dispatcher.deliveries.list();
    expect(log).toHaveLength(4);
    for (const entry of log) {
      expect(entry).toMatchObject({ status: 'delivered', attempts: 1, lastStatus: 204, proposalId: card.id });
      // Only the origin is logged: the secret path of the URL is not.
      expect(entry.origin).toBe(`http://127.0.0.1:${entry.webhook === 0 ? all.port : appliedOnly.port}`);
    }
    for (const file of ['countersign.db', 'countersign.db-wal']) {
      expect(readFileSync(join(w.h.dir, file)).toString('latin1')).not.toContain('s3cr3t-path-token');
    }
  });

  it('a failing receiver is retried with backoff while the decision succeeds at once', async () => {
    // The first attempt hangs for a second and fails; the second fails fast; the third succeeds.
    const flaky = await receiver((attempt) =>
      attempt === 1 ? { status: 503, delayMs: 1000 } : attempt === 2 ? { status: 500 } : { status: 200 },
    );
    const w = await withWebhooks([{ url: flaky.url, secret, events: ['change.applied'] }]);
    const card = await propose(w, portChange);

    const started = Date.now();
    const approved = await w.request('POST', `/v1/proposals/${card.id}/approve`, w.h.ownerToken, {
      patchHash: card.patchHash,
    });
    const took = Date.now() - started;
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'applied' });
    // Well under the receiver's one-second hang: the decision did not wait for the delivery.
    expect(took).toBeLessThan(900);
    expect((w.h.document().gateway as { port: number }).port).toBe(18790);
    // The delivery is still under way when the decision has already been answered.
    expect(flaky.received.length).toBeLessThanOrEqual(1);
    await until('the first attempt', () => flaky.received.length === 1);
    const pending = w.dispatcher.deliveries.list()[0];
    expect(pending).toMatchObject({ status: 'pending' });

    await w.dispatcher.idle();
    expect(flaky.received).toHaveLength(3);
    // Retries are the same delivery: same id, same bytes, same signature.
    const [first, second, third] = flaky.received as [Received, Received, Received];
    for (const retry of [second, third]) {
      expect(retry.body).toBe(first.body);
      expect(retry.headers['x-countersign-delivery']).toBe(first.headers['x-countersign-delivery']);
      expectSigned(retry, secret);
    }
    // Backoff: 60 ms after the first failure, then 120 ms (the first failure took ~1 s to arrive).
    expect(second.at - first.at).toBeGreaterThanOrEqual(1000 + 60 - 20);
    expect(third.at - second.at).toBeGreaterThanOrEqual(120 - 20);

    const [entry] = w.dispatcher.deliveries.list();
    expect(entry).toMatchObject({ status: 'delivered', attempts: 3, lastStatus: 200, event: 'change.applied' });
    const attempts = w.dispatcher.deliveries.attempts(entry?.id ?? '');
    expect(attempts.map((a) => a.status)).toEqual([503, 500, 200]);
    expect(attempts[0]?.error).toContain('503');
    expect(attempts[0]?.durationMs).toBeGreaterThanOrEqual(900);
  });

  it('gives up after a bounded number of attempts; refused connections and redirects are failures', async () => {
    const broken = await receiver(() => ({ status: 500 }));
    const redirecting = await receiver(() => ({ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }));
    // Nothing listens on this port.
    const refused = `http://127.0.0.1:${await freePort()}/gone`;
    const w = await withWebhooks([
      { url: broken.url, secret, events: ['proposal.created'] },
      { url: redirecting.url, secret, events: ['proposal.created'] },
      { url: refused, secret, events: ['proposal.created'] },
    ]);

    const response = await w.request('POST', '/v1/proposals', w.agentToken, {
      baseHash: w.currentHash(),
      patch: portChange,
    });
    expect(response.statusCode).toBe(202);
    await w.dispatcher.idle();

    expect(broken.received).toHaveLength(4);
    expect(redirecting.received).toHaveLength(4);
    const log = w.dispatcher.deliveries.list();
    expect(log.map((entry) => [entry.webhook, entry.status, entry.attempts])).toEqual([
      [0, 'failed', 4],
      [1, 'failed', 4],
      [2, 'failed', 4],
    ]);
    expect(log[0]?.lastError).toContain('500');
    expect(log[1]?.lastStatus).toBe(302);
    expect(log[2]?.lastStatus).toBeNull();
    expect(log[2]?.lastError).toBeTruthy();
  });

  it('stopping the server gives up the retries it was waiting for, and logs them as failed', async () => {
    const broken = await receiver(() => ({ status: 500 }));
    const w = await withWebhooks([{ url: broken.url, secret }], { ...fast, baseDelayMs: 60_000 });
    await propose(w, portChange);
    await until('the first attempt', () => w.dispatcher.deliveries.list()[0]?.attempts === 1);
    const started = Date.now();
    await w.app.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(w.dispatcher.deliveries.list()[0]).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: 'the server stopped before the next attempt',
    });
  });

  it('settings: webhooks default to none; a bad URL or a short secret stops start-up naming the field', async () => {
    const h = await installation();
    expect(loadSettings(h.dir).webhooks).toEqual([]);
    const file = join(h.dir, 'countersign.json');
    const settings = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...settings, webhooks: [{ url: 'file:///etc/passwd', secret: 'short' }] }));
    expect(() => loadSettings(h.dir)).toThrow(SetupError);
    expect(() => loadSettings(h.dir)).toThrow(/webhooks\[0\]\.url[\s\S]*webhooks\[0\]\.secret/);
    writeFileSync(
      file,
      JSON.stringify({ ...settings, webhooks: [{ url: 'https://example.test/h', secret, events: ['nope'] }] }),
    );
    expect(() => loadSettings(h.dir)).toThrow(/webhooks\[0\]\.events\[0\]/);
  });

  it('core: signature, body and backoff', () => {
    // RFC 4231 test case 2 ("Jefe"), as the header would carry it.
    expect(signBody('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(verifySignature('Jefe', 'what do ya want for nothing?', 'sha256=00')).toBe(false);
    expect(verifySignature('Jefe', 'what do ya want for nothing?', undefined)).toBe(false);
    expect(JSON.parse(webhookBody({ id: 'd1', event: 'proposal.created', createdAt: 'now', data: { a: 1 } }))).toEqual({
      id: 'd1',
      event: 'proposal.created',
      createdAt: 'now',
      data: { a: 1 },
    });
    const policy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 5000 };
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(policy, attempt))).toEqual([1000, 2000, 4000, 5000, null]);
    expect(retryDelayMs(policy, 1, 0.999)).toBeLessThanOrEqual(1250);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
