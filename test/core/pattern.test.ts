import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Path, Segment } from '../../src/core/path.js';
import { formatPath } from '../../src/core/path.js';
import { compilePattern, matchesPattern } from '../../src/core/pattern.js';
import { fcOptions, referenceMatch } from './arbitraries.js';
import { anyKey, idSegment, keySegment } from './awkward-keys.js';

const key = (k: string): Segment => ({ key: k });
const byId = (k: string, id: string): Segment => ({ key: k, id });
const byIndex = (k: string, index: number): Segment => ({ key: k, index });
const matches = (pattern: string, path: Path) => matchesPattern(compilePattern(pattern), path);

describe('pattern language — examples', () => {
  it('plain keys', () => {
    expect(matches('commands.mcp', [key('commands'), key('mcp')])).toBe(true);
    expect(matches('commands.mcp', [key('commands')])).toBe(false);
    expect(matches('commands.mcp', [key('commands'), key('mcp'), key('x')])).toBe(false);
    expect(matches('commands', [key('commands'), key('mcp')])).toBe(false);
  });

  it('"**" matches zero or more segments, anywhere', () => {
    expect(matches('gateway.auth.**', [key('gateway'), key('auth')])).toBe(true);
    expect(matches('gateway.auth.**', [key('gateway'), key('auth'), key('token')])).toBe(true);
    expect(matches('gateway.auth.**', [key('gateway'), key('auth'), byId('keys', 'k'), key('x')])).toBe(true);
    expect(matches('gateway.auth.**', [key('gateway')])).toBe(false);
    expect(matches('**.token', [key('token')])).toBe(true);
    expect(matches('**.token', [key('channels'), byId('list', 'tg'), key('token')])).toBe(true);
    expect(matches('**.token', [key('token'), key('x')])).toBe(false);
    expect(matches('**', [])).toBe(true);
    expect(matches('**', [key('a'), byIndex('b', 2)])).toBe(true);
    expect(matches('a.**.b.**.c', [key('a'), key('b'), key('c')])).toBe(true);
    expect(matches('a.**.b.**.c', [key('a'), key('x'), key('b'), key('y'), key('z'), key('c')])).toBe(true);
    expect(matches('a.**.b.**.c', [key('a'), key('c'), key('b')])).toBe(false);
    expect(matches('**.**', [])).toBe(true);
  });

  it('"*" matches exactly one segment of any kind', () => {
    expect(matches('mcp.servers.*.env.*', [key('mcp'), key('servers'), key('s'), key('env'), key('API_KEY')])).toBe(
      true,
    );
    expect(matches('mcp.servers.*', [key('mcp'), key('servers'), byId('x', 'y')])).toBe(true);
    expect(matches('mcp.servers.*', [key('mcp'), key('servers'), byIndex('x', 0)])).toBe(true);
    expect(matches('mcp.servers.*', [key('mcp'), key('servers')])).toBe(false);
    expect(matches('mcp.servers.*', [key('mcp'), key('servers'), key('a'), key('b')])).toBe(false);
    expect(matches('*', [key('')])).toBe(true);
  });

  it('"name[]" matches any element of name, "name[id=x]" only element x', () => {
    const main = [key('agents'), byId('list', 'main'), key('model')];
    const ops = [key('agents'), byId('list', 'ops'), key('model')];
    const indexed = [key('agents'), byIndex('list', 3), key('model')];
    expect(matches('agents.list[].model', main)).toBe(true);
    expect(matches('agents.list[].model', ops)).toBe(true);
    expect(matches('agents.list[].model', indexed)).toBe(true);
    expect(matches('agents.list[id=main].model', main)).toBe(true);
    expect(matches('agents.list[id=main].model', ops)).toBe(false);
    expect(matches('agents.list[id=main].model', indexed)).toBe(false);
    // the element pattern never matches the array's own path or a plain key
    expect(matches('agents.list[]', [key('agents'), key('list')])).toBe(false);
    expect(matches('agents.list[].model', [key('agents'), key('list'), key('model')])).toBe(false);
    expect(matches('agents.other[].model', main)).toBe(false);
    // ids are compared literally and run up to the "]", so they may contain dots (or be quoted)
    expect(matches('x.l[id=a.b]', [key('x'), byId('l', 'a.b')])).toBe(true);
    expect(matches('x.l[id="a].b"].v', [key('x'), byId('l', 'a].b'), key('v')])).toBe(true);
    expect(matches('x.l[].v', [key('x'), byId('l', 'a.b'), key('v')])).toBe(true);
    expect(matches('x.l[id=a:b]', [key('x'), byId('l', 'a:b')])).toBe(true);
    expect(matches('x.l[id=*]', [key('x'), byId('l', 'main')])).toBe(false); // ids are not globbed
  });

  it('plain keys never match element segments', () => {
    expect(matches('agents.list.model', [key('agents'), byId('list', 'main'), key('model')])).toBe(false);
    expect(matches('agents.list', [key('agents'), byId('list', 'main')])).toBe(false);
    expect(matches('agents.list', [key('agents'), byIndex('list', 0)])).toBe(false);
    expect(matches('agents.li*', [key('agents'), byIndex('list', 0)])).toBe(false);
  });

  it('"*" inside a key is a glob within that key', () => {
    const flag = (k: string) => [key('gateway'), key(k)];
    expect(matches('gateway.dangerously*', flag('dangerouslyAllowAll'))).toBe(true);
    expect(matches('gateway.dangerously*', flag('dangerously'))).toBe(true);
    expect(matches('gateway.dangerously*', flag('notdangerously'))).toBe(false);
    expect(matches('gateway.*Token', flag('botToken'))).toBe(true);
    expect(matches('gateway.*Token', flag('botTokens'))).toBe(false);
    expect(matches('gateway.a*b*c', flag('abc'))).toBe(true);
    expect(matches('gateway.a*b*c', flag('a-b-x-c'))).toBe(true);
    expect(matches('gateway.a*b*c', flag('acb'))).toBe(false);
    // regex metacharacters in keys are literal
    expect(matches('x.a+b*', [key('x'), key('a+bc')])).toBe(true);
    expect(matches('x.a+b*', [key('x'), key('aabc')])).toBe(false);
    expect(matches('x.(a)*', [key('x'), key('(a)z')])).toBe(true);
    expect(matches('x.a$*', [key('x'), key('a$1')])).toBe(true);
    // globs within element keys
    expect(matches('agents.li*[].model', [key('agents'), byId('list', 'main'), key('model')])).toBe(true);
    // a glob spans characters that are not dots in the pattern, but keys may contain anything
    expect(matches('x.a*', [key('x'), key('a.b/c d\n')])).toBe(true);
  });

  it('keys with dots are one segment and are never split', () => {
    const path = [key('models'), key('gpt-4.1'), key('enabled')];
    expect(matches('models.*.enabled', path)).toBe(true);
    expect(matches('models.gpt-4.1.enabled', path)).toBe(false);
    expect(matches('models.gpt-4*.enabled', path)).toBe(true);
    expect(matches('models.**', path)).toBe(true);
    expect(matches('**.enabled', [key('a.b.enabled')])).toBe(false);
    expect(matches('a.b.enabled', [key('a.b.enabled')])).toBe(false);
    expect(matches('*', [key('a.b.enabled')])).toBe(true);
  });

  it('rejects malformed patterns', () => {
    for (const bad of ['', ' ', 'a..b', '.a', 'a.', 'a[', 'a]', 'a[x]', 'a[id=]', 'a[]b']) {
      expect(() => compilePattern(bad), bad).toThrow();
    }
  });
});

describe('pattern language — properties', () => {
  const partArb = fc.constantFrom('**', '*', 'a', 'b', 'ab', 'a*', '*b', 'l[]', 'l[id=x]', 'l*[]', '*[]', 'l[id=y]');
  const patternArb = fc.array(partArb, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.'));
  const segmentArb: fc.Arbitrary<Segment> = fc.oneof(
    fc.constantFrom('a', 'b', 'ab', 'aab', 'l', 'x.y', '').map(key),
    fc.constantFrom('x', 'y', 'z').map((id) => byId('l', id)),
    fc.constantFrom('x', 'y').map((id) => byId('lx', id)),
    fc.nat({ max: 3 }).map((index) => byIndex('l', index)),
  );
  const pathArb = fc.array(segmentArb, { maxLength: 6 });

  it('agrees with a naive backtracking matcher', () => {
    fc.assert(
      fc.property(patternArb, pathArb, (pattern, path) => {
        expect(matches(pattern, path)).toBe(referenceMatch(pattern, path));
      }),
      { numRuns: 2000 },
    );
  });

  it('"**" prefixes and suffixes behave as "anything"', () => {
    fc.assert(
      fc.property(pathArb, pathArb, patternArb, (prefix, suffix, pattern) => {
        const compiled = compilePattern(pattern);
        if (matchesPattern(compiled, suffix)) expect(matches(`**.${pattern}`, [...prefix, ...suffix])).toBe(true);
        if (matchesPattern(compiled, prefix)) expect(matches(`${pattern}.**`, [...prefix, ...suffix])).toBe(true);
      }),
      fcOptions,
    );
  });

  it('a path of plain keys matches the pattern spelling it, and the formatted path is stable', () => {
    const plainKey = fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/);
    fc.assert(
      fc.property(fc.array(plainKey, { minLength: 1, maxLength: 5 }), (keys) => {
        const path = keys.map(key);
        expect(matches(keys.join('.'), path)).toBe(true);
        expect(formatPath(path)).toBe(keys.join('.'));
        expect(matches(keys.map(() => '*').join('.'), path)).toBe(true);
        expect(matches(`${keys.join('.')}.x`, path)).toBe(false);
      }),
      fcOptions,
    );
  });

  it('is linear on long paths with many "**" (no exponential backtracking)', () => {
    const pattern = compilePattern(`${'**.a.'.repeat(20)}**.b`);
    const path = Array.from({ length: 2000 }, () => key('a'));
    const started = performance.now();
    expect(matchesPattern(pattern, path)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('formatPath', () => {
  it('writes id-keyed elements as name[id=x] and quotes keys that are not identifiers', () => {
    expect(formatPath([key('agents'), byId('list', 'main'), key('model')])).toBe('agents.list[id=main].model');
    expect(formatPath([key('a.b'), key('x/y'), key('with space')])).toBe('"a.b"."x/y"."with space"');
    expect(formatPath([key('m'), byIndex('list', 2)])).toBe('m.list[2]');
  });
});

describe('quoted keys', () => {
  const account = [key('channels'), key('telegram'), key('accounts'), key('team.ops[west]'), key('token')];

  it('name keys holding dots and brackets, as formatPath writes them or in the bracket form', () => {
    expect(formatPath(account)).toBe('channels.telegram.accounts."team.ops[west]".token');
    expect(matches('channels.telegram.accounts."team.ops[west]".token', account)).toBe(true);
    expect(matches('channels.telegram.accounts["team.ops[west]"].token', account)).toBe(true);
    expect(matches('**["team.ops[west]"].token', account)).toBe(true);
    expect(matches('channels.*.accounts."team.ops[west]".*', account)).toBe(true);
    expect(matches('channels.telegram.accounts."team.ops[east]".token', account)).toBe(false);
    // a dotted key is one segment: quoting "a.b" never matches the two keys a and b
    expect(matches('"a.b"', [key('a.b')])).toBe(true);
    expect(matches('"a.b"', [key('a'), key('b')])).toBe(false);
    expect(matches('a.b', [key('a.b')])).toBe(false);
  });

  it('are always literal: no globs, no "*" or "**" inside quotes', () => {
    expect(matches('x."dangerously*"', [key('x'), key('dangerously*')])).toBe(true);
    expect(matches('x."dangerously*"', [key('x'), key('dangerouslyAllow')])).toBe(false);
    expect(matches('x.dangerously*', [key('x'), key('dangerouslyAllow')])).toBe(true);
    expect(matches('"*"', [key('*')])).toBe(true);
    expect(matches('"*"', [key('a')])).toBe(false);
    expect(matches('"**"', [])).toBe(false);
    expect(matches('"**".a', [key('x'), key('a')])).toBe(false);
    expect(matches('"**".a', [key('**'), key('a')])).toBe(true);
    expect(matches('x.""', [key('x'), key('')])).toBe(true);
    expect(matches('x.""', [key('x'), key('a')])).toBe(false);
  });

  it('hold escaped quotes, backslashes and unicode, and combine with element selectors', () => {
    expect(matches('a."say \\"hi\\""', [key('a'), key('say "hi"')])).toBe(true);
    expect(matches('a."back\\\\slash"', [key('a'), key('back\\slash')])).toBe(true);
    expect(matches('a."\\u00e9t\\u00e9"', [key('a'), key('été')])).toBe(true);
    expect(matches('"my list"[id=main].model', [byId('my list', 'main'), key('model')])).toBe(true);
    expect(matches('"my list"[].model', [byId('my list', 'ops'), key('model')])).toBe(true);
    expect(matches('l[id="a.b]c"]', [byId('l', 'a.b]c')])).toBe(true);
    expect(matches('x["l"][id=main]', [key('x'), byId('l', 'main')])).toBe(true);
  });

  it('explain what is wrong with bad quoting', () => {
    const cases: Array<[string, RegExp]> = [
      ['a."b', /quoted key is not closed/],
      ['a."b\\"', /quoted key is not closed/],
      ['a."\\q"', /not a valid JSON string/],
      ['a.b"c"', /quote may only start a segment/],
      ['a."b"c', /unexpected "c"/],
      ['a["b"', /not closed with "\]"/],
      ['a["b"]c', /unexpected "c"/],
      ['a[b]', /brackets hold/],
      ['a[0]', /names a position/],
      ['a[id=]', /empty id is written/],
      ['a[id="x"', /"\[" is not closed/],
    ];
    for (const [source, message] of cases) expect(() => compilePattern(source), source).toThrow(message);
  });
});

describe('quoted keys — properties', () => {
  /** Every key quoted, ids too: the spelling that can never glob. */
  const quotedPattern = (path: Path) =>
    path
      .map((segment) =>
        segment.id === undefined
          ? JSON.stringify(segment.key)
          : `${JSON.stringify(segment.key)}[id=${JSON.stringify(segment.id)}]`,
      )
      .join('.');
  /** The bracket form after a first quoted segment: `"a"["b"]["c"][id="x"]`. */
  const bracketPattern = (path: Path) =>
    path
      .map((segment, index) => {
        const name = index === 0 ? JSON.stringify(segment.key) : `[${JSON.stringify(segment.key)}]`;
        return segment.id === undefined ? name : `${name}[id=${JSON.stringify(segment.id)}]`;
      })
      .join('');
  const namedPath = fc.array(fc.oneof(keySegment, idSegment), { minLength: 1, maxLength: 6 });
  const otherSegment = fc.oneof(
    keySegment,
    idSegment,
    fc.record({ key: anyKey, index: fc.nat({ max: 3 }) }),
  ) as fc.Arbitrary<Segment>;

  it('formatPath(path), every segment quoted, or the bracket form: matches that path and no path differing in one segment', () => {
    fc.assert(
      fc.property(namedPath, fc.nat(), otherSegment, (path, at, other) => {
        const position = at % path.length;
        const changed = [...path];
        changed[position] = other;
        const differs = JSON.stringify(other) !== JSON.stringify(path[position]);
        for (const source of [formatPath(path), quotedPattern(path), bracketPattern(path)]) {
          const pattern = compilePattern(source);
          expect(matchesPattern(pattern, path), source).toBe(true);
          if (differs) expect(matchesPattern(pattern, changed), source).toBe(false);
          expect(matchesPattern(pattern, path.slice(0, -1)), source).toBe(false);
          expect(matchesPattern(pattern, [...path, { key: 'x' }]), source).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
