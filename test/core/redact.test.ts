import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/core/errors.js';
import type { Json, JsonObject } from '../../src/core/json.js';
import type { Pattern } from '../../src/core/pattern.js';
import { compilePattern } from '../../src/core/pattern.js';
import { isMarker, markSecrets, noSoftSecrets, unmark, veil } from '../../src/core/provenance.js';
import { REDACTED, redactValue, restoreRedacted } from '../../src/core/redact.js';
import { documentArb, fcOptions } from './arbitraries.js';

const patterns = ['**.token', '**.apiKey', 'mcp.servers.*.env.*', 'agents.list[id=main].secret', 'plain[].pw'].map(
  compilePattern,
);

const docValue = {
  channels: { telegram: { token: 'T1', name: 'tg' } },
  agents: {
    list: [
      { id: 'main', apiKey: 'K-main', secret: 'S-main', model: 'm' },
      { id: 'ops', apiKey: 'K-ops', secret: 'visible' },
    ],
  },
  plain: [{ pw: 'P0' }, { pw: 'P1', other: 1 }],
  dup: [
    { id: 'a', token: 'D0' },
    { id: 'a', token: 'D1' },
  ],
  mcp: { servers: { fs: { command: 'x', env: { A: 'E1', B: 'E2' }, args: ['--token', 'arg'] } } },
  nested: [[{ token: 'N1' }]],
};
const doc = docValue as unknown as JsonObject & typeof docValue;

const SECRETS = ['T1', 'K-main', 'S-main', 'K-ops', 'P0', 'P1', 'D0', 'D1', 'E1', 'E2', 'N1'];

describe('redactValue', () => {
  it('hides values at redacted paths inside objects, id-keyed arrays, plain arrays and nested arrays', () => {
    const shown = redactValue(patterns, doc, []) as typeof doc;
    expect(shown).toEqual({
      channels: { telegram: { token: REDACTED, name: 'tg' } },
      agents: {
        list: [
          { id: 'main', apiKey: REDACTED, secret: REDACTED, model: 'm' },
          { id: 'ops', apiKey: REDACTED, secret: 'visible' },
        ],
      },
      plain: [{ pw: REDACTED }, { pw: REDACTED, other: 1 }],
      dup: [
        { id: 'a', token: REDACTED },
        { id: 'a', token: REDACTED },
      ],
      mcp: { servers: { fs: { command: 'x', env: { A: REDACTED, B: REDACTED }, args: ['--token', 'arg'] } } },
      nested: [[{ token: REDACTED }]],
    });
    const text = JSON.stringify(shown);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(doc.channels.telegram.token).toBe('T1'); // input untouched
  });

  it('redacts a whole value when its own path is redacted, from any starting path', () => {
    expect(
      redactValue(patterns, { A: 'x', B: { deep: 1 } }, [
        { key: 'mcp' },
        { key: 'servers' },
        { key: 's' },
        { key: 'env' },
      ]),
    ).toEqual({
      A: REDACTED,
      B: REDACTED,
    });
    expect(redactValue(patterns, { nested: 1 }, [{ key: 'x' }, { key: 'token' }])).toBe(REDACTED);
    expect(redactValue(patterns, 'v', [{ key: 'agents' }, { key: 'list', id: 'main' }, { key: 'secret' }])).toBe(
      REDACTED,
    );
    expect(redactValue(patterns, 'v', [{ key: 'agents' }, { key: 'list', id: 'ops' }, { key: 'secret' }])).toBe('v');
  });

  it('is the identity without patterns, and idempotent with them', () => {
    fc.assert(
      fc.property(documentArb(), (value) => {
        expect(redactValue([], value, [])).toBe(value);
        const once = redactValue(patterns, value, []);
        expect(redactValue(patterns, once, [])).toEqual(once);
      }),
      fcOptions,
    );
  });

  it('leaves no value under a key named "token" anywhere in a random document', () => {
    const tokenOnly = [compilePattern('**.token')];
    fc.assert(
      fc.property(documentArb(), (value) => {
        const shown = redactValue(tokenOnly, value, []);
        const walk = (v: Json) => {
          if (Array.isArray(v)) v.forEach(walk);
          else if (v !== null && typeof v === 'object') {
            for (const [k, item] of Object.entries(v)) {
              if (k === 'token') expect(item).toBe(REDACTED);
              else walk(item);
            }
          }
        };
        walk(shown);
      }),
      fcOptions,
    );
  });
});

/** restoreRedacted as planChange uses it: on the document with its secrets marked, then unmarked. */
function restore(patterns: readonly Pattern[], base: JsonObject, target: JsonObject): JsonObject {
  const marked = markSecrets(patterns, base, noSoftSecrets);
  const restored = restoreRedacted(
    patterns,
    marked.document,
    target,
    (value) => isMarker(marked, value),
    (value) => veil(marked, value),
  );
  return unmark(marked, restored) as JsonObject;
}

describe('restoreRedacted', () => {
  it('keeps the current secret where the target holds "[redacted]" at a redacted path', () => {
    const target = structuredClone(redactValue(patterns, doc, [])) as JsonObject;
    expect(restore(patterns, doc, target)).toEqual(doc);
  });

  it('refuses a placeholder in a plain list whose elements before it changed: secrets cannot swap unseen', () => {
    const swapped = structuredClone(redactValue(patterns, doc, [])) as typeof doc;
    swapped.plain.reverse();
    let error: unknown;
    try {
      restore(patterns, doc, swapped as JsonObject);
    } catch (caught) {
      error = caught;
    }
    expect((error as CountersignError).code).toBe('invalid_patch');
    expect((error as CountersignError).message).toContain('not keyed by id');
  });

  it('matches id-keyed elements by id even after a reorder, plain arrays by position', () => {
    const target = structuredClone(redactValue(patterns, doc, [])) as typeof doc;
    target.agents.list.reverse();
    const restored = restore(patterns, doc, target as JsonObject) as typeof doc;
    expect(restored.agents.list).toEqual([...doc.agents.list].reverse());
  });

  it('refuses "[redacted]" at a redacted path with no current value (invalid_patch)', () => {
    const cases: JsonObject[] = [
      { channels: { slack: { token: REDACTED } } },
      { agents: { list: [{ id: 'new', apiKey: REDACTED }] } },
      { plain: [{ pw: 'P0' }, { pw: 'P1' }, { pw: REDACTED }] },
      { mcp: { servers: { other: { env: { A: REDACTED } } } } },
    ];
    for (const target of cases) {
      let error: unknown;
      try {
        restore(patterns, doc, target);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(CountersignError);
      expect((error as CountersignError).code).toBe('invalid_patch');
      expect((error as CountersignError).message).not.toMatch(/T1|K-main|E1/);
    }
  });

  it('leaves "[redacted]" at paths that are not redacted alone', () => {
    const target = { channels: { telegram: { name: REDACTED, token: REDACTED } }, free: REDACTED, list: [REDACTED] };
    expect(restore(patterns, doc, target)).toEqual({
      channels: { telegram: { name: REDACTED, token: 'T1' } },
      free: REDACTED,
      list: [REDACTED],
    });
  });

  it('lets a new real value replace a secret, and a removal remove it', () => {
    const target = structuredClone(doc) as typeof doc;
    target.channels.telegram.token = 'NEW';
    delete (target.mcp.servers.fs.env as Record<string, string>).A;
    const restored = restore(patterns, doc, target as JsonObject) as typeof doc;
    expect(restored.channels.telegram.token).toBe('NEW');
    expect(restored.mcp.servers.fs.env).toEqual({ B: 'E2' });
  });

  it('is the identity without patterns, and round-trips redactValue on random documents', () => {
    fc.assert(
      fc.property(documentArb(), (value) => {
        expect(restore([], value, value)).toEqual(value);
        const tokenOnly = [compilePattern('**.token')];
        const shown = redactValue(tokenOnly, value, []) as JsonObject;
        expect(restore(tokenOnly, value, shown)).toEqual(value);
      }),
      fcOptions,
    );
  });
});
