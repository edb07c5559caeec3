import { describe, expect, it } from 'vitest';
import { installation } from '../support/harness.js';

describe('OpenAPI', () => {
  it('documents every contract route, generated from the zod schemas', async () => {
    const h = await installation();
    const response = await h.request('GET', '/docs/json', null);
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toMatch(/^3\./);
    const routes = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    for (const route of [
      'GET /healthz',
      'GET /v1/config',
      'POST /v1/proposals',
      'GET /v1/proposals',
      'GET /v1/proposals/{id}',
      'GET /v1/proposals/{id}/card',
      'POST /v1/proposals/{id}/approve',
      'POST /v1/proposals/{id}/deny',
      'POST /v1/proposals/{id}/withdraw',
      'POST /v1/proposals/{id}/apply',
      'POST /v1/proposals/{id}/smoke-test',
      'POST /v1/proposals/{id}/rollback',
      'GET /v1/audit',
      'GET /v1/audit/verify',
      'GET /v1/events',
    ]) {
      expect(routes, route).toContain(route);
    }
    const propose = document.paths['/v1/proposals'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(propose.properties)).toEqual(
      expect.arrayContaining([
        'baseHash',
        'patch',
        'operations',
        'replace',
        'replacePaths',
        'sessionKey',
        'reason',
        'dryRun',
        'target',
      ]),
    );
    const approve = document.paths['/v1/proposals/{id}/approve'].post.requestBody.content['application/json'].schema;
    expect(approve.required).toEqual(['patchHash']);
    const ui = await h.request('GET', '/docs/', null);
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });
});
