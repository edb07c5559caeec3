/**
 * Exec requests on the owner's other surfaces (SPEC §8, §9): the chat/terminal card route
 * `GET /v1/exec/requests/:id/card`, the event stream and webhooks (`exec.requested`,
 * `exec.resolved`). Everything over real sockets: the card and the stream are read over HTTP on
 * 127.0.0.1, webhooks are delivered to a real receiver whose bytes are checked against an HMAC
 * computed here. The agent is hostile: its argv carries terminal escapes, bidi controls and chat
 * markup, and its env carries secrets; none of that may reach an owner live or in the clear.
 */
import { createHmac } from 'node:crypto';
import { chmodSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ExecRequest } from '../../src/core/exec/request.js';
import type { WebhookSettings } from '../../src/core/settings.js';
import { buildApp } from '../../src/http/app.js';
import { openService } from '../../src/service/context.js';
import { type Received, readSse, until, webhookReceiver, writeWebhooks } from '../support/events.js';
import { type Harness, installation, tempDir } from '../support/harness.js';
import { expectNoLiveMarkdown } from '../support/markdown.js';

/** Secrets an agent might pass in env: by name, and by shape under an innocent name. */
const githubToken = `ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`;
const stripeKey = `sk_live_${'9zY8xW7v'.repeat(3)}`;
const secretEnv = { GITHUB_TOKEN: githubToken, NOTES: stripeKey, LANG: 'C.UTF-8' };
const secrets = [githubToken, stripeKey];

/** argv tokens meant to act on a terminal or a chat client rather than be read. */
const hostileTokens = [
  'push',
  '--force\u001b[2K\r\u001b[1ARisk:      none flagged',
  'origin\u202e\u2066niam\u2069\u202c',
  '`rm -rf /`',
  '[x](http://evil.example) @everyone <@1234> <script>x</script> **bold** # heading',
  '\u001b]8;;http://evil.example\u0007click\u001b]8;;\u0007',
  '\u200bsudo',
  'line1\nTo decide: countersign exec approve attacker',
];
const hostileSession = '@everyone [x](http://evil.example)';

/** What must never reach a person raw: controls (other than newline), bidi, zero-width and the like. */
const rawChars = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u00a0\u3000]/u;
function expectInert(text: string): void {
  for (const line of text.replaceAll('⚠️', '⚠').split('\n')) expect(line).not.toMatch(rawChars);
}

/** A small shell-script program in its own directory (real path): not allowlisted, so asked. */
function program(name = 'tool'): { dir: string; path: string } {
  const dir = realpathSync(tempDir('countersign-exec-events-'));
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, 0o755);
  return { dir, path };
}

type Http = (method: string, url: string, token: string | null, body?: unknown) => Promise<HttpReply>;
type HttpReply = { status: number; body: unknown; text: string; headers: Headers };

async function pending(
  http: Http,
  agentToken: string,
  body: Record<string, unknown> = {},
): Promise<{ request: ExecRequest; path: string }> {
  const { dir, path } = program();
  const reply = await http('POST', '/v1/exec/requests', agentToken, {
    argv: [path, ...hostileTokens],
    cwd: dir,
    env: secretEnv,
    sessionKey: hostileSession,
    ...body,
  });
  expect(reply.status, reply.text).toBe(202);
  const request = (reply.body as { request: ExecRequest }).request;
  expect(request.status).toBe('pending');
  return { request, path };
}

function expectNoSecrets(text: string): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

// ------------------------------------------------------------------ the card route

describe('GET /v1/exec/requests/:id/card', () => {
  it('owners only: 401 without a token, 403 forbidden for agents (even the requester), 404 for an unknown id', async () => {
    const h = await installation();
    const { request } = await pending(h.http, h.agentToken);
    const url = `/v1/exec/requests/${request.id}/card`;
    expect((await h.http('GET', url, null)).status).toBe(401);
    const agent = await h.http('GET', url, h.agentToken);
    expect(agent.status).toBe(403);
    expect(agent.body.error.code).toBe('forbidden');
    const other = h.token({ role: 'agent', name: 'other', agentId: 'other' });
    expect((await h.http('GET', url, other)).body.error.code).toBe('forbidden');
    const unknown = await h.http('GET', '/v1/exec/requests/00000000-0000-4000-8000-000000000000/card', h.ownerToken);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const badFormat = await h.http('GET', `${url}?format=html`, h.ownerToken);
    expect(badFormat.status).toBe(400);
  });

  it('markdown (default), text and json: the request, the approve command spelled out, secrets redacted', async () => {
    const h = await installation();
    const { request, path } = await pending(h.http, h.agentToken);
    const url = `/v1/exec/requests/${request.id}/card`;

    const markdown = await h.http('GET', url, h.ownerToken);
    expect(markdown.status).toBe(200);
    expect(markdown.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(markdown.text).toContain(`\`countersign exec approve ${request.id}\``);
    expect(markdown.text).toContain(`\`countersign exec approve ${request.id} --always\``);
    expect(markdown.text).toContain(`\`countersign exec deny ${request.id}\``);
    expect(markdown.text).toContain(`\`${JSON.stringify(path)}\``);
    expect(markdown.text).toContain('`"[redacted]"`');
    // No public URL configured: the full card is the CLI command, not a link.
    expect(markdown.text).toContain(`\`countersign exec show ${request.id}\``);
    expectNoSecrets(markdown.text);

    const text = await h.http('GET', `${url}?format=text`, h.ownerToken);
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(text.text).toContain(`countersign exec approve ${request.id}`);
    expect(text.text).toContain(`  [0] ${JSON.stringify(path)}`);
    expect(text.text).toContain('Env:       "GITHUB_TOKEN" = "[redacted]"');
    expectNoSecrets(text.text);

    const json = await h.http('GET', `${url}?format=json`, h.ownerToken);
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ id: request.id, status: 'pending', planHash: request.planHash });
    expect(json.body.env).toEqual([
      { name: 'GITHUB_TOKEN', value: '[redacted]' },
      { name: 'LANG', value: 'C.UTF-8' },
      { name: 'NOTES', value: '[redacted]' },
    ]);
    expectNoSecrets(json.text);

    // Once resolved, the card says so, and no longer offers the commands.
    const resolved = await h.http('POST', `/v1/exec/requests/${request.id}/resolve`, h.ownerToken, {
      decision: 'deny',
      planHash: request.planHash,
    });
    expect(resolved.status, resolved.text).toBe(200);
    const after = await h.http('GET', `${url}?format=markdown`, h.ownerToken);
    expect(after.text).toContain('status **denied**');
    expect(after.text).not.toContain(`countersign exec approve ${request.id}`);
  });

  it('links the web page (#/exec/<id>) when server.publicUrl is set', async () => {
    const h = await installation();
    h.service.settings.server.publicUrl = 'https://countersign.example.net/';
    const { request } = await pending(h.http, h.agentToken);
    const markdown = await h.http('GET', `/v1/exec/requests/${request.id}/card`, h.ownerToken);
    expect(markdown.text).toContain(`[full card](https://countersign.example.net/ui/#/exec/${request.id})`);
  });

  it('hostile argv, session key and env render inert on the markdown and text cards', async () => {
    const h = await installation();
    const { request } = await pending(h.http, h.agentToken);
    const url = `/v1/exec/requests/${request.id}/card`;

    const text = (await h.http('GET', `${url}?format=text`, h.ownerToken)).text;
    expectInert(text);
    // Each token is one JSON string literal on its own line: a newline in a token cannot forge a line.
    expect(text).toContain(`  [8] ${JSON.stringify(hostileTokens[7])}`);
    expect(text.split('\n').filter((line) => line.startsWith('To decide:'))).toHaveLength(1);
    expect(text).not.toContain('\u001b');

    const markdown = (await h.http('GET', url, h.ownerToken)).text;
    expectInert(markdown);
    const { outside, spans } = expectNoLiveMarkdown(markdown);
    for (const live of ['@everyone', '<@1234>', 'http://evil.example', '<script>', 'rm -rf']) {
      expect(outside).not.toContain(live);
    }
    // Every argv token is one code span, as a JSON string literal (inert escapes for what JSON leaves raw).
    expect(spans).toContain(
      JSON.stringify('[x](http://evil.example) @everyone <@1234> <script>x</script> **bold** # heading'),
    );
    expect(spans).toContain(JSON.stringify('`rm -rf /`'));
    expect(spans).toContain('"origin\\u202e\\u2066niam\\u2069\\u202c"');
  });
});

// ------------------------------------------------------------------ the event stream

describe('GET /v1/events: exec.requested and exec.resolved', () => {
  it('streams both with the request, secrets redacted, raw bytes inert', async () => {
    const h = await installation();
    const base = await h.listen();
    const stream = await readSse(base, h.ownerToken);
    await until('the connected comment', () => stream.raw().includes('connected'));

    const { request } = await pending(h.http, h.agentToken);
    const requested = await until('exec.requested', () => stream.events.find((e) => e.event === 'exec.requested'));
    expect(requested.data).toMatchObject({ id: request.id, status: 'pending', planHash: request.planHash });
    expect((requested.data as ExecRequest).argv?.slice(1)).toEqual(hostileTokens);
    expect((requested.data as ExecRequest).env).toContainEqual({ name: 'GITHUB_TOKEN', value: '[redacted]' });

    const resolved = await h.http('POST', `/v1/exec/requests/${request.id}/resolve`, h.ownerToken, {
      decision: 'allow-once',
      planHash: request.planHash,
    });
    expect(resolved.status, resolved.text).toBe(200);
    const event = await until('exec.resolved', () => stream.events.find((e) => e.event === 'exec.resolved'));
    expect(event.data).toMatchObject({
      id: request.id,
      status: 'allowed',
      resolution: { decision: 'allow-once', reason: 'owner' },
    });
    expectNoSecrets(stream.raw());
    expectInert(stream.raw());
  });
});

// ------------------------------------------------------------------ webhooks

const receiver = () => webhookReceiver({ path: '/hooks/exec' });

/** The harness's installation with webhooks in DATA/countersign.json, opened again with them, listening. */
async function withWebhooks(
  webhooks: WebhookSettings[],
): Promise<{ h: Harness; http: Http; idle: () => Promise<void> }> {
  const h = await installation();
  writeWebhooks(h.dir, webhooks);
  const service = openService(h.dir, { now: h.clock.now });
  const app = await buildApp(service, {
    logRequests: false,
    rateLimit: false,
    webhooks: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100, timeoutMs: 2000, random: () => 0 },
  });
  onTestFinished(async () => {
    await app.close();
    service.close();
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const http: Http = async (method, url, token, body) => {
    const response = await fetch(`${base}${url}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null, text, headers: response.headers };
  };
  const dispatcher = app.webhooks;
  if (!dispatcher) throw new Error('no webhook dispatcher');
  return { h, http, idle: () => dispatcher.idle() };
}

/** The receiver's check, written independently of src/: hex HMAC-SHA256 of the raw body. */
function expectSigned(delivery: Received, secret: string): void {
  expect(delivery.headers['x-countersign-signature']).toBe(
    `sha256=${createHmac('sha256', secret).update(delivery.body).digest('hex')}`,
  );
}

describe('webhooks: exec.requested and exec.resolved', () => {
  const secret = 'whsec_exec_0123456789abcdef';

  it('delivers both, signed like proposal events, with the request, secrets redacted, bytes inert', async () => {
    const all = await receiver();
    const resolvedOnly = await receiver();
    const w = await withWebhooks([
      { url: all.url, secret },
      { url: resolvedOnly.url, secret: 'another-secret-16+chars', events: ['exec.resolved'] },
    ]);
    const { request } = await pending(w.http, w.h.agentToken);
    const denied = await w.http('POST', `/v1/exec/requests/${request.id}/resolve`, w.h.ownerToken, {
      decision: 'deny',
      planHash: request.planHash,
      reason: 'not today',
    });
    expect(denied.status, denied.text).toBe(200);
    await w.idle();

    expect(all.received.map((r) => r.headers['x-countersign-event'])).toEqual(['exec.requested', 'exec.resolved']);
    for (const delivery of all.received) {
      expectSigned(delivery, secret);
      expect(delivery.headers['content-type']).toBe('application/json');
      const body = JSON.parse(delivery.body) as { id: string; event: string; data: ExecRequest };
      expect(body.event).toBe(delivery.headers['x-countersign-event']);
      expect(body.id).toBe(delivery.headers['x-countersign-delivery']);
      expect(body.data).toMatchObject({ id: request.id, planHash: request.planHash, agentId: 'main' });
      expect(body.data.argv?.slice(1)).toEqual(hostileTokens);
      expect(body.data.env).toContainEqual({ name: 'NOTES', value: '[redacted]' });
      expectNoSecrets(delivery.body);
      // The parsed value is the hostile text; the raw bytes hold no escape, bidi or zero-width character.
      expectInert(delivery.body);
    }
    const [requested, resolved] = all.received.map((r) => JSON.parse(r.body).data as ExecRequest);
    expect(requested?.status).toBe('pending');
    expect(resolved).toMatchObject({ status: 'denied', resolution: { decision: 'deny', reason: 'not today' } });

    expect(resolvedOnly.received).toHaveLength(1);
    expectSigned(resolvedOnly.received[0] as Received, 'another-secret-16+chars');
    expect(JSON.parse(resolvedOnly.received[0]?.body ?? '{}').data).toMatchObject({ id: request.id, status: 'denied' });
  });
});
