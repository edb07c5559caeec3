import { describe, expect, it } from 'vitest';
import { ReloadHookSchema, SettingsSchema } from '../../src/core/settings.js';
import { type Harness, installation } from '../support/harness.js';

function hook(h: Harness, script: string, extra: Partial<{ when: 'restart' | 'always'; timeoutSeconds: number }> = {}) {
  const target = h.service.targets.get('openclaw');
  if (!target) throw new Error('no target');
  target.reload = ReloadHookSchema.parse({ command: [process.execPath, '-e', script], ...extra });
}

async function approvePortChange(h: Harness, port = 18790) {
  const card = (
    await h.request('POST', '/v1/proposals', h.agentToken, { baseHash: h.currentHash(), patch: { gateway: { port } } })
  ).json().proposal;
  return h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, { patchHash: card.patchHash });
}

describe('reload hook', () => {
  it('runs after an apply that needs a restart, with only the allowed environment, and is audited', async () => {
    const h = await installation();
    process.env.COUNTERSIGN_TEST_SECRET = 'must-not-leak';
    hook(h, 'console.log("restarted", process.env.COUNTERSIGN_TEST_SECRET ?? "no-secret")');
    const response = await approvePortChange(h);
    delete process.env.COUNTERSIGN_TEST_SECRET;
    expect(response.statusCode).toBe(200);
    expect(response.json().reload).toMatchObject({ exitCode: 0, timedOut: false, outputTail: 'restarted no-secret\n' });
    const event = h.service.audit.list().find((entry) => entry.kind === 'reload.ran');
    expect(event).toMatchObject({ proposalId: response.json().proposal.id, details: { exitCode: 0 } });
    expect(h.service.audit.verify().ok).toBe(true);
  });

  it('does not run when no change needs a restart, unless told to run always', async () => {
    const h = await installation();
    hook(h, 'console.log("ran")');
    const allowlisted = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { agents: { defaults: { thinkingDefault: 'high' } } },
    });
    expect(allowlisted.json().status).toBe('applied');
    expect(allowlisted.json().reload).toBeUndefined();
    hook(h, 'console.log("ran")', { when: 'always' });
    const again = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { agents: { defaults: { thinkingDefault: 'low' } } },
    });
    expect(again.json().reload).toMatchObject({ exitCode: 0, outputTail: 'ran\n' });
  });

  it('a failing or hanging hook is reported; the change stays applied', async () => {
    const h = await installation();
    hook(h, 'console.error("gateway refused"); process.exit(3)');
    const failed = await approvePortChange(h, 18790);
    expect(failed.statusCode).toBe(200);
    expect(failed.json().reload).toMatchObject({ exitCode: 3, outputTail: 'gateway refused\n' });
    expect((h.document().gateway as { port: number }).port).toBe(18790);

    hook(h, 'setTimeout(() => {}, 60_000)', { timeoutSeconds: 1 });
    const hung = await approvePortChange(h, 18791);
    expect(hung.json().reload).toMatchObject({ timedOut: true, exitCode: null });
    expect((h.document().gateway as { port: number }).port).toBe(18791);
  });

  it('a missing program is reported, not thrown', async () => {
    const h = await installation();
    const target = h.service.targets.get('openclaw');
    if (target) target.reload = ReloadHookSchema.parse({ command: ['/nonexistent/openclaw', 'gateway', 'restart'] });
    const response = await approvePortChange(h);
    expect(response.statusCode).toBe(200);
    expect(response.json().reload).toMatchObject({ exitCode: null, outputTail: expect.stringContaining('ENOENT') });
  });

  it('settings accept only an argv array, never a shell string', () => {
    const base = { version: 1, targets: [{ name: 'openclaw', path: 'a.json', policy: 'p.json' }] };
    const withReload = (reload: unknown) =>
      SettingsSchema.safeParse({ ...base, targets: [{ ...base.targets[0], reload }] }).success;
    expect(withReload({ command: ['openclaw', 'gateway', 'restart'] })).toBe(true);
    expect(withReload({ command: 'openclaw gateway restart && rm -rf /' })).toBe(false);
    expect(withReload({ command: [] })).toBe(false);
    expect(withReload({ command: ['x'], env: ['LD_PRELOAD=1'] })).toBe(false);
  });
});
