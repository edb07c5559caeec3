import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPath, type Path, parsePath, type Segment } from '../../src/core/path.js';
import { fcOptions } from './arbitraries.js';
import { anyKey, idSegment, keySegment } from './awkward-keys.js';

const indexSegment: fc.Arbitrary<Segment> = fc.record({ key: anyKey, index: fc.nat() });
const anyPath = fc.array(fc.oneof(keySegment, idSegment, indexSegment), { maxLength: 6 });

describe('formatPath and parsePath', () => {
  it('round-trip every path, whatever its keys and ids hold', () => {
    fc.assert(
      fc.property(anyPath, (path) => {
        expect(parsePath(formatPath(path))).toEqual(path);
      }),
      { numRuns: 2000 },
    );
  });

  it('quote what is not a plain identifier, and only that', () => {
    const cases: Array<[Path, string]> = [
      [[{ key: 'agents' }, { key: 'list', id: 'main' }, { key: 'model' }], 'agents.list[id=main].model'],
      [[{ key: 'models' }, { key: 'gpt-4.1' }], 'models."gpt-4.1"'],
      [[{ key: 'a' }, { key: '' }, { key: 'b' }], 'a."".b'],
      [[{ key: 'a' }, { key: 'x*' }], 'a."x*"'],
      [[{ key: 'a' }, { key: 'say "hi"' }], 'a."say \\"hi\\""'],
      [[{ key: 'l', id: 'a.b:c' }], 'l[id=a.b:c]'],
      [[{ key: 'l', id: 'a]b' }], 'l[id="a]b"]'],
      [[{ key: 'l', id: '"x"' }], 'l[id="\\"x\\""]'],
      [
        [
          { key: 'l', id: 'x' },
          { key: '', id: 'y' },
        ],
        'l[id=x].[id=y]',
      ],
      [[{ key: 'l', index: 2 }], 'l[2]'],
      [[], ''],
    ];
    for (const [path, text] of cases) {
      expect(formatPath(path)).toBe(text);
      expect(parsePath(text)).toEqual(path);
    }
  });

  it('reads the bracket form OpenClaw\'s "config get" accepts', () => {
    expect(parsePath('channels.telegram.accounts["team.ops[west]"].token')).toEqual([
      { key: 'channels' },
      { key: 'telegram' },
      { key: 'accounts' },
      { key: 'team.ops[west]' },
      { key: 'token' },
    ]);
    expect(parsePath('["a.b"]["c"][id=x]')).toEqual([{ key: 'a.b' }, { key: 'c', id: 'x' }]);
  });

  it('refuses malformed text with a message that says where', () => {
    const cases: Array<[string, RegExp]> = [
      ['a..b', /empty segment at character 3/],
      ['a.', /empty segment/],
      ['a."b', /quoted key is not closed/],
      ['a."\\x"', /not a valid JSON string/],
      ['a.b"c"', /quote may only start a segment/],
      ['a["b"', /not closed with "\]"/],
      ['a[x]', /brackets hold/],
      ['a[id=x', /"\[" is not closed/],
      ['a[id=]', /empty id is written/],
      ['a[1x]', /an index must be a whole number/],
      ['a]', /unexpected "\]"/],
      ['a[]', /names every element/],
      ['"a"b', /unexpected "b"/],
    ];
    for (const [text, message] of cases) expect(() => parsePath(text), text).toThrow(message);
  });

  it('is stable for plain keys', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[A-Za-z0-9_$-]{1,6}$/), { minLength: 1, maxLength: 5 }), (keys) => {
        expect(formatPath(keys.map((key) => ({ key })))).toBe(keys.join('.'));
      }),
      fcOptions,
    );
  });
});
