// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell parameter expansions are the test data
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyseShell, type Segment, type Separator } from '../../src/core/exec/shell.js';

function segments(text: string): Segment[] {
  const result = analyseShell(text);
  if (result.kind !== 'segments') throw new Error(`expected segments for ${JSON.stringify(text)}: ${result.reason}`);
  return result.segments;
}

function argvs(text: string): string[][][] {
  return segments(text).map((segment) => segment.stages);
}

function reasonFor(text: string): string {
  const result = analyseShell(text);
  if (result.kind !== 'unanalysable') throw new Error(`expected unanalysable for ${JSON.stringify(text)}`);
  return result.reason;
}

describe('analyseShell: separators and pipelines', () => {
  it('splits at &&, ||, ;, & and newlines; the separator is what ends each segment', () => {
    expect(segments('git status && git diff || echo failed; ls & pwd\nid')).toEqual([
      { text: 'git status', separator: '&&', stages: [['git', 'status']] },
      { text: 'git diff', separator: '||', stages: [['git', 'diff']] },
      { text: 'echo failed', separator: ';', stages: [['echo', 'failed']] },
      { text: 'ls', separator: '&', stages: [['ls']] },
      { text: 'pwd', separator: ';', stages: [['pwd']] },
      { text: 'id', separator: null, stages: [['id']] },
    ]);
  });

  it('keeps a trailing & (background) and drops a trailing ;', () => {
    expect(segments('sleep 1 &')).toEqual([{ text: 'sleep 1', separator: '&', stages: [['sleep', '1']] }]);
    expect(segments('ls;')).toEqual([{ text: 'ls', separator: null, stages: [['ls']] }]);
    expect(segments('ls ;  \n')).toEqual([{ text: 'ls', separator: null, stages: [['ls']] }]);
  });

  it('a background & inside an and/or list ends the last pipeline of that list', () => {
    expect(segments('a && b & c')).toEqual([
      { text: 'a', separator: '&&', stages: [['a']] },
      { text: 'b', separator: '&', stages: [['b']] },
      { text: 'c', separator: null, stages: [['c']] },
    ]);
  });

  it('a pipeline is one segment with one argv per stage', () => {
    expect(segments('cat a.txt | grep -v x | wc -l && echo done')).toEqual([
      {
        text: 'cat a.txt | grep -v x | wc -l',
        separator: '&&',
        stages: [
          ['cat', 'a.txt'],
          ['grep', '-v', 'x'],
          ['wc', '-l'],
        ],
      },
      { text: 'echo done', separator: null, stages: [['echo', 'done']] },
    ]);
  });

  it('allows a newline after && and | (as the shell does) and blank lines between commands', () => {
    expect(argvs('a &&\n  b |\n c\n\n\nd')).toEqual([[['a']], [['b'], ['c']], [['d']]]);
  });

  it('ignores comments, as the shell does', () => {
    expect(segments('ls -la # rm -rf /\n# a comment line\npwd')).toEqual([
      { text: 'ls -la', separator: ';', stages: [['ls', '-la']] },
      { text: 'pwd', separator: null, stages: [['pwd']] },
    ]);
    expect(argvs('echo a#b \\#c')).toEqual([[['echo', 'a#b', '#c']]]);
  });

  it('refuses empty segments and dangling operators', () => {
    for (const text of [
      'a;;b',
      'a &&',
      '&& a',
      'a || || b',
      ';a',
      'a | | b',
      'a |',
      'a & & b',
      'a ;& b',
      '',
      '  \n ',
      '# only',
    ]) {
      expect(analyseShell(text).kind, text).toBe('unanalysable');
    }
  });
});

describe('analyseShell: quoting', () => {
  it('removes single quotes, double quotes and backslash escapes', () => {
    expect(argvs(`printf 'a b' "c \\"d\\" \\$e \\\\ \\x" f\\ g 'it'\\''s' "" ''`)).toEqual([
      [['printf', 'a b', 'c "d" $e \\ \\x', 'f g', "it's", '', '']],
    ]);
  });

  it('keeps shell metacharacters inside quotes as text', () => {
    expect(argvs(`echo '$(rm -rf /)' '\`id\`' '$HOME' '*.js' '&&' ';' '|' '>' "a;b&&c|d"`)).toEqual([
      [['echo', '$(rm -rf /)', '`id`', '$HOME', '*.js', '&&', ';', '|', '>', 'a;b&&c|d']],
    ]);
  });

  it('a quoted reserved word is a plain command', () => {
    expect(argvs(`'if' x`)).toEqual([[['if', 'x']]]);
    expect(argvs('echo if then fi')).toEqual([[['echo', 'if', 'then', 'fi']]]);
  });

  it('refuses ANSI-C $\'…\' and locale $"…" quoting (/bin/sh does not read them as bash does)', () => {
    expect(reasonFor(`echo $'a\\tb'`)).toMatch(/ANSI-C/);
    expect(reasonFor(`echo $"a"`)).toMatch(/locale/);
  });

  it('refuses unbalanced quotes', () => {
    expect(reasonFor(`echo 'abc`)).toMatch(/unbalanced quotes/);
    expect(reasonFor(`echo "abc`)).toMatch(/unbalanced quotes/);
    expect(reasonFor(`echo "a'b`)).toMatch(/unbalanced quotes/);
  });

  it('keeps literal characters the shell keeps: a lone $, unmatched [, {}, HEAD~1', () => {
    expect(argvs('echo a$ $ a[b {} HEAD~1 a=b [ ]')).toEqual([
      [['echo', 'a$', '$', 'a[b', '{}', 'HEAD~1', 'a=b', '[', ']']],
    ]);
    expect(argvs('find . -name x -exec echo {} \\;')).toEqual([
      [['find', '.', '-name', 'x', '-exec', 'echo', '{}', ';']],
    ]);
  });
});

describe('analyseShell: unanalysable constructs', () => {
  const cases: Array<[string, RegExp]> = [
    ['echo $(id)', /command substitution \$\(/],
    ['echo "$(id)"', /command substitution \$\(/],
    ['echo `id`', /backticks/],
    ['echo "`id`"', /backticks/],
    ['echo $HOME', /variable expansion/],
    ['echo "$HOME"', /variable expansion/],
    ['echo ${HOME}', /parameter expansion/],
    ['echo "${HOME:-/}"', /parameter expansion/],
    ['echo $1 $@', /variable expansion/],
    ['echo $((1 + 2))', /arithmetic expansion/],
    ['diff <(ls a) <(ls b)', /process substitution/],
    ['ls > out.txt', /redirection/],
    ['ls >> out.txt', /redirection/],
    ['cat < in.txt', /redirection/],
    ['ls 2>&1', /redirection/],
    ['ls &> all.txt', /redirection/],
    ['cat <<EOF\nhello\nEOF', /heredoc/],
    ["cat <<'EOF'\nhello\nEOF", /heredoc/],
    ['cat <<< hello', /here-string/],
    ['(cd /tmp; ls)', /subshell/],
    ['{ ls; pwd; }', /group/],
    ['for f in a b; do rm $f; done', /loop/],
    ['while true; do ls; done', /loop/],
    ['until false; do ls; done', /loop/],
    ['select x in a; do ls; done', /loop/],
    ['if true; then ls; fi', /if/],
    ['case x in x) ls;; esac', /case/],
    ['f() { ls; }; f', /function/],
    ['function f { ls; }', /function/],
    ['[[ -f x ]]', /test/],
    ['(( x = 1 ))', /arithmetic/],
    ['coproc ls', /coproc/],
    ['ls |& cat', /\|&/],
    ['! ls', /negation/],
    ['time ls', /time/],
    ['ls *.js', /glob/],
    ['ls file?.txt', /glob/],
    ['ls [ab].txt', /glob/],
    ['ls @(a|b)', /glob/],
    ['echo {a,b}', /brace expansion/],
    ['echo {1..3}', /brace expansion/],
    ['FOO=1 ls', /variable assignment/],
    ['PATH=/tmp/evil ls', /variable assignment/],
    ['FOO=1', /variable assignment/],
    ['export PATH=/tmp/evil', /assignment/],
    ['ls \\\n-la', /line continuation/],
    ['l\\\ns', /line continuation/],
    ['echo "a\\\nb"', /line continuation/],
    // found by property (2): the gap between a command and its background `&` is checked too
    ["',' && '-' \\\n &", /line continuation/],
    ['echo ~root/x', /tilde/],
    ['echo ~+', /tilde/],
    ['echo a=~/x', /tilde/],
    ['echo a\0b', /NUL/],
    ['cd /tmp/evil && ./run', /`cd` changes/],
    ['export PATH; ls', /`export` changes/],
    ['alias ls=rm; ls', /`alias` changes|assignment/],
    ['source ./env.sh && deploy', /`source` changes/],
  ];
  for (const [text, reason] of cases) {
    it(`${JSON.stringify(text)} → unanalysable (${reason.source})`, () => {
      expect(reasonFor(text)).toMatch(reason);
    });
  }

  it('a builtin that changes state is fine as the last segment (nothing after it is affected)', () => {
    expect(argvs('ls && cd /tmp')).toEqual([[['ls']], [['cd', '/tmp']]]);
  });

  it('keeps a leading ~ or ~/ literally for the glob matcher to expand', () => {
    expect(argvs('~/bin/tool ~ ~/x')).toEqual([[['~/bin/tool', '~', '~/x']]]);
    expect(argvs("echo '~user' \\~user")).toEqual([[['echo', '~user', '~user']]]);
  });

  it('unicode look-alikes are ordinary word characters (the caller decides about them)', () => {
    expect(argvs('ѕudo rm x')).toEqual([[['ѕudo', 'rm', 'x']]]);
    expect(argvs('ls\u00a0-la')).toEqual([[['ls\u00a0-la']]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const reservedOrStateful = new Set([
  ...['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in'],
  ...['function', 'select', 'time', 'coproc', '{', '}', '!', '[[', ']]'],
  ...['cd', 'pushd', 'popd', 'export', 'unset', 'alias', 'unalias', 'hash', 'set', 'shopt', 'source', '.'],
  ...['enable', 'declare', 'typeset', 'readonly', 'local'],
]);

/** Words without shell metacharacters, never a reserved word or a state-changing builtin. */
const safeWord = fc.stringMatching(/^[A-Za-z0-9._/+,:@%^=-]{1,12}$/).filter((word) => !reservedOrStateful.has(word));
/** Any text but NUL; single quotes inside are written as '\'' . */
const anyWord = fc
  .string({ unit: 'grapheme', maxLength: 12 })
  .filter((word) => !word.includes('\0') && !reservedOrStateful.has(word));

function singleQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

const blanks = fc.constantFrom(' ', '  ', '\t', ' \t ');
const separator = fc.constantFrom<Separator | '\n'>('&&', '||', ';', '&', '\n');

type Built = { text: string; expected: Segment[]; tokens: string[] };

/** A random chain of pipelines of quoted argv, with the segments it must analyse to. */
function chain(word: fc.Arbitrary<string>): fc.Arbitrary<Built> {
  const stage = fc.tuple(fc.array(word, { minLength: 1, maxLength: 4 }), blanks);
  const pipeline = fc.tuple(fc.array(stage, { minLength: 1, maxLength: 3 }), blanks);
  return fc
    .tuple(
      fc.array(fc.tuple(pipeline, separator, blanks), { minLength: 1, maxLength: 6 }),
      fc.constantFrom('', ';', '&', ' ;', ' &\n'),
    )
    .map(([items, trailing]) => {
      let text = '';
      const tokens: string[] = [];
      const expected: Segment[] = [];
      items.forEach(([[stages, pipeBlank], sep, sepBlank], index) => {
        const stageTexts = stages.map(([words, wordBlank]) => words.map(singleQuote).join(wordBlank));
        const segmentText = stageTexts.join(`${pipeBlank}|${pipeBlank}`);
        stages.forEach(([words], stageIndex) => {
          if (stageIndex > 0) tokens.push('|');
          tokens.push(...words.map(singleQuote));
        });
        const last = index === items.length - 1;
        let ending: Separator | null;
        if (!last) {
          ending = sep === '\n' ? ';' : sep;
          text += `${segmentText}${sep === '\n' ? '' : sepBlank}${sep}${sepBlank}`;
          tokens.push(sep);
        } else {
          ending = trailing.includes('&') ? '&' : null;
          text += `${segmentText}${trailing}`;
          if (trailing.trim()) tokens.push(trailing.trim());
        }
        expected.push({ text: segmentText, separator: ending, stages: stages.map(([words]) => words) });
      });
      return { text, expected, tokens };
    });
}

describe('analyseShell: properties', () => {
  it('(1) single-quoted safe words joined by any separator structure round-trip exactly', () => {
    fc.assert(
      fc.property(chain(safeWord), ({ text, expected }) => {
        expect(analyseShell(text)).toEqual({ kind: 'segments', segments: expected });
      }),
      { numRuns: 500 },
    );
  });

  it("(1b) so do arbitrary unicode words, single-quoted with '\\''", () => {
    fc.assert(
      fc.property(chain(anyWord), ({ text, expected }) => {
        expect(analyseShell(text)).toEqual({ kind: 'segments', segments: expected });
      }),
      { numRuns: 300 },
    );
  });

  const unanalysable = [
    { text: '$(id)', glue: true },
    { text: '`id`', glue: true },
    { text: '$HOME', glue: true },
    { text: '${HOME}', glue: true },
    { text: '"$HOME"', glue: true },
    { text: '$((1+1))', glue: true },
    { text: '<(ls)', glue: false },
    { text: '*', glue: true },
    { text: '?', glue: true },
    { text: '[ab]', glue: true },
    { text: '{a,b}', glue: false },
    { text: "$'x'", glue: true },
    { text: '> out', glue: true },
    { text: '2>&1', glue: false },
    { text: '< in', glue: true },
    { text: '<<EOF\nbody\nEOF\n', glue: true },
    { text: '<<< x', glue: true },
    { text: '( id )', glue: false },
    { text: '{ id; }', glue: false },
    { text: 'for i in a; do id; done', glue: false },
    { text: 'while id; do id; done', glue: false },
    { text: 'if id; then id; fi', glue: false },
    { text: "'unbalanced", glue: true },
    { text: '"unbalanced', glue: true },
    { text: '\\\n', glue: true },
    { text: '~root', glue: false },
    { text: '\0', glue: true },
  ];

  it('(2) inserting an unanalysable construct anywhere outside quotes yields unanalysable', () => {
    fc.assert(
      fc.property(
        chain(safeWord),
        fc.nat(),
        fc.constantFrom(...unanalysable),
        fc.boolean(),
        ({ tokens }, at, construct, glue) => {
          const index = at % (tokens.length + 1);
          const glued = glue && construct.glue && index > 0 && /^'/.test(tokens[index - 1] ?? '');
          const before = tokens.slice(0, index).join(' ');
          const after = tokens.slice(index).join(' ');
          const text = glued ? `${before}${construct.text} ${after}` : `${before} ${construct.text} ${after}`;
          expect(analyseShell(text).kind, JSON.stringify(text)).toBe('unanalysable');
        },
      ),
      { numRuns: 1000 },
    );
  });

  const shellish = fc.string({
    unit: fc.constantFrom(
      ...'ab \t\n\'"\\;&|$*?[]{}()<>#~=`!-'.split(''),
      'x',
      'y',
      ' ',
      '\0',
      'é',
      '𝔰',
      '\u00a0',
      '\r',
    ),
    maxLength: 40,
  });

  it('(3) never throws, on arbitrary unicode (with NUL) and on shell-ish noise', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), shellish), (text) => {
        const result = analyseShell(text);
        if (result.kind === 'segments') {
          expect(result.segments.length).toBeGreaterThan(0);
          for (const segment of result.segments) {
            for (const stage of segment.stages) {
              expect(stage.length).toBeGreaterThan(0);
              for (const arg of stage) expect(arg.includes('\0')).toBe(false);
            }
          }
        } else {
          expect(result.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('(3b) whatever it accepts as one command, /bin/sh reads as exactly the same argv', () => {
    // The analysis parses Bash; the text runs under /bin/sh (dash here). For noise that
    // analyses to a single stage, prefix printf and let the real shell print the argv.
    // HOME=~ makes the shell's tilde expansion print the `~` the analysis keeps.
    const noise = fc.string({
      unit: fc.constantFrom(...'ab \t\'"\\;&|$*?[]{}#~=`!-'.split(''), 'x', 'y', ' ', 'é', '\u00a0'),
      maxLength: 24,
    });
    let compared = 0;
    fc.assert(
      fc.property(noise, (text) => {
        const result = analyseShell(text);
        if (result.kind !== 'segments' || result.segments.length !== 1) return;
        const stages = result.segments[0]?.stages ?? [];
        if (stages.length !== 1) return;
        const probe = `printf '%s\\0' ${text}`;
        const probed = analyseShell(probe);
        expect(probed).toMatchObject({ kind: 'segments' });
        if (probed.kind !== 'segments') return;
        expect(probed.segments[0]?.stages).toEqual([['printf', '%s\\0', ...(stages[0] ?? [])]]);
        const out = execFileSync('/bin/sh', ['-c', probe], { env: { HOME: '~', PATH: '/usr/bin:/bin' } }).toString();
        expect(out.split('\0').slice(0, -1), probe).toEqual(stages[0]);
        compared += 1;
      }),
      { numRuns: 400 },
    );
    expect(compared).toBeGreaterThan(20);
  });

  it('(4) 10,000 segments and 1 MB of text analyse in one pass (time printed, not asserted)', () => {
    const long = Array.from({ length: 10_000 }, (_, i) => `git status 'file ${i}' | wc -l`).join(' && ');
    let start = performance.now();
    const result = analyseShell(long);
    const chainMs = performance.now() - start;
    expect(result.kind).toBe('segments');
    if (result.kind === 'segments') expect(result.segments).toHaveLength(10_000);

    const megabyte = `echo '${'a'.repeat(1 << 20)}' ${'b '.repeat(1 << 18)}`;
    start = performance.now();
    expect(analyseShell(megabyte).kind).toBe('segments');
    const megabyteMs = performance.now() - start;

    start = performance.now();
    for (const hostile of [
      '('.repeat(100_000),
      '$('.repeat(100_000),
      `${'"'.repeat(1 << 20)}`,
      `a${' '.repeat(1 << 20)}x`,
      `a${'\n'.repeat(1 << 20)}b`,
      `echo ${'\\'.repeat(1 << 20)}`,
      `echo ${'['.repeat(1 << 20)}`,
      Array.from({ length: 10_000 }, () => 'a <<E').join('\n'),
    ]) {
      expect(['segments', 'unanalysable']).toContain(analyseShell(hostile).kind);
    }
    const hostileMs = performance.now() - start;
    console.info(
      `analyseShell: 10,000 segments ${chainMs.toFixed(0)} ms, 1 MB ${megabyteMs.toFixed(0)} ms, hostile set ${hostileMs.toFixed(0)} ms`,
    );
  });
});
