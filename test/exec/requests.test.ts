import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exactArgPattern } from '../../src/core/exec/glob.js';
import type { ExecRequest } from '../../src/core/exec/request.js';
import { type Harness, installation, tempDir } from '../support/harness.js';

/*
 * Exec requests over real HTTP, a real SQLite file and real files (SPEC §9): the decision table
 * end to end, consume's checks in order, the fallback, and a hostile agent's inputs. The exec
 * policy is edited on disk before the first request (the service reads it on every request).
 */

type ExecDoc = {
  version?: number;
  defaults: Record<string, unknown>;
  agents: Record<string, { allowlist?: unknown[]; [key: string]: unknown }>;
  totp?: Record<string, unknown>;
};

function editPolicy(h: Harness, edit: (doc: ExecDoc) => void): void {
  const file = join(h.dir, 'exec-approvals.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as ExecDoc;
  edit(doc);
  writeFileSync(file, JSON.stringify(doc, null, 2));
}

/** A directory with small shell-script programs in it, and its real path. */
function workspace(): { dir: string; program: (name: string, body?: string) => string } {
  const dir = realpathSync(tempDir('countersign-exec-'));
  return {
    dir,
    program: (name, body = 'exit 0') => {
      const file = join(dir, name);
      writeFileSync(file, `#!/bin/sh\n${body}\n`);
      chmodSync(file, 0o755);
      return file;
    },
  };
}

async function ask(h: Harness, body: Record<string, unknown>, token = h.agentToken) {
  return h.http('POST', '/v1/exec/requests', token, { sessionKey: 's1', ...body });
}

function execAudit(h: Harness): string[] {
  return h.auditKinds().filter((kind) => kind.startsWith('exec.'));
}

describe('the decision table, end to end', () => {
  it('security: deny denies, stored, with the reason and the request id', async () => {
    const h = await installation();
    const ws = workspace();
    editPolicy(h, (doc) => {
      doc.defaults.security = 'deny';
    });
    const reply = await ask(h, { argv: [ws.program('tool')], cwd: ws.dir });
    expect(reply.status).toBe(403);
    expect(reply.body.error).toMatchObject({ code: 'exec_denied', reason: 'security_deny' });
    const stored = await h.http('GET', `/v1/exec/requests/${reply.body.error.requestId}`, h.ownerToken);
    expect(stored.body.request).toMatchObject({ status: 'denied', reason: 'security_deny' });
    expect(execAudit(h)).toEqual(['exec.requested', 'exec.denied']);
  });

  it('security: full allows with a consume window; ask: always still asks', async () => {
    const h = await installation();
    const ws = workspace();
    editPolicy(h, (doc) => {
      doc.defaults.security = 'full';
      doc.defaults.ask = 'off';
    });
    const allowed = await ask(h, { argv: [ws.program('tool'), 'x'], cwd: ws.dir });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ decision: 'allow', request: { status: 'allowed', reason: 'security_full' } });
    expect(Date.parse(allowed.body.grant.expiresAt) - h.clock.now().getTime()).toBe(120_000);
    expect(execAudit(h)).toEqual(['exec.requested', 'exec.allowed']);

    editPolicy(h, (doc) => {
      doc.defaults.ask = 'always';
    });
    const asked = await ask(h, { argv: [ws.program('tool'), 'x'], cwd: ws.dir });
    expect(asked.status).toBe(202);
    expect(asked.body.request).toMatchObject({ status: 'pending', reason: 'ask_always' });
  });

  it('allowlist: a path pattern over the real path allows; a miss asks (on-miss) or denies (off)', async () => {
    const h = await installation();
    const ws = workspace();
    const tool = ws.program('tool');
    const link = join(ws.dir, 'alias');
    symlinkSync(tool, link);
    editPolicy(h, (doc) => {
      doc.agents.main = { allowlist: [{ id: 'a', pattern: `${ws.dir}/tool` }] };
      doc.defaults.timeoutSeconds = 60;
    });
    // Through a symlink the real path still matches.
    const allowed = await ask(h, { argv: [link, '--flag'], cwd: ws.dir });
    expect(allowed.status).toBe(200);
    expect(allowed.body.request).toMatchObject({
      reason: 'allowlist',
      resolvedPath: tool,
      segments: [{ matched: `${ws.dir}/tool`, resolvedPath: tool }],
      resolution: { pattern: `${ws.dir}/tool` },
    });

    const missed = await ask(h, { argv: [ws.program('other')], cwd: ws.dir });
    expect(missed.status).toBe(202);
    expect(missed.body.request).toMatchObject({ status: 'pending', reason: 'allowlist_miss' });
    expect(Date.parse(missed.body.request.expiresAt) - h.clock.now().getTime()).toBe(60_000);

    editPolicy(h, (doc) => {
      doc.defaults.ask = 'off';
    });
    const denied = await ask(h, { argv: [join(ws.dir, 'other')], cwd: ws.dir });
    expect(denied.status).toBe(403);
    expect(denied.body.error.reason).toBe('allowlist_miss');

    editPolicy(h, (doc) => {
      doc.defaults.ask = 'always';
    });
    const always = await ask(h, { argv: [tool], cwd: ws.dir });
    expect(always.status).toBe(202);
    expect(always.body.request.reason).toBe('ask_always');
  });

  it('a bare-name pattern matches only a command found through PATH (the request’s own PATH)', async () => {
    const h = await installation();
    const ws = workspace();
    ws.program('mytool');
    editPolicy(h, (doc) => {
      doc.agents.main = { allowlist: ['mytool'] };
    });
    const bare = await ask(h, { argv: ['mytool'], cwd: '/', env: { PATH: ws.dir } });
    expect(bare.status).toBe(200);
    expect(bare.body.request.resolvedPath).toBe(join(ws.dir, 'mytool'));
    const byPath = await ask(h, { argv: ['./mytool'], cwd: ws.dir });
    expect(byPath.status).toBe(202);
    // Without the request's PATH the service's PATH does not hold it: unresolved, asked.
    const unresolved = await ask(h, { argv: ['mytool'], cwd: ws.dir });
    expect(unresolved.status).toBe(202);
    expect(unresolved.body.request.resolvedPath).toBeNull();
  });

  it('inline eval under strictInlineEval is asked even when the interpreter is allowlisted', async () => {
    const h = await installation();
    const ws = workspace();
    const sh = realpathSync('/bin/sh');
    editPolicy(h, (doc) => {
      doc.agents.main = { allowlist: [sh] };
    });
    const inline = await ask(h, { argv: [sh, '-c', 'echo hi'], cwd: ws.dir });
    expect(inline.status).toBe(202);
    expect(inline.body.request.risk.inlineEval).toBe(true);
    expect(inline.body.request.allowedDecisions).toEqual(['allow-once', 'deny']);

    editPolicy(h, (doc) => {
      doc.defaults.strictInlineEval = false;
    });
    expect((await ask(h, { argv: [sh, '-c', 'echo hi'], cwd: ws.dir })).status).toBe(200);
  });

  it('a chain is allowed only when every segment is allowlisted; unanalysable text is only asked', async () => {
    const h = await installation();
    const ws = workspace();
    ws.program('a');
    ws.program('b');
    editPolicy(h, (doc) => {
      doc.agents.main = { allowlist: [`${ws.dir}/a`] };
    });
    const half = await ask(h, { command: './a && ./b | ./a', cwd: ws.dir });
    expect(half.status).toBe(202);
    expect(half.body.request.segments.map((s: { matched: string | null }) => s.matched)).toEqual([
      `${ws.dir}/a`,
      null,
      `${ws.dir}/a`,
    ]);
    editPolicy(h, (doc) => {
      doc.agents.main = { allowlist: [`${ws.dir}/*`] };
    });
    expect((await ask(h, { command: './a && ./b | ./a', cwd: ws.dir })).status).toBe(200);
    const sub = await ask(h, { command: './a $(./b)', cwd: ws.dir });
    expect(sub.status).toBe(202);
    expect(sub.body.request.risk.unanalysable).toBe(true);
  });

  it('a standing allow-for grant allows exactly its program and arguments, audited with its id', async () => {
    const h = await installation();
    const ws = workspace();
    const tool = ws.program('tool');
    const now = h.clock.now();
    h.service.execGrants.insert({
      id: 'g1',
      agentId: 'main',
      pattern: tool,
      argPattern: exactArgPattern(['deploy', 'prod']),
      requestId: 'r0',
      createdBy: 'owner',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 600_000).toISOString(),
    });
    const covered = await ask(h, { argv: [tool, 'deploy', 'prod'], cwd: ws.dir });
    expect(covered.status).toBe(200);
    expect(covered.body.request).toMatchObject({ reason: 'allow_for', resolution: { grantId: 'g1' } });
    expect(h.service.audit.list({ limit: 100 }).find((e) => e.kind === 'exec.allowed')?.details.grantId).toBe('g1');
    // One more argument, or the same for another agent, is not covered.
    expect((await ask(h, { argv: [tool, 'deploy', 'prod', '--force'], cwd: ws.dir })).status).toBe(202);
    const other = h.token({ role: 'agent', name: 'other', agentId: 'other' });
    expect((await ask(h, { argv: [tool, 'deploy', 'prod'], cwd: ws.dir }, other)).status).toBe(202);
    h.clock.advance(601);
    expect((await ask(h, { argv: [tool, 'deploy', 'prod'], cwd: ws.dir })).status).toBe(202);
  });

  it('a malformed policy fails closed: every request denied with the reason', async () => {
    const h = await installation();
    const ws = workspace();
    writeFileSync(join(h.dir, 'exec-approvals.json'), JSON.stringify({ version: 1, defaults: { security: 'yolo' } }));
    const reply = await ask(h, { argv: [ws.program('tool')], cwd: ws.dir });
    expect(reply.status).toBe(403);
    expect(reply.body.error.reason).toBe('policy_invalid');
    expect(reply.body.error.message).toMatch(/invalid/);
  });

  it('with no owner credential that could approve, askFallback decides at once', async () => {
    const h = await installation();
    const ws = workspace();
    const tool = ws.program('tool');
    h.service.tokens.revoke('owner', h.clock.now());
    const denied = await ask(h, { argv: [tool], cwd: ws.dir });
    expect(denied.status).toBe(403);
    expect(denied.body.error.reason).toBe('ask_fallback');
    editPolicy(h, (doc) => {
      doc.defaults.askFallback = 'full';
    });
    const allowed = await ask(h, { argv: [tool], cwd: ws.dir });
    expect(allowed.status).toBe(200);
    expect(allowed.body.request).toMatchObject({ status: 'allowed', reason: 'ask_fallback' });
    expect(execAudit(h)).toEqual(['exec.requested', 'exec.fallback', 'exec.requested', 'exec.fallback']);
  });
});

describe('waiting, withdrawing and the fallback', () => {
  it('GET ?wait answers as soon as the request is withdrawn, not after the wait', async () => {
    const h = await installation();
    const ws = workspace();
    const { body } = await ask(h, { argv: [ws.program('tool')], cwd: ws.dir });
    const id = body.request.id;
    const started = Date.now();
    const waiting = h.http('GET', `/v1/exec/requests/${id}?wait=10`, h.agentToken);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await h.http('POST', `/v1/exec/requests/${id}/withdraw`, h.ownerToken, {})).status).toBe(403);
    const withdrawn = await h.http('POST', `/v1/exec/requests/${id}/withdraw`, h.agentToken, {});
    expect(withdrawn.body.request).toMatchObject({ status: 'denied', resolution: { reason: 'withdrawn' } });
    const waited = await waiting;
    expect(waited.body.request.status).toBe('denied');
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await h.http('POST', `/v1/exec/requests/${id}/withdraw`, h.agentToken, {})).body.error.code).toBe(
      'not_pending',
    );
  });

  it('announces exec.requested and exec.resolved on the service events', async () => {
    const h = await installation();
    const ws = workspace();
    const seen: string[] = [];
    h.service.events.on('exec.requested', (r) => seen.push(`requested ${r.status}`));
    h.service.events.on('exec.resolved', (r) => seen.push(`resolved ${r.status}`));
    const { body } = await ask(h, { argv: [ws.program('tool')], cwd: ws.dir });
    await h.http('POST', `/v1/exec/requests/${body.request.id}/withdraw`, h.agentToken, {});
    expect(seen).toEqual(['requested pending', 'resolved denied']);
  });

  it('streams exec.requested and exec.resolved to owners over Server-Sent Events, env secrets redacted', async () => {
    const h = await installation();
    const ws = workspace();
    const base = await h.listen();
    const stop = new AbortController();
    const response = await fetch(`${base}/v1/events`, {
      headers: { authorization: `Bearer ${h.ownerToken}` },
      signal: stop.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(': connected');
    const secret = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
    const { body } = await ask(h, { argv: [ws.program('tool')], cwd: ws.dir, env: { GITHUB_TOKEN: secret } });
    await h.http('POST', `/v1/exec/requests/${body.request.id}/withdraw`, h.agentToken, {});
    await readUntil('event: exec.resolved');
    stop.abort();
    expect(text).toContain('event: exec.requested');
    expect(text).toContain(body.request.id);
    expect(text).not.toContain(secret);
  });

  it('past timeoutSeconds askFallback decides: deny → expired, full → allowed and consumable', async () => {
    const h = await installation();
    const ws = workspace();
    const tool = ws.program('tool');
    const first = (await ask(h, { argv: [tool], cwd: ws.dir })).body.request as ExecRequest;
    h.clock.advance(121);
    const expired = await h.http('GET', `/v1/exec/requests/${first.id}`, h.agentToken);
    expect(expired.body.request).toMatchObject({ status: 'expired', resolution: { reason: 'ask_fallback' } });
    expect(execAudit(h)).toEqual(['exec.requested', 'exec.expired', 'exec.fallback']);

    editPolicy(h, (doc) => {
      doc.defaults.askFallback = 'full';
    });
    const second = (await ask(h, { argv: [tool], cwd: ws.dir })).body.request as ExecRequest;
    h.clock.advance(121);
    const list = await h.http('GET', '/v1/exec/requests?status=allowed', h.ownerToken);
    expect(list.body.requests.map((r: ExecRequest) => r.id)).toEqual([second.id]);
    const consumed = await h.http('POST', `/v1/exec/requests/${second.id}/consume`, h.agentToken, {
      planHash: second.planHash,
      sessionKey: 's1',
    });
    expect(consumed.status).toBe(200);
  });
});

describe('consume', () => {
  async function allowedRequest(h: Harness, argv: string[], cwd: string): Promise<ExecRequest> {
    editPolicy(h, (doc) => {
      doc.defaults.security = 'full';
      doc.defaults.ask = 'off';
    });
    const reply = await ask(h, { argv, cwd });
    expect(reply.status).toBe(200);
    return reply.body.request as ExecRequest;
  }
  const consume = (h: Harness, request: ExecRequest, body: Record<string, unknown> = {}, token = h.agentToken) =>
    h.http('POST', `/v1/exec/requests/${request.id}/consume`, token, {
      planHash: request.planHash,
      sessionKey: 's1',
      ...body,
    });

  it('checks who, the plan, then the grant window; exactly once', async () => {
    const h = await installation();
    const ws = workspace();
    const request = await allowedRequest(h, [ws.program('tool'), 'a b'], ws.dir);
    const other = h.token({ role: 'agent', name: 'other', agentId: 'other' });
    expect((await consume(h, request, {}, other)).body.error.code).toBe('forbidden');
    expect((await h.http('GET', `/v1/exec/requests/${request.id}`, other)).status).toBe(404);
    expect((await consume(h, request, {}, h.ownerToken)).body.error.code).toBe('forbidden');
    expect((await consume(h, request, { sessionKey: 's2' })).body.error.code).toBe('forbidden');
    const mismatch = await consume(h, request, { planHash: `hmac-sha256:${'0'.repeat(64)}` });
    expect([mismatch.status, mismatch.body.error.code]).toEqual([409, 'plan_mismatch']);
    const ok = await consume(h, request);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ run: true, plan: { argv: [join(ws.dir, 'tool'), 'a b'], cwd: ws.dir } });
    const again = await consume(h, request);
    expect([again.status, again.body.error.code]).toEqual([409, 'already_consumed']);
    expect(execAudit(h)).toEqual(['exec.requested', 'exec.allowed', 'exec.consumed']);
  });

  it('410 grant_expired after grantTtlSeconds; 409 not_pending for a request nobody allowed', async () => {
    const h = await installation();
    const ws = workspace();
    const request = await allowedRequest(h, [ws.program('tool')], ws.dir);
    h.clock.advance(121);
    const late = await consume(h, request);
    expect([late.status, late.body.error.code]).toEqual([410, 'grant_expired']);

    editPolicy(h, (doc) => {
      doc.defaults.security = 'allowlist';
      doc.defaults.ask = 'on-miss';
    });
    const pending = (await ask(h, { argv: [join(ws.dir, 'tool')], cwd: ws.dir })).body.request as ExecRequest;
    expect((await consume(h, pending)).body.error.code).toBe('not_pending');
  });

  it('a script edited between request and consume: 409 file_changed, and nothing is handed out', async () => {
    const h = await installation();
    const ws = workspace();
    const script = join(ws.dir, 'job.sh');
    writeFileSync(script, 'echo safe\n');
    const link = join(ws.dir, 'current.sh');
    symlinkSync(script, link);
    const request = await allowedRequest(h, [realpathSync('/bin/sh'), 'current.sh'], ws.dir);
    // A symlinked script is pinned by the file it points at.
    expect(request.fileOperand).toMatchObject({ argvIndex: 1, path: script });
    writeFileSync(script, 'rm -rf "$HOME"\n');
    const refused = await consume(h, request);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'file_changed']);
    expect(refused.body.plan).toBeUndefined();

    // Pointing the symlink at another file is a change too.
    const second = await allowedRequest(h, [realpathSync('/bin/sh'), 'current.sh'], ws.dir);
    writeFileSync(join(ws.dir, 'evil.sh'), 'rm -rf "$HOME"\n');
    unlinkSync(link);
    symlinkSync(join(ws.dir, 'evil.sh'), link);
    expect((await consume(h, second)).body.error.code).toBe('file_changed');
  });

  it('a binary replaced between request and consume: 409 executable_changed', async () => {
    const h = await installation();
    const ws = workspace();
    const tool = join(ws.dir, 'tool');
    copyFileSync(realpathSync('/bin/true'), tool);
    chmodSync(tool, 0o755);
    const request = await allowedRequest(h, [tool], ws.dir);
    unlinkSync(tool);
    copyFileSync(realpathSync('/bin/false'), tool);
    chmodSync(tool, 0o755);
    const refused = await consume(h, request);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'executable_changed']);
  });

  it('concurrent consumers: exactly one gets the plan', async () => {
    const h = await installation();
    const ws = workspace();
    const request = await allowedRequest(h, [ws.program('tool')], ws.dir);
    const replies = await Promise.all(Array.from({ length: 12 }, () => consume(h, request)));
    expect(replies.filter((reply) => reply.status === 200)).toHaveLength(1);
    expect(replies.filter((reply) => reply.status === 409).map((reply) => reply.body.error.code)).toEqual(
      Array(11).fill('already_consumed'),
    );
    expect(execAudit(h).filter((kind) => kind === 'exec.consumed')).toHaveLength(1);
  });
});

describe('dry runs, secrets and a hostile agent', () => {
  it('dryRun answers the same and stores nothing', async () => {
    const h = await installation();
    const ws = workspace();
    const asked = await ask(h, { argv: [ws.program('tool')], cwd: ws.dir, dryRun: true });
    expect(asked.status).toBe(202);
    expect(asked.body.decision).toBe('ask');
    editPolicy(h, (doc) => {
      doc.defaults.security = 'deny';
    });
    const denied = await ask(h, { argv: [join(ws.dir, 'tool')], cwd: ws.dir, dryRun: true });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'exec_denied', requestId: null });
    expect(h.service.exec.list()).toEqual([]);
    // (The direct edit of the policy file is recorded as config.drift; nothing about the requests is.)
    expect(execAudit(h)).toEqual([]);
    expect((await h.http('GET', `/v1/exec/requests/${asked.body.request.id}`, h.ownerToken)).status).toBe(404);
  });

  it('secret env values are "[redacted]" in the request and the audit, real in the consumed plan', async () => {
    const h = await installation();
    const ws = workspace();
    editPolicy(h, (doc) => {
      doc.defaults.security = 'full';
      doc.defaults.ask = 'off';
    });
    const secret = 'sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
    const reply = await ask(h, { argv: [ws.program('tool')], cwd: ws.dir, env: { API_TOKEN: secret, MODE: 'fast' } });
    expect(reply.body.request.env).toEqual([
      { name: 'API_TOKEN', value: '[redacted]' },
      { name: 'MODE', value: 'fast' },
    ]);
    const listed = await h.http('GET', '/v1/exec/requests', h.ownerToken);
    expect(listed.text).not.toContain(secret);
    expect(JSON.stringify(h.service.audit.list({ limit: 100 }))).not.toContain(secret);
    const consumed = await h.http('POST', `/v1/exec/requests/${reply.body.request.id}/consume`, h.agentToken, {
      planHash: reply.body.request.planHash,
      sessionKey: 's1',
    });
    expect(consumed.body.plan.env).toContainEqual({ name: 'API_TOKEN', value: secret });
  });

  it('owners list every request, an agent only its own', async () => {
    const h = await installation();
    const ws = workspace();
    const other = h.token({ role: 'agent', name: 'other', agentId: 'other' });
    await ask(h, { argv: [ws.program('tool')], cwd: ws.dir });
    await ask(h, { argv: [join(ws.dir, 'tool')], cwd: ws.dir }, other);
    expect((await h.http('GET', '/v1/exec/requests', h.ownerToken)).body.requests).toHaveLength(2);
    const mine = (await h.http('GET', '/v1/exec/requests?status=pending', other)).body.requests;
    expect(mine.map((r: ExecRequest) => r.agentId)).toEqual(['other']);
    expect((await ask(h, { argv: [join(ws.dir, 'tool')], cwd: ws.dir }, h.ownerToken)).body.error.code).toBe(
      'forbidden',
    );
  });

  it('refuses what cannot be a plan with a clear 4xx, and stores nothing half-way', async () => {
    const h = await installation();
    const ws = workspace();
    const tool = ws.program('tool');
    mkdirSync(join(ws.dir, 'sub'));
    const refusals: [Record<string, unknown>, number][] = [
      [{ argv: [tool, 'a\u0000b'], cwd: ws.dir }, 400],
      [{ command: `${tool}\u0000; rm -rf /`, cwd: ws.dir }, 400],
      [{ argv: [tool, 'x'.repeat(1024 * 1024)], cwd: ws.dir }, 400],
      [{ command: Array(10_000).fill('./tool').join(' && '), cwd: ws.dir }, 400],
      [{ argv: [tool], cwd: 'sub' }, 400],
      [{ argv: [tool], cwd: join(ws.dir, 'missing') }, 400],
      [{ argv: [tool], cwd: tool }, 400],
      [{ argv: [''], cwd: ws.dir }, 400],
      [{ argv: [], cwd: ws.dir }, 400],
      [{ argv: [tool], command: 'true', cwd: ws.dir }, 400],
      [{ argv: [realpathSync('/bin/sh'), 'nowhere.sh'], cwd: ws.dir }, 400],
      [{ argv: [tool], cwd: ws.dir, env: { 'BAD NAME': 'x' } }, 400],
      [{ argv: [tool], cwd: ws.dir, agentId: 'root' }, 400],
    ];
    for (const [body, status] of refusals) {
      const reply = await ask(h, body);
      expect(reply.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(reply.body.error.code).toBe('invalid_request');
    }
    expect(h.service.exec.list()).toEqual([]);
    expect(execAudit(h)).toEqual([]);
  });

  it('unicode look-alikes of sudo are flagged elevated: asked from the dangerous surfaces, with TOTP', async () => {
    const h = await installation();
    const ws = workspace();
    for (const name of ['\u0455udo', 'ｓｕｄｏ', 'SUDO']) {
      const tool = ws.program(name);
      const reply = await ask(h, { argv: [tool, 'id'], cwd: ws.dir });
      expect(reply.status, name).toBe(202);
      expect(reply.body.request.risk.elevated).toBe(true);
      expect(reply.body.request.approval).toEqual({ totp: true, surfaces: ['cli', 'web', 'chat-dm'] });
    }
  });
});
