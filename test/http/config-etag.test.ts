import { createHash, createHmac } from 'node:crypto';
import { renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { canonical } from '../../src/core/hash.js';
import { documentCacheTuning } from '../../src/service/document.js';
import { type Harness, installation } from '../support/harness.js';

const secret = 'oc_live_7f3a9c2e5b1d4f60a8e2c7b9d1f3a5c7';

type Reply = { status: number; text: string; headers: Headers };

/** GET /v1/config over a real socket, with the caller's own headers (the harness `http` sends none). */
async function getConfig(h: Harness, headers: Record<string, string> = {}, query = '', token = h.agentToken) {
  const response = await fetch(`${await h.listen()}/v1/config${query}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return { status: response.status, text: await response.text(), headers: response.headers } satisfies Reply;
}

async function approvePortChange(h: Harness, port: number): Promise<void> {
  const proposed = await h.http('POST', '/v1/proposals', h.agentToken, {
    baseHash: h.currentHash(),
    patch: { gateway: { port } },
    reason: 'move the gateway',
  });
  expect(proposed.status).toBe(202);
  const card = proposed.body.proposal as { id: string; patchHash: string };
  const approved = await h.http('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
    patchHash: card.patchHash,
  });
  expect(approved.status).toBe(200);
}

/** Rewrites the file in place with text of exactly the same length, and puts its mtime back. */
function rewriteSameSize(h: Harness, from: string, to: string, mtime?: Date): void {
  expect(to.length).toBe(from.length);
  const before = statSync(h.configPath);
  const text = h.documentText();
  expect(text).toContain(from);
  writeFileSync(h.configPath, text.replace(from, to));
  utimesSync(h.configPath, before.atime, mtime ?? before.mtime);
  const after = statSync(h.configPath);
  expect(after.size).toBe(before.size);
  expect(after.ino).toBe(before.ino);
}

afterEach(() => {
  documentCacheTuning.settleMs = 2000;
});

describe('GET /v1/config: ETag and If-None-Match', () => {
  it('answers 200 with a strong ETag and private, no-cache; the body keeps its contract shape, redacted', async () => {
    const h = await installation();
    const reply = await getConfig(h);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(reply.headers.get('cache-control')).toBe('private, no-cache');
    const etag = reply.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const body = JSON.parse(reply.text);
    expect(Object.keys(body)).toEqual(['target', 'hash', 'config']);
    expect(body).toMatchObject({ target: 'openclaw', hash: h.currentHash() });
    expect(body.config.gateway.auth.token).toBe('[redacted]');
    expect(reply.text).not.toContain(secret);
    // Redaction does not depend on the caller: owners get the same bytes and the same tag.
    const owner = await getConfig(h, {}, '', h.ownerToken);
    expect(owner.text).toBe(reply.text);
    expect(owner.headers.get('etag')).toBe(etag);
  });

  it('answers 304 with no body when If-None-Match names the current tag (also weak, listed or *)', async () => {
    const h = await installation();
    const etag = (await getConfig(h)).headers.get('etag') as string;
    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const reply = await getConfig(h, { 'if-none-match': header });
      expect(reply.status).toBe(304);
      expect(reply.text).toBe('');
      expect(reply.headers.get('etag')).toBe(etag);
      expect(reply.headers.get('cache-control')).toBe('private, no-cache');
    }
    // HEAD (fastify's, from the GET route) carries the same validator.
    const head = await fetch(`${await h.listen()}/v1/config`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${h.agentToken}`, 'if-none-match': etag },
    });
    expect(head.status).toBe(304);
    expect(head.headers.get('etag')).toBe(etag);
    // Nothing about the document is answered before authentication.
    const anonymous = await fetch(`${await h.listen()}/v1/config`, { headers: { 'if-none-match': etag } });
    expect(anonymous.status).toBe(401);
  });

  it('changes after an apply: the old tag gets the new document', async () => {
    const h = await installation();
    const before = await getConfig(h);
    const etag = before.headers.get('etag') as string;
    await approvePortChange(h, 18790);
    const after = await getConfig(h, { 'if-none-match': etag });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(JSON.parse(after.text)).toMatchObject({ hash: h.currentHash(), config: { gateway: { port: 18790 } } });
  });

  it('sees an outside edit of the same size with the same mtime on the next request, and records the drift', async () => {
    const h = await installation();
    const etag = (await getConfig(h)).headers.get('etag') as string;
    rewriteSameSize(h, '"port": 18789', '"port": 18788');
    const after = await getConfig(h, { 'if-none-match': etag });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(JSON.parse(after.text)).toMatchObject({ hash: h.currentHash(), config: { gateway: { port: 18788 } } });
    expect(h.auditKinds()).toContain('config.drift');
  });

  it('trusting the stamp alone (settled file): an in-place edit with another mtime, or an atomic rename, is seen', async () => {
    documentCacheTuning.settleMs = 0;
    const h = await installation();
    const first = (await getConfig(h)).headers.get('etag') as string;
    expect((await getConfig(h, { 'if-none-match': first })).status).toBe(304);
    // Same size and inode; only the clocks differ.
    rewriteSameSize(h, '"port": 18789', '"port": 18788', new Date('2020-01-01T00:00:00Z'));
    const second = await getConfig(h, { 'if-none-match': first });
    expect(second.status).toBe(200);
    expect(JSON.parse(second.text).config.gateway.port).toBe(18788);
    const etag = second.headers.get('etag') as string;
    // An editor's atomic save: a new inode, even if size and mtime were kept.
    const old = statSync(h.configPath);
    const temporary = `${h.configPath}.editor`;
    writeFileSync(temporary, h.documentText().replace('"port": 18788', '"port": 18787'));
    utimesSync(temporary, old.atime, old.mtime);
    renameSync(temporary, h.configPath);
    const third = await getConfig(h, { 'if-none-match': etag });
    expect(third.status).toBe(200);
    expect(JSON.parse(third.text)).toMatchObject({ hash: h.currentHash(), config: { gateway: { port: 18787 } } });
  });

  it('differs per target, and one target’s tag never matches another', async () => {
    const h = await installation();
    const openclaw = await getConfig(h, {}, '?target=openclaw');
    const exec = await getConfig(h, {}, '?target=exec-approvals');
    expect(exec.status).toBe(200);
    expect(JSON.parse(exec.text).target).toBe('exec-approvals');
    expect(exec.headers.get('etag')).not.toBe(openclaw.headers.get('etag'));
    const crossed = await getConfig(
      h,
      { 'if-none-match': openclaw.headers.get('etag') as string },
      '?target=exec-approvals',
    );
    expect(crossed.status).toBe(200);
    expect((await getConfig(h)).headers.get('etag')).toBe(openclaw.headers.get('etag'));
  });

  it('cannot be used to test a guessed secret: the tag is a digest of the redacted body, which holds only the keyed hash', async () => {
    const h = await installation();
    const reply = await getConfig(h);
    const etag = reply.headers.get('etag') as string;
    // The tag is a function of what the agent already received: it adds nothing to it.
    expect(etag).toBe(`"${createHash('sha256').update(reply.text).digest('hex')}"`);
    // Whatever an agent derives from a guessed document (right guess included) is not the tag:
    // the body's hash is HMAC-keyed with the installation's key, which never leaves the data directory.
    const real = h.document();
    const guesses = [secret, 'oc_live_guess'].flatMap((guess) => {
      const document = structuredClone(real) as { gateway: { auth: { token: string } } };
      document.gateway.auth.token = guess;
      const text = canonical(document);
      const sha = createHash('sha256').update(text).digest('hex');
      const unkeyed = createHmac('sha256', Buffer.alloc(32)).update(text).digest('hex');
      const shown = JSON.stringify({ target: 'openclaw', hash: `hmac-sha256:${unkeyed}`, config: document });
      return [sha, unkeyed, createHash('sha256').update(shown).digest('hex'), JSON.parse(reply.text).hash].map(
        (digest) => `"${digest}"`,
      );
    });
    for (const guess of guesses) {
      expect(guess).not.toBe(etag);
      expect((await getConfig(h, { 'if-none-match': guess })).status).toBe(200);
    }
    // A change of the secret alone (same length) moves the tag only through the keyed hash.
    rewriteSameSize(h, secret, `${secret.slice(0, -1)}0`);
    const changed = await getConfig(h);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(changed.text).not.toContain(secret.slice(0, -1));
  });
});
