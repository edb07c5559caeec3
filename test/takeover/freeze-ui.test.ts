/**
 * The takeover controls on the owner's web page (SPEC §11), in Debian's Chromium through
 * playwright-core against the real app on 127.0.0.1: the owner freezes with a reason, the banner
 * shows it (and a freeze made elsewhere arrives by the event stream), an agent is refused, and
 * the owner unfreezes with a real TOTP code. Skipped without Chromium outside CI.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { installation } from '../support/harness.js';
import { totpCode } from '../support/rfc6238.js';
import { enrolOwner, midStepClock } from '../support/totp.js';
import { openTab, signIn, suite, useChromium, waitLive, webOwnerToken } from '../ui/support.js';

const browser = useChromium();

suite('freeze on the web page', () => {
  it('Freeze agents asks for a reason, the banner shows it, agents are refused, Unfreeze takes a code', async () => {
    const clock = midStepClock();
    const h = await installation({ clock });
    const secret = randomBytes(20);
    enrolOwner(h, secret);
    const base = await h.listen();
    const { page, problems } = await openTab(browser(), { width: 1280 });
    await signIn(page, base, webOwnerToken(h));
    await waitLive(page);

    await expect.poll(() => page.locator('#takeover').textContent()).toContain('Recovery never drilled');
    await page.getByRole('button', { name: 'Freeze agents' }).click();
    await page.locator('#freeze-reason').fill('agent <b>rewrote</b> the token\u202e');
    await page.getByRole('button', { name: 'Freeze now' }).click();
    const banner = page.locator('#frozen-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Agents are FROZEN');
    // The reason is shown as text, the bidi override made visible, no markup interpreted.
    expect(await banner.textContent()).toContain('agent <b>rewrote</b> the token');
    expect(await banner.locator('b').count()).toBe(0);

    const refused = await h.http('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { agents: { defaults: { thinkingDefault: 'high' } } },
    });
    expect(refused.body.error.code).toBe('frozen');

    // Without a code the server says so on the page; with one, the freeze is lifted.
    await page.getByRole('button', { name: 'Unfreeze' }).click();
    await expect.poll(() => banner.textContent()).toContain('totp_required');
    await page.locator('#unfreeze-totp').fill(totpCode(secret, clock.now()));
    await page.getByRole('button', { name: 'Unfreeze' }).click();
    await page.getByRole('button', { name: 'Freeze agents' }).waitFor();
    expect(await page.locator('#frozen-banner').count()).toBe(0);
    expect((await h.http('GET', '/v1/status', h.ownerToken)).body.frozen).toBe(false);

    // A freeze made elsewhere (the CLI, another owner) reaches the open page by the event stream.
    await h.http('POST', '/v1/freeze', h.ownerToken, { reason: 'from the terminal' });
    await expect.poll(() => page.locator('#takeover').textContent()).toContain('from the terminal');
    expect(problems).toEqual([]);
  });
});
