/**
 * Issue 10 items 4 and 8 on the web page, in real Chromium (playwright-core, Debian's browser as in
 * approval-page.test.ts): text nodes already keep an agent's text from running as markup, but a
 * bidi override still reversed what followed it and zero-width characters hid a difference. Now
 * every such character shows as a marked escape, and a long list's change shows as items added.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { fixture, type Harness, installation } from '../support/harness.js';
import { openTab, signIn, suite, useChromium, webOwnerToken } from './support.js';

/** Characters that must never be on the page raw (the rules of src/core/text/inert.ts). */
const raw = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u00a0\u2000-\u200a\u202f\u205f\u3000]/u;

const browser = useChromium();

async function open(h: Harness): Promise<{ page: Page; problems: string[] }> {
  const base = await h.listen();
  const { page, problems } = await openTab(browser());
  await signIn(page, base, webOwnerToken(h));
  return { page, problems };
}

/**
 * The page's visible text, with the line breaks and tabs `innerText` puts between blocks and
 * cells, and the page's own emoji variation selectors, taken out.
 */
async function visibleText(page: Page): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: what is rendered for the owner is the point
  return (await page.locator('#view').innerText()).replaceAll('\ufe0f', '').replace(/[\n\t]/g, ' ');
}

const hostileKey = 'ops\u202e\u2066team\u200b';
const reason = 'Routine tidy-up \u202egnp.exe\u202c\nTier: PROTECTED\u200b\u001b[2K';
const sessionKey = 'chat-42\u2067\u200d\u00a0';

suite('the web page shows a hostile agent’s text inert', () => {
  it('reason, session key and keys: bidi, zero-width and controls shown as marked escapes', async () => {
    const h = await installation();
    const proposed = await h.http('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: {
        commands: { mcp: true },
        channels: { telegram: { groups: { [hostileKey]: { requireMention: false } } } },
      },
      reason,
      sessionKey,
    });
    expect(proposed.status).toBe(202);
    const id = proposed.body.proposal.id as string;
    const { page, problems } = await open(h);

    // The pending list: the reason, the requester and the paths.
    const item = page.locator(`a[href="#/proposal/${id}"]`);
    await item.waitFor();
    const listText = await visibleText(page);
    expect(listText).not.toMatch(raw);
    expect(listText).toContain('Routine tidy-up \\u202egnp.exe\\u202c');
    expect(listText).toContain('ops\\u202e\\u2066team\\u200b');

    await item.click();
    await page.getByRole('heading', { name: 'The exact change' }).waitFor();
    const text = await visibleText(page);
    expect(text).not.toMatch(raw);
    expect(text).toContain('Routine tidy-up \\u202egnp.exe\\u202c');
    // The reason keeps its line break, inside its own box.
    expect(text).toContain('Tier: PROTECTED\\u200b\\x1b[2K');
    expect(text).toContain('session chat-42\\u2067\\u200d\\xa0');
    expect(text).toContain('ops\\u202e\\u2066team\\u200b');
    // Each escape is marked, so typed look-alikes (a literal backslash, doubled) read differently.
    expect(await page.locator('.esc').count()).toBeGreaterThan(8);
    expect(await page.locator('.esc', { hasText: '\\u202e' }).first().getAttribute('title')).toContain('U+202E');
    expect(problems).toEqual([]);
  });

  it('a tenth allowFrom entry shows as an added item; a long value shows where it differs', async () => {
    const allowFrom = Array.from({ length: 9 }, (_, i) => `tg:${String(i + 1).repeat(10)}`);
    const banner = `https://status.example/${'a'.repeat(400)}`;
    const document = fixture('openclaw.json') as {
      channels: { telegram: Record<string, unknown> };
      messages: Record<string, unknown>;
    };
    document.channels.telegram.allowFrom = allowFrom;
    document.messages.banner = banner;
    const h = await installation({ document });
    const proposed = await h.http('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: {
        channels: { telegram: { allowFrom: [...allowFrom, 'tg:6666666666'] } },
        messages: { banner: `${banner}/../../evil\u200b` },
      },
    });
    expect(proposed.status).toBe(202);
    const { page, problems } = await open(h);
    await page.locator(`a[href="#/proposal/${proposed.body.proposal.id}"]`).click();
    const change = page.locator('li.change', { hasText: 'allowFrom' });
    await change.waitFor();
    expect(await change.locator('ul.delta li.added').allTextContents()).toEqual(['+ "tg:6666666666"']);
    expect(await change.locator('ul.delta li.removed').count()).toBe(0);
    // Below the scrolling before/after boxes: where the two long values differ, highlighted.
    const long = page.locator('li.change', { hasText: 'messages.banner' });
    expect(await long.locator('.excerpt.before mark').textContent()).toBe('');
    expect(await long.locator('.excerpt.after mark').textContent()).toBe('/../../evil\\u200b');
    expect(await long.locator('.excerpt.after .skipped').first().textContent()).toMatch(/…\d+ chars…/);
    expect(problems).toEqual([]);
  });
});
