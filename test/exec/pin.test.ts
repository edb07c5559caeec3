import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAllowlist, matchCompiled } from '../../src/core/exec/glob.js';
import { allowlistKey, allowlistOperations, pinnablePath, pinsOf } from '../../src/core/exec/pin.js';

/**
 * What allow-always writes must allow exactly what the owner saw (SPEC §9): the resolved path as
 * a pattern that matches that path only, and exactly those arguments.
 */

const invocation = (resolvedPath: string, args: string[]) => ({
  resolvedPath,
  invokedAs: 'path' as const,
  name: resolvedPath,
  args,
  cwd: '/tmp',
});

// Paths from characters that matter to OpenClaw's globs and to trimming.
const pathText = fc
  .array(fc.constantFrom('a', 'b', '/', '.', '*', '?', '\\', ' ', '~', '-'), { minLength: 1, maxLength: 12 })
  .map((chars) => `/${chars.join('')}`);
const isTwoEmpty = (args: readonly string[]) => args.length === 2 && args[0] === '' && args[1] === '';
const argText = fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 });

describe('pins', () => {
  it('a pinnable path, written as a pattern, matches that path and no other', () => {
    fc.assert(
      fc.property(pathText, pathText, argText, (path, other, args) => {
        const pins = pinsOf([{ argv: ['x', ...args], resolvedPath: path }]);
        if (!pinnablePath(path) || isTwoEmpty(args)) {
          expect(pins.ok).toBe(false);
          return;
        }
        expect(pins.ok).toBe(true);
        if (!pins.ok) return;
        const compiled = compileAllowlist(
          [{ ...(pins.pins[0] as { pattern: string; argPattern: string }) }],
          '/home/u',
        );
        expect(compiled.problems).toEqual([]);
        const printable = args.every(
          (arg) => !/[\r\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\ud800-\udfff]/.test(arg),
        );
        if (printable) expect(matchCompiled(compiled, invocation(path, args))).not.toBeNull();
        if (other !== path) expect(matchCompiled(compiled, invocation(other, args))).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('the arguments are pinned exactly', () => {
    fc.assert(
      fc.property(argText, argText, (args, other) => {
        const pins = pinsOf([{ argv: ['x', ...args], resolvedPath: '/usr/bin/x' }]);
        if (!pins.ok) {
          // The one form OpenClaw's exact subject cannot tell from no arguments at all.
          expect(isTwoEmpty(args)).toBe(true);
          return;
        }
        const compiled = compileAllowlist([...pins.pins], '/home/u');
        // OpenClaw's exact subject for no arguments is two NULs, as for two empty ones: an entry for
        // a bare `x` also covers `x '' ''` (the reverse is refused above). A property of the format.
        const same =
          (args.length === other.length && args.every((arg, index) => arg === other[index])) ||
          (args.length === 0 && isTwoEmpty(other));
        if (!same) expect(matchCompiled(compiled, invocation('/usr/bin/x', other))).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('an unresolved program or no program cannot be pinned; duplicates are pinned once', () => {
    expect(pinsOf([]).ok).toBe(false);
    expect(pinsOf([{ argv: ['x'], resolvedPath: null }]).ok).toBe(false);
    const twice = pinsOf([
      { argv: ['ls', '-l'], resolvedPath: '/usr/bin/ls' },
      { argv: ['ls', '-l'], resolvedPath: '/usr/bin/ls' },
    ]);
    expect(twice.ok && twice.pins.length).toBe(1);
  });

  it('agents.default (legacy main) and agents["*"] (every agent) are never written for an agent of that name', () => {
    expect(allowlistKey('main')).toBe('main');
    expect(allowlistKey('default')).toBeNull();
    expect(allowlistKey('*')).toBeNull();
    expect(allowlistKey('__proto__')).toBeNull();
  });

  it('creates what is missing and appends otherwise', () => {
    const entry = { pattern: '/usr/bin/ls' };
    expect(allowlistOperations({ version: 1 }, 'main', [entry])).toEqual([
      { op: 'add', path: '/agents', value: { main: { allowlist: [entry] } } },
    ]);
    expect(allowlistOperations({ agents: { other: {} } }, 'a/b~c', [entry])).toEqual([
      { op: 'add', path: '/agents/a~1b~0c', value: { allowlist: [entry] } },
    ]);
    expect(allowlistOperations({ agents: { main: { ask: 'always' } } }, 'main', [entry])).toEqual([
      { op: 'add', path: '/agents/main/allowlist', value: [entry] },
    ]);
    expect(allowlistOperations({ agents: { main: { allowlist: ['/bin/x'] } } }, 'main', [entry, entry])).toEqual([
      { op: 'add', path: '/agents/main/allowlist/-', value: entry },
      { op: 'add', path: '/agents/main/allowlist/-', value: entry },
    ]);
  });
});
