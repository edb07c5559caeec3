/**
 * Issue 10 items 10 and 11 on the owner's web page, in Debian's Chromium (playwright-core, never
 * a downloaded browser): a proposal voided because its base moved loses its Approve button while
 * the owner looks at it, and a rebased one says so. Skipped without Chromium outside CI.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { type Harness, installation } from '../support/harness.js';
import { openTab, signIn, suite, useChromium, waitLive, webOwnerToken } from './support.js';

const browser = useChromium();

/** The owner's page on the proposal `id`, signed in with a web token, with the event stream live. */
async function showProposal(h: Harness, id: string): Promise<{ page: Page; problems: string[] }> {
  const base = await h.listen();
  const { page, problems } = await openTab(browser(), { consoleErrors: false });
  await signIn(page, base, webOwnerToken(h));
  await page.locator(`a[href="#/proposal/${id}"]`).click();
  await page.getByRole('button', { name: 'Approve', exact: true }).waitFor();
  await waitLive(page);
  return { page, problems };
}

async function proposeAsAgent(h: Harness, patch: unknown) {
  return h.http('POST', '/v1/proposals', h.agentToken, { baseHash: h.currentHash(), patch });
}

suite('stale and rebased proposals update open pages live', () => {
  it('a proposal voided by another apply loses its Approve button without a reload', async () => {
    const h = await installation();
    const proposed = await proposeAsAgent(h, {
      commands: { mcp: true },
      agents: { defaults: { thinkingDefault: 'medium' } },
    });
    expect(proposed.status).toBe(202);
    const { page, problems } = await showProposal(h, proposed.body.proposal.id);

    // The agent applies an allowlisted change to one of the same settings.
    expect((await proposeAsAgent(h, { agents: { defaults: { thinkingDefault: 'high' } } })).body.status).toBe(
      'applied',
    );

    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('now stale');
    expect(await page.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);
    expect(await page.locator('input[name="totp"]').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('a rebased proposal tells the owner it was carried over, and stays approvable', async () => {
    const h = await installation();
    const proposed = await proposeAsAgent(h, { gateway: { port: 18790 } });
    expect(proposed.status).toBe(202);
    const { page, problems } = await showProposal(h, proposed.body.proposal.id);

    expect((await proposeAsAgent(h, { agents: { defaults: { thinkingDefault: 'high' } } })).body.status).toBe(
      'applied',
    );

    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('carried over unchanged');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Applied.');
    const document = h.document() as { gateway: { port: number }; agents: { defaults: { thinkingDefault: string } } };
    expect([document.gateway.port, document.agents.defaults.thinkingDefault]).toEqual([18790, 'high']);
    expect(problems).toEqual([]);
  });
});
