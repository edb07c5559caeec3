// The browser side of the UI tests: Debian's Chromium through playwright-core (never a downloaded
// browser), one per file, and a fresh tab per test that records what went wrong on the page.
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, onTestFinished } from 'vitest';
import type { Harness } from '../support/harness.js';

const chromiumPath = process.env.COUNTERSIGN_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(chromiumPath);
/** `describe`, or `describe.skip` without Chromium outside CI. In CI a missing browser is a failure: .ci/run installs it. */
export const suite = available || process.env.CI ? describe : describe.skip;

/** Launches Chromium for this file (before all its tests, closed after them); call at the top level. */
export function useChromium(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!available && !process.env.CI) return;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('Chromium is not running');
    return browser;
  };
}

export type Tab = { page: Page; context: BrowserContext; problems: string[]; requests: string[] };

/**
 * A fresh browser context and tab, closed when the test ends. `problems` collects page errors
 * and (unless `consoleErrors: false`) console errors; `requests` every URL the tab asks for.
 */
export async function openTab(
  browser: Browser,
  options: { width?: number; deviceScaleFactor?: number; consoleErrors?: boolean } = {},
): Promise<Tab> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1200, height: 900 },
    ...(options.deviceScaleFactor === undefined ? {} : { deviceScaleFactor: options.deviceScaleFactor }),
  });
  onTestFinished(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  if (options.consoleErrors ?? true) {
    page.on('console', (message) => {
      // Refusals are 4xx answers to fetch, which Chromium logs as failed loads: those are expected.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        problems.push(`console: ${message.text()}`);
      }
    });
  }
  page.on('request', (request) => requests.push(request.url()));
  return { page, context, problems, requests };
}

/** Opens the owner page at `base` and signs in with `token`. */
export async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/ui/`);
  await page.locator('input[name="token"]').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** An owner token for the web surface, the one a person at the page holds. */
export function webOwnerToken(h: Harness): string {
  return h.token({ role: 'owner', name: 'owner', surface: 'web' });
}

/** Waits until the page's event stream reports itself live. */
export async function waitLive(page: Page): Promise<void> {
  await expect.poll(() => page.locator('#live').textContent()).toBe('live');
}
