/**
 * OpenClaw's own list of inline-eval forms, copied so tests never need OpenClaw installed.
 *
 * Source: openclaw 2026.9.6, `dist/risks-HzTsadnl.mjs` (compiled from
 * `src/infra/command-analysis/inline-eval.ts`): FLAG_INTERPRETER_INLINE_EVAL_SPECS and
 * POSITIONAL_INTERPRETER_INLINE_EVAL_SPECS, used by `detectInlineEvalArgv` when
 * `tools.exec.strictInlineEval` is on; carriers (`env`, `sudo`, `doas`, `command`, `builtin`,
 * `exec`) from COMMAND_CARRIER_EXECUTABLES in `dist/shell-wrapper-resolution-CPhcV89l.mjs`.
 * docs/tools/exec-approvals.md: "Examples that strict mode catches: `python -c`,
 * `node -e`/`--eval`/`-p`, `ruby -e`, `perl -e`/`-E`, `php -r`, `lua -e`, `osascript -e` (also
 * `awk`, `sed`, `make`, `find -exec`, and `xargs` inline forms)."
 *
 * Flag specs (exact flags; joined `-xCODE` forms count for single-letter flags unless noted):
 *   python python2 python3 pypy pypy3: -c (also clustered after BEIOPRSbdiqsuvx: -uc, -Ic)
 *   node nodejs bun deno: -e --eval -p --print
 *   awk gawk mawk nawk: -e --source (abbreviable to --s…, --source=)
 *   ruby: -e (clustered after SUWacdlnpsvw and digits)
 *   perl: -e -E (clustered after STWXUVacdflnpstuw and digits)
 *   php: -r; case-sensitive -B -E -R
 *   r rscript: -e
 *   julia: -e --eval --print; case-sensitive -E
 *   elixir iex: -e --eval --rpc-eval (no joined form)
 *   guile: -c -e (no joined form)
 *   groovy: -e (not -encoding), clustered after n p
 *   scala scala-cli: -e --script-snippet --execute-script --execute-sc --execute-scala-script
 *     --scala-snippet --execute-scala --java-snippet --execute-java --markdown-snippet
 *     --md-snippet --execute-markdown --execute-md (no joined form)
 *   clojure clj: -e --eval (no joined form)
 *   raku perl6: -e, clustered after n p
 *   ghc ghci: -e (no joined form)
 *   erl werl: -eval -run -s (no joined form)
 *   gdb: -ex -iex -eiex -eval-command --eval-command -init-eval-command --init-eval-command
 *     -early-init-eval-command --early-init-eval-command (abbreviable; `=value` forms)
 *   expect: -c
 *   lua: -e
 *   osascript: -e
 *   find: -exec -execdir -ok -okdir (anywhere, also after `--`)
 *   make gmake: -f --file --makefile --eval (abbreviable to --ev), case-sensitive -E, joined -fX -EX
 *   sed gsed: case-sensitive -e and -eX
 * Positional specs (the first operand is code, after skipping value flags; a file flag means no):
 *   awk gawk mawk nawk: <program> (file flags -f --file)
 *   xargs: <command> (value flags -a --arg-file -d --delimiter -E -I -L --max-lines -n --max-args
 *     -P --max-procs -s --max-chars)
 *   sed gsed: <program> (file flags -f --file; value flags -l --line-length)
 *
 * Deliberate difference: OpenClaw scans a flag interpreter's whole argv, so `python app.py -c x`
 * counts; we stop at the script, because what follows belongs to the script (`app.py` gets `-c`).
 */
export const openclawInlineEval: ReadonlyArray<{ argv: string[]; flag: string }> = [
  { argv: ['python', '-c', 'print(1)'], flag: '-c' },
  { argv: ['python3', '-uc', 'print(1)'], flag: '-uc' },
  { argv: ['python3', '-cprint(1)'], flag: '-cprint(1)' },
  { argv: ['pypy3', '-c', 'x'], flag: '-c' },
  { argv: ['node', '-e', 'x'], flag: '-e' },
  { argv: ['node', '--eval', 'x'], flag: '--eval' },
  { argv: ['node', '-p', 'x'], flag: '-p' },
  { argv: ['node', '--print', 'x'], flag: '--print' },
  { argv: ['bun', '-e', 'x'], flag: '-e' },
  { argv: ['deno', '-e', 'x'], flag: '-e' },
  { argv: ['deno', 'eval', 'x'], flag: 'eval' },
  { argv: ['awk', '-e', 'BEGIN{}'], flag: '-e' },
  { argv: ['gawk', '--source', 'BEGIN{}'], flag: '--source' },
  { argv: ['gawk', '--source=BEGIN{}'], flag: '--source=BEGIN{}' },
  { argv: ['awk', '{print $1}', 'file'], flag: '<program>' },
  { argv: ['ruby', '-e', 'x'], flag: '-e' },
  { argv: ['ruby', '-ne', 'x'], flag: '-ne' },
  { argv: ['ruby', '-eputs 1'], flag: '-eputs 1' },
  { argv: ['perl', '-e', 'x'], flag: '-e' },
  { argv: ['perl', '-E', 'x'], flag: '-E' },
  { argv: ['perl', '-lne', 'x'], flag: '-lne' },
  { argv: ['perl', '-eprint 1'], flag: '-eprint 1' },
  { argv: ['php', '-r', 'x'], flag: '-r' },
  { argv: ['php', '-B', 'x'], flag: '-B' },
  { argv: ['php', '-E', 'x'], flag: '-E' },
  { argv: ['php', '-R', 'x'], flag: '-R' },
  { argv: ['Rscript', '-e', 'x'], flag: '-e' },
  { argv: ['R', '-e', 'x'], flag: '-e' },
  { argv: ['julia', '-e', 'x'], flag: '-e' },
  { argv: ['julia', '-E', 'x'], flag: '-E' },
  { argv: ['julia', '--print', 'x'], flag: '--print' },
  { argv: ['elixir', '-e', 'x'], flag: '-e' },
  { argv: ['iex', '--rpc-eval', 'n', 'x'], flag: '--rpc-eval' },
  { argv: ['guile', '-c', 'x'], flag: '-c' },
  { argv: ['groovy', '-e', 'x'], flag: '-e' },
  { argv: ['scala-cli', '--execute-scala', 'x'], flag: '--execute-scala' },
  { argv: ['scala', '-e', 'x'], flag: '-e' },
  { argv: ['clj', '--eval', 'x'], flag: '--eval' },
  { argv: ['raku', '-e', 'x'], flag: '-e' },
  { argv: ['perl6', '-ne', 'x'], flag: '-ne' },
  { argv: ['ghci', '-e', 'x'], flag: '-e' },
  { argv: ['erl', '-noshell', '-eval', 'x'], flag: '-eval' },
  { argv: ['werl', '-s', 'm'], flag: '-s' },
  { argv: ['gdb', '-batch', '-ex', 'shell id', './a.out'], flag: '-ex' },
  { argv: ['gdb', '--eval-command=shell id'], flag: '--eval-command=shell id' },
  { argv: ['gdb', '-init-eval-command', 'x'], flag: '-init-eval-command' },
  { argv: ['expect', '-c', 'spawn sh'], flag: '-c' },
  { argv: ['lua', '-e', 'x'], flag: '-e' },
  { argv: ['osascript', '-e', 'x'], flag: '-e' },
  { argv: ['find', '.', '-name', '*.js', '-exec', 'rm', '{}', ';'], flag: '-exec' },
  { argv: ['find', '.', '-execdir', 'sh', '-c', 'x', ';'], flag: '-execdir' },
  { argv: ['find', '--', '.', '-ok', 'rm', '{}', ';'], flag: '-ok' },
  { argv: ['find', '.', '-okdir', 'rm', '{}', ';'], flag: '-okdir' },
  { argv: ['make', '-f', 'evil.mk'], flag: '-f' },
  { argv: ['make', '--eval=all:;id'], flag: '--eval=all:;id' },
  { argv: ['gmake', '-E', 'all:;id'], flag: '-E' },
  { argv: ['make', '-fevil.mk'], flag: '-fevil.mk' },
  { argv: ['sed', '-e', 's/a/b/', 'f'], flag: '-e' },
  { argv: ['sed', '-n', '1p', 'f'], flag: '<program>' },
  { argv: ['gsed', '-i', 'e id', 'f'], flag: '<program>' },
  { argv: ['xargs', 'rm'], flag: '<command>' },
  { argv: ['xargs', '-n', '1', 'sh', '-c', 'x'], flag: '<command>' },
  { argv: ['xargs', '-I{}', 'cp', '{}', '/tmp'], flag: '<command>' },
  { argv: ['sh', '-c', 'id'], flag: '-c' },
  { argv: ['bash', '-lc', 'id'], flag: '-lc' },
  { argv: ['env', 'A=1', 'python', '-c', 'x'], flag: '-c' },
  { argv: ['sudo', '-u', 'root', 'node', '-e', 'x'], flag: '-e' },
  { argv: ['doas', 'perl', '-e', 'x'], flag: '-e' },
  { argv: ['command', 'python3', '-c', 'x'], flag: '-c' },
  { argv: ['builtin', 'command', '-p', 'ruby', '-e', 'x'], flag: '-e' },
  { argv: ['exec', 'php', '-r', 'x'], flag: '-r' },
];

/** Forms OpenClaw does not count, which must stay ordinary (a file flag, a query, a plain program). */
export const openclawNotInlineEval: ReadonlyArray<string[]> = [
  ['awk', '-f', 'prog.awk', 'data'],
  ['sed', '-f', 'script.sed', 'file'],
  ['xargs'],
  ['make'],
  ['make', 'build'],
  ['find', '.', '-name', '*.js'],
  ['groovy', '-encoding', 'utf8', 'x.groovy'],
  ['python3', 'app.py'],
  ['node', 'server.js'],
  ['ls', '-la'],
];
