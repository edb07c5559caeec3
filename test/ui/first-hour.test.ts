/**
 * Issue 15 on the owner's page, in Debian's Chromium: the "Run smoke test" button on a proposal
 * that adds an MCP server, and the "new key" marker that makes a misspelt key visible.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { type Harness, installation, tempDir } from '../support/harness.js';
import { openTab, signIn, suite, useChromium, webOwnerToken } from './support.js';

const browser = useChromium();
const filesystemServer = new URL('../../node_modules/.bin/mcp-server-filesystem', import.meta.url).pathname;

/** No schema would refuse a misspelt key: `{}` accepts every document, as no schema does. */
function permissiveSchema(): string {
  const file = join(tempDir(), 'any.schema.json');
  writeFileSync(file, '{}');
  return file;
}

async function propose(h: Harness, patch: unknown): Promise<{ id: string }> {
  const response = await h.request('POST', '/v1/proposals', h.agentToken, {
    baseHash: h.currentHash(),
    patch,
    reason: 'first hour',
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json().proposal as { id: string };
}

suite('first hour on the web page', () => {
  it('"Run smoke test" starts the proposed MCP server and shows its tools; the result is kept and audited', async () => {
    const h = await installation({ schema: permissiveSchema() });
    const base = await h.listen();
    const { page, problems } = await openTab(browser());
    const root = tempDir();
    // A server the document does not have yet (its fixture has a "filesystem" one).
    const card = await propose(h, { mcp: { servers: { notes: { command: filesystemServer, args: [root] } } } });

    await signIn(page, base, webOwnerToken(h));
    await page.locator(`a[href="#/proposal/${card.id}"]`).click();
    await page.getByRole('heading', { name: 'MCP server review' }).waitFor();
    // The new server is a new key: noted once, on its first change, badged on each.
    const changes = await page.locator('li.change').count();
    expect(changes).toBeGreaterThan(1);
    expect(await page.locator('li.change .badge.new-key').count()).toBe(changes);
    expect(await page.locator('.alert.new-key').count()).toBe(1);
    await page.getByRole('button', { name: 'Run smoke test' }).click();
    await page.getByRole('heading', { name: /^Smoke test: \d+ tools$/ }).waitFor({ timeout: 30_000 });
    const smoke = page.locator('.smoke-result');
    expect(await smoke.textContent()).toContain('write_file');
    const writeRow = smoke.locator('tr', { hasText: 'write_file' }).first();
    expect(await writeRow.textContent()).toContain('destructive');

    expect(h.auditKinds()).toContain('mcp.smoke_test');
    const stored = (await h.request('GET', `/v1/proposals/${card.id}`, h.ownerToken)).json();
    expect(stored.review.mcp[0].smokeTest.tools.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('a decided proposal has no smoke-test button', async () => {
    const h = await installation({ schema: permissiveSchema() });
    const base = await h.listen();
    const { page } = await openTab(browser());
    const card = await propose(h, {
      mcp: { servers: { filesystem: { command: filesystemServer, args: [tempDir()] } } },
    });
    expect((await h.request('POST', `/v1/proposals/${card.id}/deny`, h.ownerToken, {})).statusCode).toBe(200);
    await signIn(page, base, webOwnerToken(h));
    await page.goto(`${base}/ui/#/proposal/${card.id}`);
    await page.getByRole('heading', { name: 'MCP server review' }).waitFor();
    expect(await page.getByRole('button', { name: /smoke test/i }).count()).toBe(0);
  });

  it('a key new to the document is marked, with the existing key it was probably meant to be', async () => {
    const h = await installation({ schema: permissiveSchema() });
    const base = await h.listen();
    const { page, problems } = await openTab(browser());
    const card = await propose(h, { comands: { mcp: true } });
    await signIn(page, base, webOwnerToken(h));
    await page.locator(`a[href="#/proposal/${card.id}"]`).click();
    await page.getByRole('heading', { name: 'The exact change' }).waitFor();
    const change = page.locator('li.change', { hasText: 'comands.mcp' });
    expect(await change.locator('.badge.new-key').textContent()).toBe('new key');
    expect(await change.locator('.alert.new-key').textContent()).toBe(
      'comands is a new key: the document has no such key there yet. Did you mean commands?',
    );
    expect(problems).toEqual([]);
  });
});
