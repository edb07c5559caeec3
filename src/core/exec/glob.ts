import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { RE2JS } from 're2js';
import type { AllowlistEntry } from './document.js';

/**
 * Allowlist matching with OpenClaw's semantics (2026.9.6, `dist/exec-command-resolution-*.mjs`:
 * `compileGlobRegex`, `matchesExecAllowlistPattern`, `matchAllowlist`, `matchArgPattern`),
 * copied here because OpenClaw is not available to CI:
 *
 * - A pattern is trimmed. It is a *path* pattern when it contains `/`, `\` or `~` anywhere;
 *   it then matches the executable's resolved real path. A leading `~` (alone or before `/`)
 *   is the home directory. Otherwise it is a *bare-name* pattern and matches only a command
 *   invoked by bare name through PATH (not `./rg`, not `/tmp/rg`), compared with that name.
 * - Glob: `**` is any run of characters including `/`; `*` any run without `/`; `?` one
 *   character other than `/`; everything else is literal (no `[...]`, `{a,b}` or `!`), the whole
 *   text must match, and case matters (POSIX). `***` reads as `**` then `*`. `a/**\/b` needs
 *   at least `a//b`-shaped text between, so it does not match `a/b` (unlike picomatch).
 *   Because these semantics differ from every glob library we looked at (picomatch and
 *   minimatch read brackets, braces and `!`, and let `**\/` match zero directories), the
 *   translation is here, and matched by a linear-time automaton, not a backtracking regex.
 *   In bare names `*` therefore matches any run of characters (a name has no `/`).
 * - An entry whose pattern is exactly `*`, without `argPattern` and not generated
 *   (`source: "allow-always"`), matches every command, path-invoked or not. It is OpenClaw's
 *   "allow anything" entry; `policies/exec-approvals.json` makes adding one `dangerous`.
 * - `argPattern` is an ECMAScript regular expression without flags, unanchored (`test`), over
 *   the arguments after `argv[0]` joined by single spaces. If the pattern contains a NUL
 *   character the subject is instead the arguments each followed by NUL (`"\0\0"` for none):
 *   the exact, unambiguous form. `sha256:cwd-argv:v1:<hex>` is an exact argv + cwd hash;
 *   legacy `sha256:argv:` entries never match. An invalid expression never matches.
 * - Generated entries (`source: "allow-always"`) match only through a cwd-bound hash; a
 *   generated entry without one is inactive. Among entries whose pattern matches, the first
 *   whose `argPattern` matches wins; otherwise the first without `argPattern`.
 *
 * Not copied: Windows case folding and `\` paths, macOS `/private/var` aliasing.
 *
 * Regular expressions run on RE2 (re2js, linear time) so that an owner-approved pattern can
 * never be made to backtrack for minutes by the agent's arguments. To keep RE2 no looser than
 * ECMAScript, a pattern must compile under both and may only use escapes both read alike, and
 * a subject containing characters the two engines classify differently (`\r`, `\v`, Unicode
 * spaces and line separators, surrogates: see `divergent`) matches no `argPattern` at all —
 * the command then falls back to path-only entries, or is asked about.
 */

export type Invocation = {
  /** The executable's resolved real path; `null` when it could not be resolved. */
  resolvedPath: string | null;
  /** `bare`: argv[0] had no path and was found through PATH. */
  invokedAs: 'path' | 'bare';
  /** The name as invoked (argv[0] for a bare invocation). */
  name: string;
  /** The arguments after argv[0]. */
  args: readonly string[];
  /** The real working directory, for generated cwd-bound entries. */
  cwd?: string;
};

export type AllowlistMatch = { pattern: string; entryId: string | null; index: number };

export type AllowlistProblem = { index: number; entryId: string | null; pattern: string; reason: string };

type EntryInput = AllowlistEntry | string;

const HASH_PREFIX = 'sha256:cwd-argv:v1:';
const LEGACY_HASH_PREFIX = 'sha256:argv:';
/** Longer `argPattern`s are refused: an allowlist entry is a few words, not a program. */
export const MAX_ARG_PATTERN_LENGTH = 4096;

// ---------------------------------------------------------------------------------------------
// Globs

const LITERAL = 0;
const ONE = 1; // `?`
const STAR = 2; // `*`
const GLOBSTAR = 3; // `**`
const SLASH = 47;

type Glob = {
  kinds: Uint8Array;
  chars: Uint16Array;
  /** Literal text before the first wildcard and after the last: a cheap filter. */
  prefix: string;
  suffix: string;
  /** The literal runs between wildcards, which must appear in this order: a cheap filter. */
  chunks: string[];
  minLength: number;
  current: Uint8Array;
  next: Uint8Array;
};

function compileGlob(pattern: string): Glob | string {
  const kinds: number[] = [];
  const chars: number[] = [];
  let index = 0;
  while (index < pattern.length) {
    const code = pattern.charCodeAt(index);
    if (code === 42 /* * */) {
      const double = pattern.charCodeAt(index + 1) === 42;
      kinds.push(double ? GLOBSTAR : STAR);
      chars.push(0);
      index += double ? 2 : 1;
      continue;
    }
    kinds.push(code === 63 /* ? */ ? ONE : LITERAL);
    chars.push(code);
    index += 1;
  }
  const firstWild = pattern.search(/[*?]/);
  if (firstWild === -1) return pattern;
  const lastWild = Math.max(pattern.lastIndexOf('*'), pattern.lastIndexOf('?'));
  const states = kinds.length + 1;
  return {
    kinds: Uint8Array.from(kinds),
    chars: Uint16Array.from(chars),
    prefix: pattern.slice(0, firstWild),
    suffix: pattern.slice(lastWild + 1),
    chunks: pattern
      .slice(firstWild, lastWild + 1)
      .split(/[*?]+/)
      .filter((chunk) => chunk !== ''),
    minLength: kinds.filter((kind) => kind === LITERAL || kind === ONE).length,
    current: new Uint8Array(states),
    next: new Uint8Array(states),
  };
}

/** Activates `state` and, through any stars, the states they may skip to. */
function enter(set: Uint8Array, kinds: Uint8Array, state: number): void {
  let at = state;
  while (at <= kinds.length && set[at] === 0) {
    set[at] = 1;
    const kind = kinds[at];
    if (kind !== STAR && kind !== GLOBSTAR) return;
    at += 1;
  }
}

/** Runs the glob's automaton over `text`: time proportional to text × pattern, never exponential. */
function globMatches(glob: Glob, text: string): boolean {
  if (text.length < glob.minLength || !text.startsWith(glob.prefix) || !text.endsWith(glob.suffix)) return false;
  let from = glob.prefix.length;
  for (const chunk of glob.chunks) {
    const found = text.indexOf(chunk, from);
    if (found === -1) return false;
    from = found + chunk.length;
  }
  const { kinds, chars } = glob;
  const accept = kinds.length;
  let current = glob.current;
  let next = glob.next;
  current.fill(0);
  enter(current, kinds, 0);
  for (let position = 0; position < text.length; position++) {
    const code = text.charCodeAt(position);
    next.fill(0);
    let alive = false;
    for (let state = 0; state < accept; state++) {
      if (current[state] === 0) continue;
      switch (kinds[state]) {
        case LITERAL:
          if (chars[state] === code) {
            enter(next, kinds, state + 1);
            alive = true;
          }
          break;
        case ONE:
          if (code !== SLASH) {
            enter(next, kinds, state + 1);
            alive = true;
          }
          break;
        case STAR:
          if (code !== SLASH) {
            enter(next, kinds, state);
            alive = true;
          }
          break;
        default:
          enter(next, kinds, state);
          alive = true;
      }
    }
    if (!alive) return false;
    [current, next] = [next, current];
  }
  return current[accept] === 1;
}

/** OpenClaw's `expandHomePrefix`: `~` alone or before a separator. */
function expandHome(pattern: string, home: string): string {
  return pattern.replace(/^~(?=$|[\\/])/, () => home);
}

/** OpenClaw's POSIX `normalizeMatchTarget`: a doubled backslash is a separator. */
function normaliseTarget(value: string): string {
  return value.replace(/\\\\/g, '/');
}

function hasPathSelector(value: string): boolean {
  return value.includes('/') || value.includes('\\') || value.includes('~');
}

function hasDotSegment(value: string): boolean {
  return /(^|\/)\.\.?(\/|$)/.test(value);
}

// ---------------------------------------------------------------------------------------------
// argPattern

/**
 * Rewrites an ECMAScript pattern for RE2, or says why it cannot be read alike by both. Only
 * escapes with one meaning in both survive; `\uXXXX` becomes RE2's `\x{XXXX}`.
 */
function toRe2(source: string): { ok: true; pattern: string } | { ok: false; reason: string } {
  let out = '';
  let inClass = false;
  for (let index = 0; index < source.length; index++) {
    const char = source[index] as string;
    if (char === '[' && !inClass) {
      // JavaScript reads `[]` as "nothing" and `[^]` as "anything"; RE2 reads a `]` there as a member.
      const rest = source.slice(index + 1);
      if (rest.startsWith(']') || rest.startsWith('^]'))
        return { ok: false, reason: '"[]" and "[^]" are not supported' };
      inClass = true;
    } else if (char === '[' && inClass && source[index + 1] === ':') {
      return { ok: false, reason: '"[:" inside a class means different things to RE2 and JavaScript' };
    } else if (char === ']' && inClass) inClass = false;
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = source[index + 1];
    if (next === undefined) return { ok: false, reason: 'ends with a lone backslash' };
    index += 1;
    if (next === 'u') {
      const hex = source.slice(index + 1, index + 5);
      if (!/^[0-9A-Fa-f]{4}$/.test(hex)) return { ok: false, reason: '"\\u" must be followed by four hex digits' };
      out += `\\x{${hex}}`;
      index += 4;
      continue;
    }
    if (next === 'x') {
      if (!/^[0-9A-Fa-f]{2}$/.test(source.slice(index + 1, index + 3))) {
        return { ok: false, reason: '"\\x" must be followed by two hex digits' };
      }
      out += `\\x${source.slice(index + 1, index + 3)}`;
      index += 2;
      continue;
    }
    if (next === '0') {
      if (/[0-9]/.test(source[index + 1] ?? '')) return { ok: false, reason: 'octal escapes are not supported' };
      out += '\\x00';
      continue;
    }
    if (/[1-9]/.test(next)) return { ok: false, reason: 'back-references are not supported' };
    if (/[A-Za-z]/.test(next)) {
      const allowed = inClass ? 'dDwWsSnrtfv' : 'dDwWsSbBnrtfv';
      if (!allowed.includes(next))
        return { ok: false, reason: `the escape "\\${next}" means different things to RE2 and JavaScript` };
    }
    out += `\\${next}`;
  }
  return { ok: true, pattern: out };
}

type ArgMatcher = { kind: 'never' } | { kind: 'hash'; value: string } | { kind: 'regex'; regex: RE2JS; nul: boolean };

function compileArgPattern(argPattern: string): { matcher: ArgMatcher; problem: string | null } {
  const never = (problem: string | null) => ({ matcher: { kind: 'never' } as const, problem });
  if (argPattern.startsWith(LEGACY_HASH_PREFIX)) {
    return never('a legacy hashed entry that OpenClaw no longer honours; approve the command again');
  }
  if (argPattern.startsWith(HASH_PREFIX)) {
    const hex = argPattern.slice(HASH_PREFIX.length);
    if (!/^[0-9a-f]{64}$/.test(hex)) return never('a malformed cwd-bound hash');
    return { matcher: { kind: 'hash', value: argPattern }, problem: null };
  }
  if (argPattern.length > MAX_ARG_PATTERN_LENGTH) {
    return never(`argPattern is longer than ${MAX_ARG_PATTERN_LENGTH} characters`);
  }
  try {
    new RegExp(argPattern);
  } catch (error) {
    return never(`argPattern is not a valid regular expression: ${(error as Error).message}`);
  }
  const translated = toRe2(argPattern);
  if (!translated.ok) return never(`argPattern cannot be evaluated safely: ${translated.reason}`);
  try {
    const regex = RE2JS.compile(translated.pattern);
    return { matcher: { kind: 'regex', regex, nul: argPattern.includes('\u0000') }, problem: null };
  } catch (error) {
    return never(`argPattern cannot be evaluated safely (RE2): ${(error as Error).message}`);
  }
}

/**
 * Characters that ECMAScript and RE2 classify differently under `.`, `\s`, `\S` and negated
 * classes: JavaScript's `.` excludes `\r` and U+2028/9, its `\s` includes `\v` and Unicode
 * spaces, and it reads astral characters as two surrogate units.
 */
const divergent = /[\r\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\ud800-\udfff]/;

/** OpenClaw's subjects: space-joined, or each argument followed by NUL. */
function argSubject(args: readonly string[], nul: boolean): string {
  if (!nul) return args.join(' ');
  return args.length === 0 ? '\u0000\u0000' : `${args.join('\u0000')}\u0000`;
}

/** OpenClaw's `buildCwdBoundHashedArgPattern` (POSIX). */
export function cwdBoundArgPattern(args: readonly string[], cwd: string): string {
  const normalisedCwd = posix.normalize(cwd).replaceAll('\\', '/');
  const argv = `${args.length}\u0000${args.map((arg) => `${Buffer.byteLength(arg, 'utf8')}\u0000${arg}\u0000`).join('')}`;
  const subject = `${Buffer.byteLength(normalisedCwd, 'utf8')}\u0000${normalisedCwd}\u0000${argv}`;
  return `${HASH_PREFIX}${createHash('sha256').update(subject, 'utf8').digest('hex')}`;
}

/**
 * The anchored, exact `argPattern` for these arguments, in OpenClaw's NUL-separated form, so
 * `a b` (one argument) and `a`, `b` (two) cannot be confused. For `allow-always` (SPEC §9).
 */
export function exactArgPattern(args: readonly string[]): string {
  const literal = (arg: string) => arg.replace(/[\\^$.|?*+()[\]{}]/g, (char) => `\\${char}`);
  return `^${argSubject(args.map(literal), true)}$`;
}

// ---------------------------------------------------------------------------------------------
// Allowlists

type CompiledEntry = {
  index: number;
  pattern: string;
  entryId: string | null;
  arg: ArgMatcher | null;
  generated: boolean;
};

/**
 * Globs filed under their literal prefix, character by character: walking a target down the
 * tree finds exactly the globs whose prefix it starts with, whatever the allowlist's size.
 */
type PrefixNode = { next: Map<number, PrefixNode>; globs: { glob: Glob; index: number }[] };

const newNode = (): PrefixNode => ({ next: new Map(), globs: [] });

function fileGlob(root: PrefixNode, glob: Glob, index: number): void {
  let node = root;
  for (let at = 0; at < glob.prefix.length; at++) {
    const code = glob.prefix.charCodeAt(at);
    let child = node.next.get(code);
    if (!child) {
      child = newNode();
      node.next.set(code, child);
    }
    node = child;
  }
  node.globs.push({ glob, index });
}

function collectGlobs(root: PrefixNode, text: string, into: number[]): void {
  let node: PrefixNode | undefined = root;
  for (let at = 0; node !== undefined; at++) {
    for (const { glob, index } of node.globs) if (globMatches(glob, text)) into.push(index);
    if (at >= text.length) break;
    node = node.next.get(text.charCodeAt(at));
  }
}

export type CompiledAllowlist = {
  entries: readonly CompiledEntry[];
  problems: readonly AllowlistProblem[];
  /** Index of OpenClaw's match-anything `*` entry, if any. */
  wildcard: number;
  pathLiterals: Map<string, number[]>;
  pathGlobs: PrefixNode;
  nameLiterals: Map<string, number[]>;
  nameGlobs: PrefixNode;
};

function addTo(map: Map<string, number[]>, key: string, index: number): void {
  const bucket = map.get(key);
  if (bucket) bucket.push(index);
  else map.set(key, [index]);
}

/** Precompiles an allowlist once, so a 20-segment chain against 1,000 patterns stays well under a millisecond. */
export function compileAllowlist(allowlist: readonly EntryInput[], home: string): CompiledAllowlist {
  const compiled: CompiledAllowlist = {
    entries: [],
    problems: [],
    wildcard: -1,
    pathLiterals: new Map(),
    pathGlobs: newNode(),
    nameLiterals: new Map(),
    nameGlobs: newNode(),
  };
  const entries: CompiledEntry[] = [];
  const problems: AllowlistProblem[] = [];
  allowlist.forEach((raw, index) => {
    const entry: AllowlistEntry = typeof raw === 'string' ? { pattern: raw } : raw;
    const pattern = entry.pattern.trim();
    const entryId = entry.id ?? null;
    const generated = entry.source === 'allow-always';
    let arg: ArgMatcher | null = null;
    if (entry.argPattern !== undefined && entry.argPattern !== '') {
      const result = compileArgPattern(entry.argPattern);
      arg = result.matcher;
      if (result.problem) problems.push({ index, entryId, pattern, reason: result.problem });
    }
    entries.push({ index, pattern, entryId, arg, generated });
    if (pattern === '') {
      problems.push({ index, entryId, pattern, reason: 'empty pattern' });
      return;
    }
    if (pattern === '*') {
      if (arg === null && !generated && compiled.wildcard === -1) compiled.wildcard = index;
      return; // `*` is never a bare-name glob (OpenClaw excludes it explicitly).
    }
    if (hasPathSelector(pattern)) {
      const glob = compileGlob(normaliseTarget(expandHome(pattern, home)));
      if (typeof glob === 'string') addTo(compiled.pathLiterals, glob, index);
      else fileGlob(compiled.pathGlobs, glob, index);
    } else {
      const glob = compileGlob(pattern);
      if (typeof glob === 'string') addTo(compiled.nameLiterals, glob, index);
      else fileGlob(compiled.nameGlobs, glob, index);
    }
  });
  return { ...compiled, entries, problems };
}

function argMatches(matcher: ArgMatcher, invocation: Invocation, cwdHash: () => string | null): boolean {
  switch (matcher.kind) {
    case 'never':
      return false;
    case 'hash':
      return cwdHash() === matcher.value;
    case 'regex': {
      const subject = argSubject(invocation.args, matcher.nul);
      if (divergent.test(subject)) return false;
      return matcher.regex.matcher(subject).find();
    }
  }
}

/** The entry that allows this invocation, by OpenClaw's rules (see the header), or null. */
export function matchCompiled(compiled: CompiledAllowlist, invocation: Invocation): AllowlistMatch | null {
  const result = (index: number): AllowlistMatch => {
    const entry = compiled.entries[index] as CompiledEntry;
    return { pattern: entry.pattern, entryId: entry.entryId, index };
  };
  if (compiled.wildcard !== -1) return result(compiled.wildcard);
  if (!invocation.resolvedPath) return null;

  const candidates: number[] = [];
  const target = normaliseTarget(invocation.resolvedPath);
  for (const index of compiled.pathLiterals.get(target) ?? []) candidates.push(index);
  if (compiled.pathGlobs.next.size > 0 || compiled.pathGlobs.globs.length > 0) {
    collectGlobs(compiled.pathGlobs, hasDotSegment(target) ? posix.normalize(target) : target, candidates);
  }
  const bare = invocation.invokedAs === 'bare' && invocation.name !== '' && !hasPathSelector(invocation.name);
  if (bare) {
    for (const index of compiled.nameLiterals.get(invocation.name) ?? []) candidates.push(index);
    collectGlobs(compiled.nameGlobs, invocation.name, candidates);
  }
  if (candidates.length === 0) return null;
  candidates.sort((a, b) => a - b);

  let hash: string | null | undefined;
  const cwdHash = () => {
    if (hash === undefined)
      hash = invocation.cwd === undefined ? null : cwdBoundArgPattern(invocation.args, invocation.cwd);
    return hash;
  };
  let pathOnly = -1;
  for (const index of candidates) {
    const entry = compiled.entries[index] as CompiledEntry;
    if (entry.arg === null) {
      if (!entry.generated && pathOnly === -1) pathOnly = index;
      continue;
    }
    // Generated entries count only through their cwd-bound hash.
    if (entry.generated && entry.arg.kind !== 'hash') continue;
    if (argMatches(entry.arg, invocation, cwdHash)) return result(index);
  }
  return pathOnly === -1 ? null : result(pathOnly);
}

const cache = new WeakMap<readonly EntryInput[], Map<string, CompiledAllowlist>>();

/** `compileAllowlist` + `matchCompiled`, compiling each allowlist array once per home directory. */
export function matchAllowlist(
  allowlist: readonly EntryInput[],
  invocation: Invocation,
  home: string,
): AllowlistMatch | null {
  let byHome = cache.get(allowlist);
  if (!byHome) {
    byHome = new Map();
    cache.set(allowlist, byHome);
  }
  let compiled = byHome.get(home);
  if (!compiled) {
    compiled = compileAllowlist(allowlist, home);
    byHome.set(home, compiled);
  }
  return matchCompiled(compiled, invocation);
}
