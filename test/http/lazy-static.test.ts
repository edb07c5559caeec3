/**
 * The web page's files and the API docs are answered by an inner fastify instance built on
 * first use (src/http/lazy-app.ts), which is handed the client's raw URL in an internal header.
 * A hostile client must not reach anything outside the page's directory through it: not with
 * `..` in the raw path, nor by sending that internal header itself.
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { installation } from '../support/harness.js';

/** A GET with the path exactly as given (fetch would resolve `..` before sending it). */
function rawGet(base: string, path: string, headers: Record<string, string> = {}) {
  const url = new URL(base);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('lazily loaded web page files', () => {
  it('serve the page, and nothing outside its directory, whatever the path or headers say', async () => {
    const h = await installation();
    const base = await h.listen();
    const page = await rawGet(base, '/ui/app.js');
    expect(page.status).toBe(200);
    for (const path of ['/ui/../../package.json', '/ui/..%2f..%2fpackage.json', '/ui/%2e%2e/%2e%2e/package.json']) {
      const answer = await rawGet(base, path);
      expect(answer.body).not.toContain('"name": "countersign"');
      expect(answer.status).toBeGreaterThanOrEqual(400);
    }
    // The internal header a client sends is replaced by the real URL: app.js is answered, not the forged path.
    const forged = await rawGet(base, '/ui/app.js', { 'x-countersign-raw-url': '/ui/../../package.json' });
    expect(forged.status).toBe(200);
    expect(forged.body).toBe(page.body);
    const forgedDocs = await rawGet(base, '/ui/nope.js', { 'x-countersign-raw-url': '/ui/app.js' });
    expect(forgedDocs.status).toBe(404);
  });
});
