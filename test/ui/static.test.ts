import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uiContentSecurityPolicy, uiDirectory } from '../../src/http/routes/ui.js';
import { http, init, serve, tempDir } from '../e2e/cli.js';
import { installation } from '../support/harness.js';

const files = readdirSync(uiDirectory);
const text = (name: string) => readFileSync(join(uiDirectory, name), 'utf8');

describe('web page: served from the package under a strict policy', () => {
  it('GET /ui/ is the page, with CSP, nosniff, no-referrer and no framing; /ui redirects', async () => {
    const h = await installation();
    const page = await h.request('GET', '/ui/', null);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toBe(uiContentSecurityPolicy);
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
      "require-trusted-types-for 'script'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    expect(page.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
    expect(page.headers['set-cookie']).toBeUndefined();
    expect(page.body).toContain('name="token"');

    const redirect = await h.request('GET', '/ui', null);
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('/ui/');

    for (const [name, type] of [
      ['app.js', /^(application|text)\/javascript/],
      ['api.js', /^(application|text)\/javascript/],
      ['dom.js', /^(application|text)\/javascript/],
      ['app.css', /^text\/css/],
      ['favicon.svg', /^image\/svg\+xml/],
    ] as const) {
      const response = await h.request('GET', `/ui/${name}`, null);
      expect(response.statusCode, name).toBe(200);
      expect(response.headers['content-type'], name).toMatch(type);
      expect(response.headers['x-content-type-options'], name).toBe('nosniff');
    }
    expect((await h.request('GET', '/ui/missing.js', null)).statusCode).toBe(404);
    expect((await h.request('GET', '/ui/%2e%2e/package.json', null)).statusCode).toBe(404);
  });

  it('has no inline script or style and loads nothing from another origin', () => {
    expect(files).toEqual(expect.arrayContaining(['index.html', 'app.js', 'api.js', 'dom.js', 'app.css']));
    const html = text('index.html');
    // Every <script> has a src; there is no <style> element and no style="" or on*="" attribute.
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="[^"]+"/);
    expect(html).not.toMatch(/<script\b[^>]*>\s*[^<\s]/);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    for (const name of files) {
      const source = text(name);
      expect(source, name).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
      expect(source, name).not.toMatch(/@import|url\(\s*['"]?(?:https?:)?\/\//);
    }
  });

  it('renders data with text nodes only: no innerHTML, outerHTML, insertAdjacentHTML, document.write or eval', () => {
    for (const name of files.filter((file) => file.endsWith('.js'))) {
      const source = text(name)
        .split('\n')
        .filter((line) => !line.trim().startsWith('//'))
        .join('\n');
      expect(source, name).not.toMatch(
        /\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/,
      );
    }
  });

  it('keeps the token in sessionStorage and sends it only as a bearer header, never in a URL or cookie', () => {
    const api = text('api.js');
    expect(api).toContain('sessionStorage');
    expect(api).not.toContain('localStorage');
    expect(api).toContain("credentials: 'omit'");
    expect(api).toMatch(/authorization: `Bearer \$\{/);
    for (const name of files.filter((file) => file.endsWith('.js'))) {
      expect(text(name), name).not.toMatch(/document\.cookie|[?&]token=/);
    }
  });

  it('the built package serves the page too (dist/http/ui is copied by npm run build)', async (t) => {
    const dir = tempDir(t);
    const installed = await init(join(dir, 'data'));
    const server = await serve(t, installed.dataDir);
    const page = await fetch(`${server.url}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await page.text()).toContain('name="token"');
    const script = await fetch(`${server.url}/ui/app.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain('streamEvents');
    expect((await http(server, 'GET', '/healthz', null)).status).toBe(200);
  });
});
