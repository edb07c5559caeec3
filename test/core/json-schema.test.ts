import { describe, expect, it } from 'vitest';
import type { Json, JsonObject } from '../../src/core/json.js';
import { defaultsFiller } from '../../src/core/json-schema.js';
import { MAX_SCHEMA_ISSUES, schemaIssues } from '../../src/core/schema-issues.js';
import { schemaValidator } from '../../src/service/schema.js';

const never = () => false;

function filled(schema: JsonObject, document: Json, matches = never): Json {
  const copy = structuredClone(document);
  defaultsFiller(schema, matches)(copy);
  return copy;
}

describe('defaults are filled in as ajv useDefaults did (and OpenClaw applies them)', () => {
  const schema: JsonObject = {
    type: 'object',
    properties: {
      channel: {
        type: 'object',
        properties: { dmPolicy: { type: 'string', default: 'pairing' }, enabled: { type: 'boolean' } },
        required: ['dmPolicy'],
      },
      list: { type: 'array', items: { type: 'object', properties: { on: { type: 'boolean', default: true } } } },
      accounts: {
        type: 'object',
        additionalProperties: { type: 'object', properties: { mode: { type: 'string', default: 'auto' } } },
      },
      choice: { anyOf: [{ type: 'object', properties: { picked: { type: 'string', default: 'first' } } }] },
    },
  };

  it('fills a missing key, keeps a present one, and descends through items and additionalProperties', () => {
    expect(
      filled(schema, { channel: { enabled: false }, list: [{}, { on: false }], accounts: { a: {}, b: { mode: 'x' } } }),
    ).toEqual({
      channel: { enabled: false, dmPolicy: 'pairing' },
      list: [{ on: true }, { on: false }],
      accounts: { a: { mode: 'auto' }, b: { mode: 'x' } },
    });
  });

  it('adds no object the document does not have, and nothing inside anyOf (the branch is not known)', () => {
    expect(filled(schema, {})).toEqual({});
    expect(filled(schema, { choice: {} })).toEqual({ choice: {} });
  });

  it('follows $ref within an embedded schema with its own $id, and stops on a reference cycle', () => {
    const embedded: JsonObject = {
      type: 'object',
      properties: {
        plugin: {
          $id: 'urn:test:plugin',
          $defs: { account: { type: 'object', properties: { port: { type: 'integer', default: 993 } } } },
          type: 'object',
          additionalProperties: { $ref: '#/$defs/account' },
        },
        loop: { $ref: '#/properties/loop' },
      },
    };
    expect(filled(embedded, { plugin: { main: {} }, loop: { x: 1 } })).toEqual({
      plugin: { main: { port: 993 } },
      loop: { x: 1 },
    });
  });

  it('takes then or else by what the condition says', () => {
    const conditional: JsonObject = {
      type: 'object',
      if: { required: ['vault'] },
      // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword here, not a thenable
      then: { properties: { items: { type: 'array', default: [] } } },
      else: { properties: { fallback: { type: 'boolean', default: false } } },
    };
    expect(filled(conditional, { vault: 'v' }, () => true)).toEqual({ vault: 'v', items: [] });
    expect(filled(conditional, {}, () => false)).toEqual({ fallback: false });
  });

  it('does not write through a __proto__ key in the document', () => {
    const document = JSON.parse('{"channel": {"__proto__": {"polluted": true}}}') as JsonObject;
    defaultsFiller(schema, never)(document);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(document.channel).toEqual(JSON.parse('{"__proto__": {"polluted": true}, "dmPolicy": "pairing"}'));
  });
});

describe('validator errors become invalid_config issues', () => {
  const validate = schemaValidator({
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      gateway: {
        type: 'object',
        additionalProperties: false,
        properties: { port: { type: 'integer', minimum: 1 }, mode: { enum: ['local', 'remote'] } },
      },
      groups: { type: 'object', additionalProperties: { type: 'object', properties: { on: { type: 'boolean' } } } },
      channel: {
        type: 'object',
        properties: { dmPolicy: { type: 'string', default: 'pairing' } },
        required: ['dmPolicy'],
      },
    },
  });

  it('names the unknown key at the strict object that refuses it, and no wrapper errors', () => {
    expect(validate({ gateway: { portt: 1 } })).toEqual([
      { path: '/gateway', message: 'must NOT have additional properties ("portt" is not allowed)' },
    ]);
    expect(validate({ extra: true })).toEqual([
      { path: '/', message: 'must NOT have additional properties ("extra" is not allowed)' },
    ]);
  });

  it('reports a bad value under an open map at the value, not as an unknown key', () => {
    expect(validate({ groups: { '-100': { on: 'yes' } } })).toEqual([
      { path: '/groups/-100/on', message: 'must be boolean' },
    ]);
  });

  it('keeps the messages 422s have carried for type, enum and required', () => {
    expect(validate({ gateway: { port: 'eighty', mode: 'cloud' } })).toEqual([
      { path: '/gateway/port', message: 'must be integer' },
      { path: '/gateway/mode', message: 'must be equal to one of the allowed values' },
    ]);
    expect(validate({ channel: {} })).toEqual([]);
  });

  it('writes paths as JSON Pointers, escaping "/" and "~" and keeping spaces and other scripts as they are', () => {
    const issues = validate({ groups: { 'a/b ~ ü': { on: 1 } } });
    expect(issues).toEqual([{ path: '/groups/a~1b ~0 ü/on', message: 'must be boolean' }]);
  });

  it('caps the list, so a wholly wrong document does not make a huge 422', () => {
    const groups: JsonObject = {};
    for (let index = 0; index < 500; index++) groups[`g${index}`] = { on: index };
    expect(validate({ groups })).toHaveLength(MAX_SCHEMA_ISSUES);
  });

  it('does not touch the document it checks', () => {
    const document = { channel: {} };
    validate(document);
    expect(document).toEqual({ channel: {} });
  });
});

describe('what is refused as a schema', () => {
  it('refuses a non-object and a schema whose $ref leads nowhere', () => {
    expect(() => schemaValidator([])).toThrow(/JSON object/);
    expect(() => schemaValidator({ type: 'object', properties: { a: { $ref: '#/$defs/missing' } } })).toThrow(
      /does not define/,
    );
  });

  it('maps the few keywords it rewrites and passes the rest through', () => {
    expect(
      schemaIssues([
        { instanceLocation: '#/a', keyword: 'properties', keywordLocation: '#/properties', error: 'wrapper' },
        {
          instanceLocation: '#/a',
          keyword: 'minimum',
          keywordLocation: '#/properties/a/minimum',
          error: '0 is less than 1.',
        },
        {
          instanceLocation: '#/a',
          keyword: 'minimum',
          keywordLocation: '#/properties/a/minimum',
          error: '0 is less than 1.',
        },
      ]),
    ).toEqual([{ path: '/a', message: '0 is less than 1.' }]);
  });
});
