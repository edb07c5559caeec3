/**
 * Shell text (`command`) → segments, or an honest `unanalysable` (SPEC §9). Pure, no I/O.
 *
 * Parser: `unbash` (npm, ISC, zero dependencies, synchronous, typed; releases every few weeks
 * through 2026). It parses GNU Bash into a typed AST with structured word parts, so it *reports*
 * `$(…)`, backticks, `$VAR`/`${…}`, `$((…))`, globs, brace expansion, `$'…'`, redirections,
 * heredocs, subshells, groups and control flow instead of expanding anything, and it returns
 * source-positioned parse errors (unbalanced quotes, dangling `&&`) rather than guessing.
 * Measured here (2 cores): a 10,000-segment chain in ~0.1–0.25 s and 1 MB of text in ~0.1 s,
 * linear in the input; nesting is capped by the parser (256), so deep input is an error, not a crash.
 * Candidates that lacked something:
 * - `shell-quote`: a tokenizer, not a parser; it substitutes `$VAR` from an env object (or drops
 *   it), flattens operators into tokens and has no notion of heredocs, groups or loops.
 * - `sh-syntax` (mvdan/sh as WASM): the most faithful grammar (it can parse as POSIX sh), but
 *   asynchronous WASM loading and ~1000× slower per short command; too heavy for a pure core.
 * - `web-tree-sitter` + a bash grammar (what OpenClaw itself uses): async WASM init, a CST whose
 *   word values we would have to decode by hand, and `tree-sitter-bash` is a native addon.
 * - `bash-parser` / `mvdan-sh`: unmaintained since 2024, 20 micro-dependencies (bash-parser).
 * - `bash-ast`: young, thin.
 *
 * The text is run with `/bin/sh -c` (dash on Debian, bash in POSIX mode on macOS) while unbash
 * parses Bash, so everything on which the two disagree is refused rather than interpreted:
 * `$'…'`, `$"…"`, `{a,b}`, `|&`, `[[ ]]`, `(( ))`, `function`, `coproc`, `time`, extglob.
 *
 * Rules (OpenClaw 2026.9.6's POSIX analysis, `explainShellCommand`/`planShellAuthorization`,
 * is the reference where the SPEC is silent; differences are marked ≠):
 * - Segments split at `&&`, `||`, `;`, `&` and unquoted newlines (as `;`); a pipeline is one
 *   segment with one argv per stage. `separator` is the operator that *ends* the segment (null
 *   for the last one, `&` for a trailing background), so `a &` keeps its meaning.
 *   ≠ OpenClaw refuses background `&` outright; SPEC §9 lists `&` as a separator, so we split.
 * - Unanalysable, as in OpenClaw: command/process substitution, backticks, redirections of any
 *   kind (including `2>&1`), heredocs, here-strings, subshells, groups, loops, if/case,
 *   function definitions, line continuations (backslash-newline outside single quotes), syntax
 *   errors (unbalanced quotes, empty segments `a;;b`, dangling `&&`), and `$VAR`/`${…}`/`$((…))`
 *   anywhere (also inside double quotes): the argv an owner would see is not the one that runs.
 * - Globs `*`, `?`, `[…]` unquoted: unanalysable. ≠ OpenClaw keeps glob *arguments* as literal
 *   text and only refuses a glob in the executable; but `rm *` next to a file named `-rf` runs
 *   something no owner saw, so we ask. Quote them (`'*.js'`) to pass them literally.
 * - Assignments before a command (`FOO=1 cmd`), bare assignments, and assignment arguments
 *   (`export A=1`): unanalysable (`PATH=…`, `LD_PRELOAD=…` change what runs). OpenClaw makes
 *   such a step prompt-only (never reusable), which is the same outcome: asked, never allowlisted.
 * - Tilde: a word that is exactly `~` or starts with `~/` keeps the `~` literally (OpenClaw's
 *   glob matcher expands a leading `~`, and an owner reads `~` as "home"). `~user`, `~+`, `~-`
 *   and a `~` in an assignment-like word (`a=~/x`, which bash expands and dash does not) are
 *   unanalysable. `HEAD~1` is plain text.
 * - Comments are ignored as the shell ignores them (OpenClaw's tree-sitter does the same).
 * - A segment followed by another that runs a builtin changing how later segments resolve
 *   (`cd`, `export`, `alias`, `hash`, `set`, `source`, …) is unanalysable: `cd /tmp/x && ./run`
 *   would otherwise be matched and file-bound against the request's cwd. ≠ OpenClaw allows shell
 *   builtins in allowlist chains.
 * - NUL bytes: unanalysable (execve would cut the text there). Unicode look-alikes are left to
 *   the caller: they are ordinary word characters here, never a crash.
 * As a last guard, every character outside the accepted words must be a blank, newline, comment
 * or the expected operator; anything else the parser tolerated makes the text unanalysable.
 */
import { type Command, type CommandNode, type PipelineNode, parse, type Statement, type Word } from 'unbash';

export type Separator = '&&' | '||' | ';' | '&';
/** One segment: a pipeline (`stages` = argv per stage, after quote removal) and what ends it. */
export type Segment = { text: string; separator: Separator | null; stages: string[][] };
export type ShellAnalysis = { kind: 'segments'; segments: Segment[] } | { kind: 'unanalysable'; reason: string };

/** Builtins whose effect reaches the segments after them (cwd, PATH, aliases, options). */
const stateChangingBuiltins = new Set([
  'cd',
  'pushd',
  'popd',
  'export',
  'unset',
  'alias',
  'unalias',
  'hash',
  'set',
  'shopt',
  'source',
  '.',
  'enable',
  'declare',
  'typeset',
  'readonly',
  'local',
]);

class Unanalysable extends Error {}

function refuse(reason: string): never {
  throw new Unanalysable(reason);
}

export function analyseShell(text: string): ShellAnalysis {
  if (text.includes('\0')) return { kind: 'unanalysable', reason: 'NUL byte in the command text' };
  try {
    return { kind: 'segments', segments: segmentsOf(text) };
  } catch (error) {
    if (error instanceof Unanalysable) return { kind: 'unanalysable', reason: error.message };
    // The parser failing on hostile input is still only a reason to ask.
    return { kind: 'unanalysable', reason: 'the shell parser could not read this text' };
  }
}

function segmentsOf(text: string): Segment[] {
  const script = parse(text);
  const error = script.errors?.[0];
  if (error) refuse(parseErrorReason(error.message));
  if (script.commands.length === 0) refuse('empty command');

  const segments: Segment[] = [];
  let cursor = 0;
  let previous: Statement | undefined;
  for (const [index, statement] of script.commands.entries()) {
    // Between statements: a newline or one `;` (none after a background `&`, which ends its own).
    expectGap(text.slice(cursor, statement.pos), previous && !previous.background ? ['', ';'] : ['']);
    const last = index === script.commands.length - 1;
    const ending: Separator | null = statement.background ? '&' : last ? null : ';';
    // A loop, not push(...spread): one and/or list may hold hundreds of thousands of pipelines.
    for (const segment of statementSegments(text, statement, ending)) segments.push(segment);
    cursor = statement.end;
    previous = statement;
  }
  expectGap(text.slice(cursor), previous?.background ? [''] : ['', ';']);

  segments.forEach((segment, index) => {
    if (index === segments.length - 1) return;
    for (const stage of segment.stages) {
      const name = stage[0] ?? '';
      if (stateChangingBuiltins.has(name)) {
        refuse(`\`${name}\` changes how the following commands run (cwd, PATH, aliases or options)`);
      }
    }
  });
  return segments;
}

function parseErrorReason(message: string): string {
  if (/quote/.test(message)) return `unbalanced quotes (${message})`;
  if (/backtick/.test(message)) return 'command substitution with backticks `…`';
  if (/command substitution/.test(message)) return 'command substitution $(…)';
  return `shell syntax the analysis does not accept (${message})`;
}

/** A statement's pipelines; `background` covers the whole and/or list, as in the shell. */
function statementSegments(text: string, statement: Statement, ending: Separator | null): Segment[] {
  const node = statement.command;
  // The statement's span runs on to its own `&`: nothing else may hide between the two.
  expectGap(text.slice(node.end, statement.end), [statement.background ? '&' : '']);
  if (node.type !== 'AndOr') return [pipelineSegment(text, node, ending)];
  const out: Segment[] = [];
  node.commands.forEach((pipeline, index) => {
    const operator = node.operators[index];
    const previous = node.commands[index - 1];
    if (previous) expectGap(text.slice(previous.end, pipeline.pos), [node.operators[index - 1] ?? '']);
    out.push(pipelineSegment(text, pipeline, operator ?? ending));
  });
  if (node.operators.length !== node.commands.length - 1) refuse('dangling && or ||');
  return out;
}

function pipelineSegment(text: string, node: PipelineNode, separator: Separator | null): Segment {
  if (node.type !== 'Pipeline')
    return { text: text.slice(node.pos, node.end), separator, stages: [argvOf(text, node)] };
  if (node.prefixes.length > 0) {
    refuse(node.prefixes[0]?.type === 'Time' ? '`time` prefix' : '`!` negation prefix');
  }
  if (node.operators.some((operator) => operator !== '|')) refuse('`|&` pipe (bash only; also pipes stderr)');
  const stages = node.commands.map((command, index) => {
    const previous = node.commands[index - 1];
    if (previous) expectGap(text.slice(previous.end, command.pos), ['|']);
    return argvOf(text, command);
  });
  return { text: text.slice(node.pos, node.end), separator, stages };
}

const compoundReasons: Record<string, string> = {
  Subshell: 'subshell ( … )',
  BraceGroup: 'command group { … }',
  For: 'loop (for)',
  ArithmeticFor: 'loop (for ((…)))',
  Select: 'loop (select)',
  While: 'loop (while/until)',
  If: 'if … fi',
  Case: 'case … esac',
  TestCommand: '[[ … ]] test',
  ArithmeticCommand: '(( … )) arithmetic',
  Function: 'function definition',
  Coproc: 'coproc',
  Redirected: 'redirection',
};

function argvOf(text: string, node: CommandNode): string[] {
  if (node.type !== 'Command') refuse(compoundReasons[node.type] ?? `shell construct ${node.type}`);
  const command: Command = node;
  for (const item of [...command.prefix, ...command.suffix]) {
    if (item.type === 'Assignment') {
      refuse(
        command.prefix.includes(item)
          ? 'variable assignment (FOO=… before or without a command)'
          : 'assignment argument (export/declare NAME=…)',
      );
    }
    if (item.type === 'HereDoc') refuse('heredoc <<');
    if (item.type === 'HereString') refuse('here-string <<<');
    if (item.type === 'Redirect') refuse(`redirection ${item.operator}`);
  }
  const name = command.name;
  if (!name) refuse('empty command');
  const words: Word[] = [name, ...(command.suffix as Word[])];
  let cursor = command.pos;
  const argv = words.map((word, index) => {
    const gap = text.slice(cursor, word.pos);
    if (index === 0 ? gap !== '' : !isBlanks(gap)) refuse(gapReason(gap));
    cursor = word.end;
    return wordValue(word);
  });
  if (cursor !== command.end) refuse('unexpected text after the command');
  return argv;
}

function isBlanks(gap: string): boolean {
  if (gap.length === 0) return false;
  for (const char of gap) if (char !== ' ' && char !== '\t') return false;
  return true;
}

function gapReason(gap: string): string {
  return gap.includes('\\\n') ? 'line continuation (backslash-newline)' : 'text the analysis could not place';
}

/**
 * What stands between two parsed nodes must be blanks, newlines, comments and exactly one of
 * the expected operators (linear scan: no regex backtracking on long runs of blanks).
 */
function expectGap(gap: string, allowed: string[]): void {
  let operators = '';
  for (let index = 0; index < gap.length; index += 1) {
    const char = gap[index];
    if (char === '#') {
      const newline = gap.indexOf('\n', index);
      if (newline < 0) break;
      index = newline;
    } else if (char === ';' || char === '&' || char === '|') {
      operators += char;
    } else if (char !== ' ' && char !== '\t' && char !== '\n') {
      refuse(gapReason(gap));
    }
  }
  if (!allowed.includes(operators)) refuse(`unexpected operator ${operators || '(none)'}`);
}

const partReasons: Record<string, string> = {
  Glob: 'unquoted glob pattern (*, ?, […])',
  ExtendedGlob: 'extended glob pattern',
  BraceExpansion: 'brace expansion {…}',
  AnsiCQuoted: "ANSI-C quoting $'…' (not POSIX sh)",
  LocaleString: 'locale quoting $"…"',
  SimpleExpansion: 'variable expansion $VAR',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax shown to the owner, not a template
  ParameterExpansion: 'parameter expansion ${…}',
  ArithmeticExpansion: 'arithmetic expansion $((…))',
  ProcessSubstitution: 'process substitution <(…)',
};

/** The word after quote removal, or a refusal when the shell would change it. */
function wordValue(word: Word): string {
  if (!word.parts) {
    checkUnquoted(word.text, true);
    checkAssignmentTilde(word.text, [word.text]);
    return word.value;
  }
  let value = '';
  const unquoted: string[] = [];
  word.parts.forEach((part, index) => {
    switch (part.type) {
      case 'Literal':
        checkUnquoted(part.text, index === 0);
        unquoted.push(part.text);
        value += part.value;
        return;
      case 'SingleQuoted':
        value += part.value;
        return;
      case 'DoubleQuoted':
        for (const child of part.parts) {
          if (child.type !== 'Literal') refuse(expansionReason(child.type, child.text));
          if (hasLineContinuation(child.text)) refuse('line continuation (backslash-newline)');
          value += child.value;
        }
        return;
      default:
        refuse(expansionReason(part.type, part.text));
    }
  });
  checkAssignmentTilde(word.text, unquoted);
  return value;
}

function expansionReason(type: string, text: string): string {
  if (type === 'CommandExpansion')
    return text.startsWith('`') ? 'command substitution with backticks `…`' : 'command substitution $(…)';
  return partReasons[type] ?? `shell expansion ${type}`;
}

function hasLineContinuation(raw: string): boolean {
  return raw.includes('\\\n');
}

/**
 * Unquoted literal text as the parser saw it. The parser already splits out globs and
 * expansions; this re-checks the characters that would make the shell change the word, so a
 * parser slip cannot turn into an argv the owner never saw.
 */
function checkUnquoted(raw: string, atWordStart: boolean): void {
  if (hasLineContinuation(raw)) refuse('line continuation (backslash-newline)');
  if (atWordStart && raw.startsWith('~')) {
    const slash = raw.indexOf('/');
    const prefix = slash < 0 ? raw : raw.slice(0, slash);
    if (prefix !== '~') refuse('tilde expansion ~user / ~+ / ~-');
  }
  let openBracket = false;
  for (let index = 0; index < raw.length; index += 1) {
    const char = raw[index];
    if (char === '\\') {
      index += 1;
      continue;
    }
    if (char === '*' || char === '?') refuse(partReasons.Glob as string);
    if (char === '[') openBracket = true;
    if (char === ']' && openBracket) refuse(partReasons.Glob as string);
    if (char === '`') refuse('command substitution with backticks `…`');
    if (char === '$' && index + 1 < raw.length) refuse('variable expansion $VAR');
  }
}

/** bash (not dash) expands `~` after `=` or `:` in a word that looks like an assignment. */
function checkAssignmentTilde(raw: string, unquoted: string[]): void {
  if (/^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(raw) && unquoted.some((part) => part.includes('~'))) {
    refuse('tilde in an assignment-like word (bash expands it, sh does not)');
  }
}
