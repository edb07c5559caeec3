import type { Operation } from '../operations.js';
import { exactArgPattern } from './glob.js';

/**
 * What `allow-always` writes and `allow-for` grants (SPEC §9): for each segment of the request,
 * its resolved executable and exactly its arguments — nothing a glob or a looser expression could
 * stretch to cover a command the owner did not see.
 */

/** The part of a request's segment that a pin is made from. */
export type PinSource = { argv: readonly string[]; resolvedPath: string | null };

/** One executable with its exact arguments: an allowlist entry's `pattern` and `argPattern`. */
export type Pin = { pattern: string; argPattern: string };

export type Pins = { ok: true; pins: Pin[] } | { ok: false; reason: string };

/**
 * A resolved path is written as a *pattern*, and OpenClaw's globs have no escape: a path with
 * `*` or `?` in it would match other files (an agent can name a directory `**`), a `\` is read
 * as a separator, and surrounding whitespace is trimmed away, so the entry would name another
 * file. Such a path cannot be pinned, only allowed once.
 */
export function pinnablePath(path: string): boolean {
  return path.startsWith('/') && path === path.trim() && !/[*?\\]/.test(path);
}

/** One pin per distinct segment, or why the request cannot be pinned. */
export function pinsOf(segments: readonly PinSource[]): Pins {
  if (segments.length === 0) return { ok: false, reason: 'the request has no command to pin' };
  const seen = new Set<string>();
  const pins: Pin[] = [];
  for (const segment of segments) {
    if (segment.resolvedPath === null) {
      return { ok: false, reason: `"${segment.argv[0] ?? ''}" was not resolved to a file, so no entry can name it` };
    }
    if (!pinnablePath(segment.resolvedPath)) {
      return {
        ok: false,
        reason:
          'the executable\'s path contains "*", "?", "\\" or surrounding spaces, which an allowlist pattern would read as a wider match',
      };
    }
    const args = segment.argv.slice(1);
    // OpenClaw's exact form writes no arguments as two NULs, which is also two empty arguments:
    // an entry for `x '' ''` would allow a bare `x`.
    if (args.length === 2 && args[0] === '' && args[1] === '') {
      return { ok: false, reason: 'two empty arguments cannot be told apart from none in an allowlist entry' };
    }
    const pin = { pattern: segment.resolvedPath, argPattern: exactArgPattern(args) };
    const key = `${pin.pattern}\u0000${pin.argPattern}`;
    if (seen.has(key)) continue;
    seen.add(key);
    pins.push(pin);
  }
  return { ok: true, pins };
}

/**
 * The key of `agents` that holds an agent's own allowlist. `agents.default` is OpenClaw's legacy
 * name of `main` (merged into it, main first), so `main` is written as `main`; an agent *called*
 * `default` or `*` has no key of its own — writing there would allow the command for `main` or
 * for every agent — so nothing is written for it.
 */
export function allowlistKey(agentId: string): string | null {
  if (agentId === 'default' || agentId === '*' || agentId === '__proto__') return null;
  return agentId;
}

/** RFC 6901: `~` and `/` inside a key. */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * RFC 6902 operations that append `entries` to `agents.<key>.allowlist`, creating `agents`, the
 * agent and its allowlist where missing, and leaving every other field as it is.
 */
export function allowlistOperations(document: unknown, key: string, entries: readonly unknown[]): Operation[] {
  const json = (value: unknown) => value as Extract<Operation, { op: 'add' }>['value'];
  const root = isObject(document) ? document : {};
  const agentPath = `/agents/${escapePointer(key)}`;
  if (!isObject(root.agents)) return [{ op: 'add', path: '/agents', value: json({ [key]: { allowlist: entries } }) }];
  const agent = Object.hasOwn(root.agents, key) ? root.agents[key] : undefined;
  if (!isObject(agent)) return [{ op: 'add', path: agentPath, value: json({ allowlist: entries }) }];
  if (!Array.isArray(agent.allowlist)) return [{ op: 'add', path: `${agentPath}/allowlist`, value: json(entries) }];
  return entries.map((entry) => ({ op: 'add', path: `${agentPath}/allowlist/-`, value: json(entry) }));
}
