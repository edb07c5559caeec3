import { describe, expect, it } from 'vitest';
import { fixture, fixtures, installation } from '../support/harness.js';

const openclawSchema = `${fixtures}openclaw.schema.json`;

describe("validation against OpenClaw's real JSON Schema", () => {
  it('accepts changes to the shipped keyed config and refuses a wrong type with its path', async () => {
    const h = await installation({ schema: openclawSchema });
    const ok = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { agents: { defaults: { thinkingDefault: 'high' } } },
    });
    expect(ok.json().status).toBe('applied');

    const before = h.documentText();
    const wrong = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { gateway: { port: 'eighty' }, tools: { exec: { security: 'everything' } } },
    });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().error.code).toBe('invalid_config');
    expect(wrong.json().error.issues).toEqual(
      expect.arrayContaining([
        { path: '/gateway/port', message: 'must be integer' },
        expect.objectContaining({ path: '/tools/exec/security' }),
      ]),
    );
    expect(h.documentText()).toBe(before);

    const unknownKey = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { gateway: { portt: 1 } },
    });
    expect(unknownKey.statusCode).toBe(422);
    expect(unknownKey.json().error.issues[0].path).toBe('/gateway');
  });

  it('accepts the legacy agents.list form, as OpenClaw does after its migration', async () => {
    const h = await installation({ schema: openclawSchema, document: fixture('openclaw.legacy.json') });
    const response = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { agents: { list: [{ id: 'ops', thinkingDefault: 'high' }] } },
    });
    expect(response.json().status).toBe('applied');
    const invalid = await h.request('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { agents: { list: [{ id: 'ops', thinkingDefault: 42 }] } },
    });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().error.issues[0].path).toBe('/agents/entries/ops/thinkingDefault');
  });
});
