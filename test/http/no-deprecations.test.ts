// fastify 5.8 deprecated the top-level `disableRequestLogging` and `maxParamLength` options
// (FSTDEP023, FSTDEP022): every start printed both warnings, and every test file that built the
// app printed them again. The app now uses `logController` and `routerOptions`; this holds it.
import { afterEach, expect, it } from 'vitest';
import { installation } from '../support/harness.js';

const warnings: Error[] = [];
const record = (warning: Error) => warnings.push(warning);
process.on('warning', record);
afterEach(() => {
  warnings.length = 0;
});

it('building, serving and routing the app emits no process warning (no FSTDEP)', async () => {
  const h = await installation();
  await h.listen();
  // Routing with a parameter longer than the configured maximum, and a logged request.
  const long = await h.http('GET', `/v1/proposals/${'a'.repeat(300)}`, h.ownerToken);
  expect(long.status).toBe(404);
  expect((await h.http('GET', '/v1/proposals', h.ownerToken)).status).toBe(200);
  // Warnings are emitted on a later tick.
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', record);
  expect(
    warnings.map((warning) => `${warning.name} ${(warning as { code?: string }).code ?? ''}: ${warning.message}`),
  ).toEqual([]);
});

it('the route parameter limit still applies under routerOptions: an over-long id never reaches a handler', async () => {
  const h = await installation();
  expect(
    h.app.initialConfig.routerOptions?.maxParamLength ??
      (h.app.initialConfig as { maxParamLength?: number }).maxParamLength,
  ).toBe(200);
  const response = await h.request('GET', `/v1/proposals/${'b'.repeat(201)}`, h.ownerToken);
  expect(response.statusCode).toBe(404);
  expect(response.json().error.code).toBe('not_found');
});
