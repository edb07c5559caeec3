import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileAllowlist,
  cwdBoundArgPattern,
  exactArgPattern,
  type Invocation,
  matchAllowlist,
  matchCompiled,
} from '../../src/core/exec/glob.js';

const HOME = '/home/ada';

/** OpenClaw 2026.9.6's `compileGlobRegex` (POSIX), restated as the oracle our automaton must agree with. */
function openclawGlob(pattern: string): RegExp {
  let regex = '^';
  for (let index = 0; index < pattern.length; ) {
    const char = pattern.charAt(index);
    if (char === '*') {
      if (pattern[index + 1] === '*') {
        regex += '.*';
        index += 2;
        continue;
      }
      regex += '[^/]*';
      index += 1;
      continue;
    }
    regex += char === '?' ? '[^/]' : char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    index += 1;
  }
  return new RegExp(`${regex}$`);
}

const atPath = (resolvedPath: string, args: string[] = [], cwd?: string): Invocation => ({
  resolvedPath,
  invokedAs: 'path',
  name: resolvedPath,
  args,
  ...(cwd === undefined ? {} : { cwd }),
});
const bare = (name: string, resolvedPath: string, args: string[] = [], cwd?: string): Invocation => ({
  resolvedPath,
  invokedAs: 'bare',
  name,
  args,
  ...(cwd === undefined ? {} : { cwd }),
});
const matches = (
  patterns: (string | { pattern: string; argPattern?: string; source?: string; id?: string })[],
  invocation: Invocation,
) => matchAllowlist(patterns, invocation, HOME);

describe('path globs (OpenClaw semantics)', () => {
  it('the docs examples', () => {
    expect(matches(['~/path/to/**/bin/peekaboo'], atPath('/home/ada/path/to/x/y/bin/peekaboo'))).not.toBeNull();
    expect(matches(['~/.local/bin/*'], atPath('/home/ada/.local/bin/tool'))).not.toBeNull();
    expect(matches(['~/.local/bin/*'], atPath('/home/ada/.local/bin/sub/tool'))).toBeNull();
    expect(matches(['/opt/homebrew/bin/rg'], atPath('/opt/homebrew/bin/rg'))).not.toBeNull();
    expect(matches(['/opt/homebrew/bin/rg'], atPath('/opt/homebrew/bin/rga'))).toBeNull();
  });

  it('`**/` does not match zero directories (unlike picomatch), `*` matches dotfiles, `?` one non-slash character', () => {
    expect(matches(['/a/**/b'], atPath('/a/b'))).toBeNull();
    expect(matches(['/a/**/b'], atPath('/a/x/b'))).not.toBeNull();
    expect(matches(['/a/**b'], atPath('/a/x/y/b'))).not.toBeNull();
    expect(matches(['/bin/*'], atPath('/bin/.hidden'))).not.toBeNull();
    expect(matches(['/bin/r?'], atPath('/bin/rg'))).not.toBeNull();
    expect(matches(['/bin?rg'], atPath('/bin/rg'))).toBeNull();
  });

  it('brackets, braces and "!" are literal; case matters', () => {
    expect(matches(['/bin/[rg]'], atPath('/bin/r'))).toBeNull();
    expect(matches(['/bin/[rg]'], atPath('/bin/[rg]'))).not.toBeNull();
    expect(matches(['/bin/{rg,git}'], atPath('/bin/rg'))).toBeNull();
    expect(matches(['/usr/bin/RG'], atPath('/usr/bin/rg'))).toBeNull();
  });

  it('`~` is the given home only at the start, before a separator; a `~` elsewhere still makes a path pattern', () => {
    expect(matches(['~/bin/x'], atPath('/home/ada/bin/x'))).not.toBeNull();
    expect(matchAllowlist(['~/bin/x'], atPath('/home/bob/bin/x'), '/home/bob')).not.toBeNull();
    expect(matches(['~ada/bin/x'], atPath('/home/ada/bin/x'))).toBeNull();
    // `x~` has no `/`, but a `~` makes it a path pattern: it never matches a bare `x~`.
    expect(matches(['x~'], bare('x~', '/usr/bin/x~'))).toBeNull();
  });

  it('patterns are trimmed; a pattern with a dot segment target is normalised for globs only', () => {
    expect(matches(['  /usr/bin/rg  '], atPath('/usr/bin/rg'))).not.toBeNull();
    expect(matches(['/usr/bin/*'], atPath('/usr/lib/../bin/rg'))).not.toBeNull();
    expect(matches(['/usr/bin/rg'], atPath('/usr/lib/../bin/rg'))).toBeNull();
  });

  it('nothing matches an unresolved executable except the match-anything entry', () => {
    expect(matches(['**'], { ...atPath('/x'), resolvedPath: null })).toBeNull();
    expect(matches(['*'], { ...atPath('/x'), resolvedPath: null })).not.toBeNull();
  });

  it('agrees with OpenClaw’s regex translation on random patterns and paths', () => {
    const alphabet = fc.constantFrom('a', 'b', '/', '.', '*', '?');
    const pathChars = fc.constantFrom('a', 'b', '/', '.');
    fc.assert(
      fc.property(
        fc.array(alphabet, { minLength: 1, maxLength: 10 }),
        fc.array(pathChars, { maxLength: 12 }),
        (patternChars, targetChars) => {
          const pattern = `/${patternChars.join('')}`;
          const target = `/${targetChars.join('')}`;
          if (target.split('/').some((segment) => segment === '.' || segment === '..')) return;
          const ours = matchAllowlist([pattern], atPath(target), HOME) !== null;
          expect(ours).toBe(openclawGlob(pattern).test(target));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('glob properties', () => {
  const segment = fc.stringMatching(/^[a-z0-9._-]{1,8}$/).filter((text) => text !== '.' && text !== '..');
  const segments = fc.array(segment, { minLength: 1, maxLength: 6 });

  it('`*` never crosses `/`', () => {
    fc.assert(
      fc.property(segments, segments, (base, rest) => {
        fc.pre(rest.length >= 2);
        const path = `/${[...base, ...rest].join('/')}`;
        expect(matches([`/${base.join('/')}/*`], atPath(path))).toBeNull();
        expect(matches([`/${base.join('/')}/*`], atPath(`/${[...base, rest[0]].join('/')}`))).not.toBeNull();
      }),
    );
  });

  it('`**` crosses `/`', () => {
    fc.assert(
      fc.property(segments, segments, (base, rest) => {
        const path = `/${[...base, ...rest].join('/')}`;
        expect(matches([`/${base.join('/')}/**`], atPath(path))).not.toBeNull();
      }),
    );
  });

  it('a literal path pattern matches exactly that path', () => {
    fc.assert(
      fc.property(segments, segments, (a, b) => {
        const pattern = `/${a.join('/')}`;
        const other = `/${b.join('/')}`;
        expect(matches([pattern], atPath(pattern))).not.toBeNull();
        expect(matches([pattern], atPath(other)) !== null).toBe(pattern === other);
      }),
    );
  });

  it('bare names never match path invocations', () => {
    const bareGlob = fc.stringMatching(/^[a-z0-9.*?_-]{1,10}$/).filter((text) => text.trim() !== '*');
    fc.assert(
      fc.property(bareGlob, segments, (pattern, path) => {
        const resolved = `/${path.join('/')}`;
        expect(matches([pattern], atPath(resolved))).toBeNull();
        expect(matches([pattern], { ...bare(path.at(-1) as string, resolved), invokedAs: 'path' })).toBeNull();
      }),
    );
  });
});

describe('bare names', () => {
  it('`rg` matches rg found through PATH, not ./rg or /tmp/rg (docs)', () => {
    expect(matches(['rg'], bare('rg', '/opt/homebrew/bin/rg'))).not.toBeNull();
    expect(matches(['rg'], atPath('/opt/homebrew/bin/rg'))).toBeNull();
    expect(matches(['rg'], { ...atPath('/tmp/rg'), name: './rg' })).toBeNull();
    expect(matches(['rg'], bare('./rg', '/tmp/rg'))).toBeNull();
  });

  it('`*` and `?` in a bare name glob over the name', () => {
    expect(matches(['python3*'], bare('python3.12', '/usr/bin/python3.12'))).not.toBeNull();
    expect(matches(['g?t'], bare('git', '/usr/bin/git'))).not.toBeNull();
    expect(matches(['python3*'], bare('python2', '/usr/bin/python2'))).toBeNull();
  });

  it('the name is compared, not the real path: a symlinked PATH entry matches by its own name', () => {
    expect(matches(['python3'], bare('python3', '/usr/lib/python3.12/bin/python3.12'))).not.toBeNull();
  });

  it('`*` alone matches everything, unless it has an argPattern or was generated', () => {
    expect(matches(['*'], atPath('/tmp/evil'))).toEqual({ pattern: '*', entryId: null, index: 0 });
    expect(matches([{ pattern: '*', argPattern: '^x$' }], bare('x', '/bin/x', ['x']))).toBeNull();
    expect(matches([{ pattern: '*', source: 'allow-always' }], bare('x', '/bin/x'))).toBeNull();
  });
});

describe('argPattern', () => {
  const python = (args: string[]) => bare('python3', '/usr/bin/python3', args);

  it('the docs example: ^safe\\.py$ allows python3 safe.py only', () => {
    const list = [{ pattern: 'python3', argPattern: '^safe\\.py$' }];
    expect(matches(list, python(['safe.py']))).not.toBeNull();
    expect(matches(list, python(['other.py']))).toBeNull();
    expect(matches(list, python(['safe.py', '--evil']))).toBeNull();
  });

  it('is unanchored and joins the arguments with single spaces', () => {
    const list = [{ pattern: 'git', argPattern: 'status' }];
    expect(matches(list, bare('git', '/usr/bin/git', ['-C', '/repo', 'status']))).not.toBeNull();
    expect(
      matches([{ pattern: 'git', argPattern: '^log -n 5$' }], bare('git', '/usr/bin/git', ['log', '-n', '5'])),
    ).not.toBeNull();
    // Spaces inside one argument look the same as separators in this form: the docs say to anchor.
    expect(
      matches([{ pattern: 'git', argPattern: '^log -n 5$' }], bare('git', '/usr/bin/git', ['log -n', '5'])),
    ).not.toBeNull();
  });

  it('an argPattern entry that matches wins over an earlier path-only entry; otherwise the path-only entry', () => {
    const list = [
      { pattern: '/usr/bin/git', id: 'any-args' },
      { pattern: 'git', argPattern: '^status$', id: 'status' },
    ];
    expect(matches(list, bare('git', '/usr/bin/git', ['status']))?.entryId).toBe('status');
    expect(matches(list, bare('git', '/usr/bin/git', ['push']))?.entryId).toBe('any-args');
  });

  it('an invalid expression never matches and is reported as a problem', () => {
    const list = [{ pattern: '/usr/bin/git', argPattern: '(', id: 'broken' }];
    expect(matches(list, atPath('/usr/bin/git', ['(']))).toBeNull();
    const compiled = compileAllowlist(list, HOME);
    expect(compiled.problems).toEqual([
      expect.objectContaining({
        index: 0,
        entryId: 'broken',
        reason: expect.stringMatching(/not a valid regular expression/),
      }),
    ]);
  });

  it('constructs RE2 and JavaScript read differently are refused, not guessed', () => {
    for (const argPattern of ['(a)\\1', '(?=a)a', '\\a', '[[:alpha:]]', '[]a]', '[^]', '\\x{41}', '\\u{41}', '\\012']) {
      const compiled = compileAllowlist([{ pattern: '/bin/x', argPattern }], HOME);
      expect(compiled.problems, argPattern).toHaveLength(1);
      expect(matchCompiled(compiled, atPath('/bin/x', ['a']))).toBeNull();
    }
    // `\uXXXX` is translated rather than refused.
    expect(matches([{ pattern: '/bin/x', argPattern: '^\\u0041$' }], atPath('/bin/x', ['A']))).not.toBeNull();
  });

  it('catastrophic patterns run in linear time on a 1 MB argument', () => {
    const list = [{ pattern: '/bin/x', argPattern: '^(a+)+$' }];
    const started = performance.now();
    expect(matches(list, atPath('/bin/x', [`${'a'.repeat(1_000_000)}!`]))).toBeNull();
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('an argument with characters the engines read differently matches no argPattern (conservative)', () => {
    const list = [{ pattern: '/bin/echo', argPattern: '^hi .*$' }];
    expect(matches(list, atPath('/bin/echo', ['hi', 'there']))).not.toBeNull();
    for (const odd of ['\r', '\u2028', '\u00a0', '\v', '😀']) {
      expect(matches(list, atPath('/bin/echo', ['hi', `x${odd}`])), JSON.stringify(odd)).toBeNull();
    }
  });

  it('on patterns both engines read alike, RE2 agrees with JavaScript', () => {
    const patterns = ['^a.*b$', 'a\\s+b', '^[^ ]+$', '\\bab\\b', '^(ab|a)*$', 'a{2,3}', '^\\d+ \\w+$', '\\.\\/', '^$'];
    const subject = fc.array(fc.constantFrom('a', 'b', ' ', '1', '.', '/', '\t', '\n', 'é'), { maxLength: 10 });
    fc.assert(
      fc.property(fc.constantFrom(...patterns), subject, (argPattern, chars) => {
        const arg = chars.join('');
        const ours = matches([{ pattern: '/bin/x', argPattern }], atPath('/bin/x', [arg])) !== null;
        expect(ours).toBe(new RegExp(argPattern).test(arg));
      }),
      { numRuns: 2000 },
    );
  });

  it('exactArgPattern is unambiguous: one argument "a b" is not two arguments a, b', () => {
    const two = exactArgPattern(['a', 'b']);
    expect(two).toContain('\u0000');
    const list = [{ pattern: '/bin/x', argPattern: two }];
    expect(matches(list, atPath('/bin/x', ['a', 'b']))).not.toBeNull();
    expect(matches(list, atPath('/bin/x', ['a b']))).toBeNull();
    expect(matches(list, atPath('/bin/x', ['a', 'b', 'c']))).toBeNull();
    expect(matches(list, atPath('/bin/x', ['a']))).toBeNull();
    const none = [{ pattern: '/bin/x', argPattern: exactArgPattern([]) }];
    expect(matches(none, atPath('/bin/x', []))).not.toBeNull();
    expect(matches(none, atPath('/bin/x', ['']))).toBeNull();
  });

  it('exactArgPattern escapes every metacharacter', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme-ascii', maxLength: 8 }), { maxLength: 4 }), (args) => {
        const list = [{ pattern: '/bin/x', argPattern: exactArgPattern(args) }];
        expect(matches(list, atPath('/bin/x', args))).not.toBeNull();
        expect(compileAllowlist(list, HOME).problems).toEqual([]);
      }),
    );
  });
});

describe('generated entries (source: allow-always)', () => {
  const cwd = '/home/ada/project';
  const args = ['push', 'origin', 'main'];

  it('match only through the cwd-bound argv hash, and only in that directory', () => {
    const list = [
      { pattern: '/usr/bin/git', argPattern: cwdBoundArgPattern(args, cwd), source: 'allow-always', id: 'g' },
    ];
    expect(matches(list, atPath('/usr/bin/git', args, cwd))?.entryId).toBe('g');
    expect(matches(list, atPath('/usr/bin/git', args, '/tmp'))).toBeNull();
    expect(matches(list, atPath('/usr/bin/git', [...args, '--force'], cwd))).toBeNull();
    expect(matches(list, atPath('/usr/bin/git', args))).toBeNull();
  });

  it('are inactive without a hash, or with a regex, or with the legacy sha256:argv: form', () => {
    for (const argPattern of [undefined, '^push', 'sha256:argv:abc']) {
      const entry = { pattern: '/usr/bin/git', source: 'allow-always', ...(argPattern ? { argPattern } : {}) };
      expect(matches([entry], atPath('/usr/bin/git', args, cwd)), String(argPattern)).toBeNull();
    }
    expect(
      matches([{ pattern: '/usr/bin/git', argPattern: 'sha256:argv:abc' }], atPath('/usr/bin/git', args)),
    ).toBeNull();
  });
});

describe('compiled allowlists', () => {
  it('report the entry index and id; bare strings work as entries', () => {
    const list = ['/bin/a', { pattern: '/bin/b', id: 'B' }];
    expect(matches(list, atPath('/bin/b'))).toEqual({ pattern: '/bin/b', entryId: 'B', index: 1 });
  });

  it('a 20-segment chain against 1,000 patterns evaluates well under a millisecond', () => {
    const patterns = Array.from({ length: 1000 }, (_, index) => {
      switch (index % 4) {
        case 0:
          return `/opt/tools${index}/bin/tool`;
        case 1:
          return `~/projects/p${index}/**/bin/*`;
        case 2:
          return `tool${index}*`;
        default:
          return { pattern: `/usr/local/bin/t${index}`, argPattern: `^--flag${index}( |$)` };
      }
    });
    const compiled = compileAllowlist(patterns, HOME);
    const chain = Array.from({ length: 20 }, (_, index) =>
      index % 2 === 0
        ? bare(`tool${index}x`, `/usr/bin/tool${index}x`, ['--flag', String(index)])
        : atPath(`/home/ada/projects/p${(index * 4 + 1) % 1000}/a/b/bin/run`, ['x']),
    );
    for (let warm = 0; warm < 200; warm++) for (const segment of chain) matchCompiled(compiled, segment);
    const times: number[] = [];
    for (let run = 0; run < 500; run++) {
      const started = performance.now();
      for (const segment of chain) matchCompiled(compiled, segment);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const p99 = times[Math.floor(times.length * 0.99)] as number;
    // The bench holds the 1 ms target; here a loose bound keeps slow CI machines green.
    expect(p99).toBeLessThan(5);
  });
});
