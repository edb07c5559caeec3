// What `serve` keeps in memory while idle: the modules only some requests need (the API docs,
// the web page's static files, the exec engine) are loaded by the first such request, and
// fastify's default ajv compilers never (every route is checked by zod). A server's resident
// set is mostly the code it has loaded, so a static import of one of these would undo that.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { e2eTimeout, http, init, serve, tempDir } from './cli.js';

/** Loaded on first use, by the request named. */
const onFirstUse: Record<string, string> = {
  '/node_modules/@fastify/swagger/': 'GET /docs/json',
  '/node_modules/@fastify/swagger-ui/': 'GET /docs/json',
  '/node_modules/yaml/': 'GET /docs/json',
  '/node_modules/@fastify/static/': 'GET /ui/',
  '/node_modules/unbash/': 'POST /v1/exec/requests',
  '/node_modules/re2js/': 'POST /v1/exec/requests',
  '/dist/service/exec/requests.js': 'POST /v1/exec/requests',
};
const never = ['/node_modules/ajv/', '/node_modules/@fastify/ajv-compiler/'];

/**
 * A preload that records every module the server loads: ES modules (and CommonJS ones they
 * import) as the loader's hook sees them, and, at exit, the CommonJS modules in require.cache,
 * which include those required by other CommonJS modules without passing through the hook.
 */
function recorder(log: string): string {
  const hook = `import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return nextLoad(url, context);
}`;
  return `import { writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
process.on('exit', () => {
  writeFileSync(${JSON.stringify(`${log}.cjs`)}, Object.keys(createRequire(import.meta.url).cache).join('\\n'));
});
`;
}

describe('serve: modules only some requests need are loaded on first use', { timeout: e2eTimeout }, () => {
  it('idle after /healthz, none of them is loaded; the requests that need them load them', async (t) => {
    const dir = tempDir(t);
    const installed = await init(join(dir, 'data'));
    const log = join(dir, 'modules.log');
    const preload = join(dir, 'record-modules.mjs');
    writeFileSync(preload, recorder(log));
    const env = { NODE_OPTIONS: `--import ${pathToFileURL(preload).href}` };
    const loaded = () =>
      [log, `${log}.cjs`].flatMap((file) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []));
    const missing = (modules: string[], part: string) => !modules.some((module) => module.includes(part));

    const idle = await serve(t, installed.dataDir, [], undefined, env);
    expect((await http(idle, 'GET', '/healthz', null)).status).toBe(200);
    await idle.stop();
    const atIdle = loaded();
    // The record works: the server's own modules and fastify are in it.
    expect(atIdle.some((module) => module.includes('/dist/http/app.js'))).toBe(true);
    expect(atIdle.some((module) => module.includes('/node_modules/fastify/fastify.js'))).toBe(true);
    for (const part of [...Object.keys(onFirstUse), ...never]) expect(missing(atIdle, part), part).toBe(true);

    rmSync(log, { force: true });
    rmSync(`${log}.cjs`, { force: true });
    const used = await serve(t, installed.dataDir, [], undefined, env);
    expect((await http(used, 'GET', '/docs/json', null)).status).toBe(200);
    const page = await fetch(`${used.url}/ui/`);
    expect(page.status).toBe(200);
    await page.text();
    const exec = await http(used, 'POST', '/v1/exec/requests', installed.agentToken, {
      argv: ['ls', '-la'],
      cwd: dir,
      sessionKey: 'lazy-modules',
    });
    expect([200, 202]).toContain(exec.status);
    await used.stop();
    const afterUse = loaded();
    for (const [part, request] of Object.entries(onFirstUse)) {
      expect(missing(afterUse, part), `${part} after ${request}`).toBe(false);
    }
    for (const part of never) expect(missing(afterUse, part), part).toBe(true);
  });
});
