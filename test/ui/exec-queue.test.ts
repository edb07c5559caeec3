/**
 * The exec queue on the owner's web page (SPEC §8, §9; issue 11), in Debian's Chromium through
 * playwright-core (never a downloaded browser), against the real app on 127.0.0.1: an agent asks
 * over real HTTP, the owner reads the request token by token (hostile characters shown inert),
 * enters a real TOTP code and decides; the page follows the event stream. Skipped without
 * Chromium outside CI.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { type Harness, installation, type TestClock, tempDir } from '../support/harness.js';
import { totpCode } from '../support/rfc6238.js';
import { enrolOwner, midStepClock } from '../support/totp.js';
import { openTab, signIn, suite, useChromium, waitLive, webOwnerToken } from './support.js';

const browser = useChromium();

type ExecRequest = {
  id: string;
  status: string;
  argv: string[] | null;
  commandText: string | null;
  cwd: string;
  env: Array<{ name: string; value: string }>;
  resolvedPath: string | null;
  fileOperand: { argvIndex: number; path: string; sha256: string } | null;
  segments: Array<{ argv: string[]; resolvedPath: string | null; matched: string | null }>;
  risk: { elevated: boolean; destructive: boolean; inlineEval: boolean; unanalysable: boolean };
  planHash: string;
  allowedDecisions: string[];
  approval: { totp: boolean; surfaces: string[] };
  resolution: { status: string; stepUp: string | null; by: { surface?: string } | null } | null;
};

type Session = { h: Harness; base: string; page: Page; problems: string[]; requests: string[] };

/** The real app on a real socket and a browser tab signed in as a web owner, event stream live. */
async function signedIn(options: { clock?: TestClock; secret?: Buffer } = {}): Promise<Session> {
  const h = await installation({ clock: options.clock });
  if (options.secret) enrolOwner(h, options.secret);
  const base = await h.listen();
  const { page, problems, requests } = await openTab(browser(), { width: 1280 });
  await signIn(page, base, webOwnerToken(h));
  await page.getByRole('heading', { name: 'Commands waiting' }).waitFor();
  await waitLive(page);
  return { h, base, page, problems, requests };
}

function expectClean(session: Session): void {
  expect(session.problems).toEqual([]);
  for (const url of session.requests) expect(url.startsWith(`${session.base}/`), url).toBe(true);
}

async function ask(h: Harness, body: Record<string, unknown>): Promise<ExecRequest> {
  const response = await h.http('POST', '/v1/exec/requests', h.agentToken, { sessionKey: 'chat-7', ...body });
  expect(response.status, response.text).toBe(202);
  expect(response.body.decision).toBe('ask');
  return response.body.request as ExecRequest;
}

async function fetchRequest(h: Harness, id: string): Promise<ExecRequest> {
  const response = await h.http('GET', `/v1/exec/requests/${id}`, h.ownerToken);
  expect(response.status, response.text).toBe(200);
  return response.body.request as ExecRequest;
}

suite('exec queue on the web page in Chromium', () => {
  it('a destructive command with a hostile token: shown inert, token by token; a real code, Allow once', async () => {
    const clock = midStepClock();
    const secret = randomBytes(20);
    const session = await signedIn({ clock, secret });
    const { h, page } = session;
    await page.getByText('No commands are waiting.').waitFor();

    const victim = tempDir();
    mkdirSync(join(victim, 'keep'));
    writeFileSync(join(victim, 'keep', 'notes.txt'), 'do not lose me\n');
    // Right-to-left override, a bell and a terminal escape that clears the screen: the owner
    // must see them as escapes, never have them act on what is shown.
    const hostile = 'evil\u202e\u0007\u001b[2Jtxt.exe';
    const secretValue = 'sk-live-0123456789abcdef0123456789abcdef';
    const request = await ask(h, {
      argv: ['rm', '-rf', victim, hostile],
      cwd: victim,
      env: { LANG: 'C', API_TOKEN: secretValue },
    });
    expect(request.risk.destructive).toBe(true);
    expect(request.approval).toMatchObject({ totp: true });
    expect(request.approval.surfaces).toContain('web');
    expect(request.resolvedPath).not.toBeNull();
    expect(request.env).toContainEqual({ name: 'API_TOKEN', value: '[redacted]' });

    // The queue picks it up from the event stream, no reload, with its risk badge.
    const item = page.locator(`a[href="#/exec/${request.id}"]`);
    await item.waitFor();
    expect(await item.locator('.badge.risk').allTextContents()).toContain('DESTRUCTIVE');
    expect(await page.locator('#pending-count').textContent()).toBe('1');
    await item.click();

    await page.getByRole('heading', { name: /The exact command/ }).waitFor();
    const view = page.locator('#view');
    // Risk first, loud, with what it means.
    const risks = page.locator('section.exec-risks');
    expect(await risks.locator('.badge.risk').allTextContents()).toContain('DESTRUCTIVE');
    expect(await risks.textContent()).toContain('deletes or overwrites');
    expect(await page.locator('.card-head .badge.risk').allTextContents()).toContain('DESTRUCTIVE');

    // argv token by token, each in its own box, in order.
    const tokens = page.locator('section.command ol.argv > li code.token');
    expect(await tokens.allTextContents()).toEqual([
      'rm',
      '-rf',
      victim,
      // dom.js's inert text: each unsafe character as its escape, in a marked span.
      'evil\\u202e\\x07\\x1b[2Jtxt.exe',
    ]);
    expect(await tokens.nth(3).locator('span.esc').count()).toBe(3);
    const text = (await view.textContent()) ?? '';
    for (const raw of ['\u202e', '\u0007', '\u001b']) expect(text).not.toContain(raw);

    // cwd, the resolved program, each segment with its path and "not allowlisted".
    const command = (await page.locator('section.command').textContent()) ?? '';
    expect(command).toContain(victim);
    expect(command).toContain(request.resolvedPath);
    const segment = page.locator('tr.segment');
    expect(await segment.count()).toBe(request.segments.length);
    expect(await segment.first().textContent()).toContain(request.resolvedPath);
    expect(await segment.first().locator('.not-allowlisted').textContent()).toBe('not allowlisted');
    expect(await segment.first().locator('.badge.risk').allTextContents()).toContain('DESTRUCTIVE');

    // Env names, values as the API gives them: a secret never reaches the page.
    const env = page.locator('ul.env li');
    expect(await env.count()).toBe(request.env.length);
    expect(text).toContain('LANG');
    expect(text).not.toContain(secretValue);
    expect(await page.locator('ul.env li', { hasText: 'API_TOKEN' }).locator('.redacted').count()).toBe(1);
    expect(text).toContain(request.planHash);
    expect(text).toMatch(/expires in \d+:\d\d/);
    expect(await page.locator('.approvers').textContent()).toContain('web');

    // The decisions this request allows, and a code field.
    const totp = page.locator('input[name="totp"]');
    expect(await totp.isVisible()).toBe(true);
    const allowOnce = page.getByRole('button', { name: 'Allow once', exact: true });
    expect(await allowOnce.isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Deny', exact: true }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Allow always', exact: true }).count()).toBe(
      request.allowedDecisions.includes('allow-always') ? 1 : 0,
    );

    // Refusals are said in words, with the code; nothing is decided.
    const alert = page.locator('form.decide [role="alert"]');
    await allowOnce.click();
    await expect.poll(() => alert.textContent()).toContain('totp_required');
    expect(await alert.textContent()).toContain('authenticator app');
    const code = totpCode(secret, h.clock.now());
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await totp.fill(wrong);
    await allowOnce.click();
    await expect.poll(() => alert.textContent()).toContain('totp_invalid');
    expect(await alert.textContent()).toContain('not valid');
    expect((await fetchRequest(h, request.id)).status).toBe('pending');
    expect(existsSync(join(victim, 'keep', 'notes.txt'))).toBe(true);

    await totp.fill(code);
    await allowOnce.click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Allowed once.');
    expect(await page.locator('.card-head .badge.status').textContent()).toBe('allowed');
    expect(await page.locator('form.decide').count()).toBe(0);
    const decided = await fetchRequest(h, request.id);
    expect(decided.status).toBe('allowed');
    expect(decided.resolution).toMatchObject({ status: 'allowed', stepUp: 'totp', by: { surface: 'web' } });
    // Allowing is not running: only the agent's consume runs it.
    expect(existsSync(join(victim, 'keep', 'notes.txt'))).toBe(true);

    // Back on the queue, it is gone.
    await page.locator('[data-nav="pending"]').click();
    await page.getByText('No commands are waiting.').waitFor();
    expect(await page.locator('#pending-count').isHidden()).toBe(true);
    expectClean(session);
  });

  it('inline eval under strictInlineEval offers no Allow always; a decision made elsewhere shows live', async () => {
    const session = await signedIn();
    const { h, page } = session;
    const request = await ask(h, { argv: ['python3', '-c', 'import os; os.system("id")'], cwd: '/tmp' });
    expect(request.risk.inlineEval).toBe(true);
    expect(request.allowedDecisions).not.toContain('allow-always');

    await page.locator(`a[href="#/exec/${request.id}"]`).click();
    await page.getByRole('button', { name: 'Allow once', exact: true }).waitFor();
    expect(await page.locator('section.exec-risks').textContent()).toContain('INLINE EVAL');
    expect(await page.locator('section.exec-risks').textContent()).toContain('read that code');
    expect(await page.locator('section.command ol.argv > li code.token').allTextContents()).toEqual([
      'python3',
      '-c',
      'import os; os.system("id")',
    ]);
    expect(await page.getByRole('button', { name: 'Allow always', exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Allow for/ }).count()).toBe(0);
    expect(await page.locator('input[name="totp"]').count()).toBe(request.approval.totp ? 1 : 0);

    // The owner denies from the terminal; the page says so without a reload and drops its buttons.
    const cliOwner = h.token({ role: 'owner', name: 'owner', surface: 'cli' });
    const denied = await h.http('POST', `/v1/exec/requests/${request.id}/resolve`, cliOwner, {
      decision: 'deny',
      planHash: request.planHash,
      reason: 'not today',
    });
    expect(denied.status, denied.text).toBe(200);
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('now denied');
    expect(await page.locator('.card-head .badge.status').textContent()).toBe('denied');
    expect(await page.getByRole('button', { name: 'Allow once', exact: true }).count()).toBe(0);
    expectClean(session);
  });

  it('shell text is shown as text with each segment; Allow for 1 h makes a grant the owner revokes', async () => {
    const session = await signedIn();
    const { h, page } = session;
    const shell = await ask(h, { command: 'ls /tmp && rm -rf /tmp/countersign-nothing-here', cwd: '/tmp' });
    await page.locator(`a[href="#/exec/${shell.id}"]`).click();
    await page.getByRole('heading', { name: /The exact shell text/ }).waitFor();
    expect(await page.locator('section.command pre.shell').textContent()).toBe(shell.commandText);
    expect(await page.locator('tr.segment').count()).toBe(shell.segments.length);
    expect(shell.segments.length).toBe(2);
    expect(await page.locator('tr.segment').nth(1).locator('.badge.risk').allTextContents()).toContain('DESTRUCTIVE');
    await page.getByRole('button', { name: 'Deny', exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Denied.');

    // A script run by an interpreter: the file is bound to the request by its hash.
    const scripts = tempDir();
    const script = join(scripts, 'cleanup.sh');
    writeFileSync(script, 'echo cleaning\n');
    const scripted = await ask(h, { argv: ['sh', script], cwd: scripts });
    expect(scripted.fileOperand).toMatchObject({ argvIndex: 1, path: script });
    await page.locator('[data-nav="pending"]').click();
    await page.locator(`a[href="#/exec/${scripted.id}"]`).click();
    await page.locator('.meta code', { hasText: scripted.id }).waitFor();
    const bound = page.locator('section.command tr', { hasText: 'Bound file' });
    expect(await bound.textContent()).toContain(script);
    expect(await bound.textContent()).toContain(scripted.fileOperand?.sha256);
    expect(await bound.textContent()).toContain('argv[1]');
    await page.getByRole('button', { name: 'Deny', exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Denied.');

    const listing = await ask(h, { argv: ['ls', '-la', '/tmp'], cwd: '/tmp' });
    expect(listing.allowedDecisions).toEqual(expect.arrayContaining(['allow-for', 'allow-always']));
    await page.locator('[data-nav="pending"]').click();
    await page.locator(`a[href="#/exec/${listing.id}"]`).click();
    await page.locator('.meta code', { hasText: listing.id }).waitFor();
    expect(await page.getByRole('button', { name: 'Allow always', exact: true }).isVisible()).toBe(true);
    await page.locator('select[name="durationSeconds"]').selectOption('3600');
    await page.getByRole('button', { name: 'Allow for 1 h', exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Allowed');
    expect((await fetchRequest(h, listing.id)).status).toBe('allowed');

    const grants = (await h.http('GET', '/v1/exec/grants', h.ownerToken)).body.grants as Array<{ id: string }>;
    expect(grants).toHaveLength(1);
    await page.locator('[data-nav="pending"]').click();
    const grant = page.locator(`li.grant[data-grant="${grants[0]?.id}"]`);
    await grant.waitFor();
    expect(await grant.textContent()).toMatch(/expires in \d+:\d\d/);
    await grant.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('No standing grants.').waitFor();
    expect((await h.http('GET', '/v1/exec/grants', h.ownerToken)).body.grants).toEqual([]);
    expectClean(session);
  });
});
