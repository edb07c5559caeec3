/**
 * The owner's web page driven in a real browser: Debian's Chromium through playwright-core
 * (never a downloaded browser), against the real app listening on 127.0.0.1. `.ci/run`
 * installs Chromium; without it (and outside CI) these tests are skipped.
 *
 * `COUNTERSIGN_SCREENSHOT=1 npx vitest run test/ui` also refreshes docs/approval-page.png.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { type Harness, installation, type TestClock, tempDir } from '../support/harness.js';
import { totpCode } from '../support/rfc6238.js';
import { enrolOwner, midStepClock } from '../support/totp.js';
import { openTab, signIn, suite, useChromium } from './support.js';

const screenshotFile = fileURLToPath(new URL('../../docs/approval-page.png', import.meta.url));

const browser = useChromium();

type Session = {
  h: Harness;
  base: string;
  page: Page;
  context: BrowserContext;
  problems: string[];
  requests: string[];
};

/** The real app on a real socket, and a fresh browser tab that records errors and every URL it asks for. */
async function open(options: { clock?: TestClock } = {}): Promise<Session> {
  const h = await installation({ clock: options.clock });
  const base = await h.listen();
  const { page, context, problems, requests } = await openTab(browser(), { deviceScaleFactor: 1 });
  return { h, base, page, context, problems, requests };
}

function expectClean(session: Session): void {
  expect(session.problems).toEqual([]);
  // Nothing from another origin: no CDN, no font, no analytics.
  for (const url of session.requests) expect(url.startsWith(`${session.base}/`), url).toBe(true);
}

async function propose(h: Harness, patch: unknown, reason: string) {
  const response = await h.request('POST', '/v1/proposals', h.agentToken, {
    baseHash: h.currentHash(),
    patch,
    reason,
    sessionKey: 'chat-42',
  });
  expect(response.statusCode).toBe(202);
  return response.json().proposal as { id: string; patchHash: string; approval: { confirmPhrase: string } };
}

suite('web approval page in Chromium', () => {
  it('an owner signs in, approves a protected change, then a dangerous one with confirm and TOTP', async () => {
    const clock = midStepClock();
    const session = await open({ clock });
    const { h, page } = session;
    const secret = randomBytes(20);
    enrolOwner(h, secret);
    const webOwner = h.token({ role: 'owner', name: 'owner', surface: 'web' });

    // An agent token is turned away at sign-in, with the reason.
    await signIn(session.page, session.base, h.agentToken);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('needs an owner token');

    const protectedCard = await propose(h, { gateway: { port: 18790 } }, 'Move the gateway off the default port');
    await signIn(session.page, session.base, webOwner);
    const item = page.locator(`a[href="#/proposal/${protectedCard.id}"]`);
    await item.waitFor();
    expect(await item.textContent()).toContain('gateway.port');
    expect(await item.locator('.badge.tier').first().textContent()).toBe('protected');
    await item.click();

    await page.getByRole('heading', { name: 'The exact change' }).waitFor();
    const change = page.locator('li.change').first();
    expect(await change.locator('.value.before').textContent()).toBe('18789');
    expect(await change.locator('.value.after').textContent()).toBe('18790');
    // A protected change needs neither a typed phrase nor a code under the shipped policy.
    expect(await page.locator('input[name="totp"]').count()).toBe(0);
    expect(await page.locator('input[name="confirm"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Applied.');
    expect((h.document().gateway as { port: number }).port).toBe(18790);

    // Back on the list, a new proposal arrives over the event stream without a reload.
    await page.locator('[data-nav="pending"]').click();
    await page.getByText('Nothing is waiting for you.').waitFor();
    await expect.poll(() => page.locator('#live').textContent()).toBe('live');
    const dangerous = await propose(
      h,
      {
        commands: { mcp: true },
        mcp: {
          servers: {
            github: {
              command: 'npx',
              args: ['-y', '@modelcontextprotocol/server-github@2025.4.8'],
              env: { GITHUB_TOKEN: 'ghp_exampleexampleexample' },
            },
          },
        },
      },
      'Owner asked to enable MCP and add the GitHub server',
    );
    const dangerousItem = page.locator(`a[href="#/proposal/${dangerous.id}"]`);
    await dangerousItem.waitFor();
    expect(await dangerousItem.textContent()).toContain('commands.mcp');
    expect(await page.locator('#pending-count').textContent()).toBe('1');
    await dangerousItem.click();

    await page.getByRole('heading', { name: 'Why this needs you' }).waitFor();
    const body = await page.locator('#view').textContent();
    expect(body).toContain('mcp-command');
    expect(body).toContain('mcp.servers.github.command');
    // OpenClaw hot-reloads commands.* and mcp.*: the page must not claim a restart.
    expect(body).not.toContain('Restart required');
    expect(body).toMatch(/expires in \d+:\d\d/);
    // A value the agent wrote itself at a redacted path is shown to the owner, who must see what
    // they approve (SPEC §4); the review still flags it as a literal secret.
    expect(body).toContain('ghp_exampleexampleexample');
    expect(body).toContain('literal_secret_env');
    const envChange = page.locator('li.change', { hasText: 'mcp.servers.github.env.GITHUB_TOKEN' });
    expect(await envChange.locator('.value.after .redacted').count()).toBe(0);
    await expect
      .poll(() => page.locator('.panel', { hasText: 'Audit trail' }).textContent())
      .toContain('proposal.created');
    // Whatever the MCP review found is on the page: each server, its warnings and its pinned hash.
    const shownCard = await h.request('GET', `/v1/proposals/${dangerous.id}`, h.ownerToken);
    const review = shownCard.json().review.mcp as Array<{
      server: string;
      sha256?: string | null;
      warnings?: Array<{ code: string }>;
    }>;
    if (review.length > 0) {
      const panel = await page.locator('section.mcp').textContent();
      for (const entry of review) {
        expect(panel).toContain(entry.server);
        if (entry.sha256) expect(panel).toContain(entry.sha256);
        for (const warning of entry.warnings ?? []) expect(panel).toContain(warning.code);
      }
    } else {
      expect(await page.locator('section.mcp').count()).toBe(0);
    }

    const confirm = page.locator('input[name="confirm"]');
    const totp = page.locator('input[name="totp"]');
    expect(await confirm.isVisible()).toBe(true);
    expect(await totp.isVisible()).toBe(true);
    expect(await page.locator('label[for="confirm"]').textContent()).toContain(dangerous.approval.confirmPhrase);

    const screenshot = process.env.COUNTERSIGN_SCREENSHOT ? screenshotFile : join(tempDir(), 'approval-page.png');
    mkdirSync(join(screenshot, '..'), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);

    const before = h.documentText();
    const alert = page.locator('form.decide [role="alert"]');
    // Refusals show the server's sentence and code, and change nothing.
    await confirm.fill('apply 00000000');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => alert.textContent()).toContain('confirm_required');
    expect(await alert.textContent()).toContain('Type the confirmation phrase exactly');
    await confirm.fill(dangerous.approval.confirmPhrase);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => alert.textContent()).toContain('totp_required');
    expect(h.documentText()).toBe(before);

    await totp.fill(totpCode(secret, h.clock.now()));
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Applied.');
    const document = h.document() as { commands: { mcp: boolean }; mcp: { servers: Record<string, unknown> } };
    expect(document.commands.mcp).toBe(true);
    expect(document.mcp.servers.github).toMatchObject({ command: 'npx' });
    expect(await page.locator('.card-head .badge.status').textContent()).toBe('applied');
    expect(await page.locator('.panel', { hasText: 'Decision' }).first().textContent()).toContain('totp');

    // History and audit views.
    await page.locator('[data-nav="history"]').click();
    await page.locator('table.grid tbody tr').nth(1).waitFor();
    await expect.poll(() => page.locator('table.grid tbody tr').count()).toBe(2);
    await page.locator('[data-nav="audit"]').click();
    await page.locator('table.audit').waitFor();
    const audit = await page.locator('table.audit').textContent();
    expect(audit).toContain('change.applied');
    expect(audit).toContain('proposal.created');
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await expect.poll(() => page.getByText(/Chain intact/).count()).toBe(1);
    expectClean(session);
  });

  it('an owner denies a proposal; hostile text in it renders as text', async () => {
    const session = await open();
    const { h, page } = session;
    const hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    const card = await propose(h, { gateway: { port: 18791 } }, hostile);
    const before = h.documentText();

    await signIn(session.page, session.base, h.ownerToken);
    await page.locator(`a[href="#/proposal/${card.id}"]`).click();
    await page.getByRole('button', { name: 'Deny', exact: true }).waitFor();
    expect(await page.locator('.meta').textContent()).toContain(hostile);
    expect(await page.locator('#view img').count()).toBe(0);
    expect(await page.locator('#view script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();

    await page.locator('input[name="reason"]').fill('Not now');
    await page.getByRole('button', { name: 'Deny', exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Denied.');
    expect(await page.locator('.card-head .badge.status').textContent()).toBe('denied');
    expect(await page.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);
    expect(h.documentText()).toBe(before);
    const shown = await h.request('GET', `/v1/proposals/${card.id}`, h.ownerToken);
    expect(shown.json()).toMatchObject({ status: 'denied', resolution: { reason: 'Not now' } });

    // Signing out forgets the token: a reload asks for it again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.reload();
    await page.locator('input[name="token"]').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expectClean(session);
  });
});
