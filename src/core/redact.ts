import { fail } from './errors.js';
import { isIdKeyed, isObject, type Json, type JsonObject } from './json.js';
import { child, element, formatPath, type Path, type Segment } from './path.js';
import { type Pattern, patternSetOf } from './pattern.js';

/** What a secret looks like everywhere outside the document: cards, config reads, logs, audit. */
export const REDACTED = '[redacted]';

export function isRedactedPath(patterns: readonly Pattern[], path: Path): boolean {
  return patterns.length > 0 && patternSetOf(patterns).some(path);
}

function forEachChild(value: Json, path: Path, visit: (item: Json, at: Path, key: string | number) => void): void {
  if (Array.isArray(value)) {
    const byId = isIdKeyed(value);
    value.forEach((item, index) => {
      const at = byId ? element(path, { id: (item as JsonObject).id as string }) : element(path, { index });
      visit(item, at, index);
    });
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) visit(item, child(path, key), key);
  }
}

/** `value` as it may be shown: every part at a redacted path replaced by the placeholder. */
export function redactValue(patterns: readonly Pattern[], value: Json, path: Path): Json {
  if (patterns.length === 0) return value;
  if (isRedactedPath(patterns, path)) return REDACTED;
  if (Array.isArray(value)) {
    const result: Json[] = [];
    forEachChild(value, path, (item, at) => result.push(redactValue(patterns, item, at)));
    return result;
  }
  if (isObject(value)) {
    const result: JsonObject = {};
    forEachChild(value, path, (item, at, key) => {
      result[key as string] = redactValue(patterns, item, at);
    });
    return result;
  }
  return value;
}

function counterpart(
  base: Json | undefined,
  target: Json,
  key: string | number,
  targetIsIdKeyed: boolean,
): Json | undefined {
  if (typeof key === 'string') return isObject(base) ? base[key] : undefined;
  if (!Array.isArray(base)) return undefined;
  if (!targetIsIdKeyed) return base[key];
  const id = ((target as Json[])[key] as JsonObject).id;
  return base.find((item) => isObject(item) && item.id === id);
}

/**
 * A `"[redacted]"` placeholder at a redacted path keeps the current secret, so an agent can
 * send back what it read from `GET /v1/config` without ever seeing the value.
 */
export function restoreRedacted(patterns: readonly Pattern[], base: JsonObject, target: JsonObject): JsonObject {
  if (patterns.length === 0) return target;
  return restore(patterns, base, target, []) as JsonObject;
}

function restore(patterns: readonly Pattern[], base: Json | undefined, target: Json, path: Path): Json {
  // A subtree the patch did not touch is the base's own object: nothing in it can be a placeholder to resolve.
  if (base === target) return target;
  if (target === REDACTED && isRedactedPath(patterns, path)) {
    if (base === undefined) {
      fail('invalid_patch', `${formatPath(path)} holds "${REDACTED}" but there is no current secret to keep.`, {
        path: formatPath(path),
      });
    }
    return base;
  }
  if (typeof target !== 'object' || target === null) return target;
  if (!Array.isArray(target)) {
    // As below, without building the path of members the patch left as they were.
    const result: JsonObject = {};
    for (const [key, item] of Object.entries(target)) {
      const previous = isObject(base) ? base[key] : undefined;
      result[key] = previous === item ? item : restore(patterns, previous, item, child(path, key));
    }
    return result;
  }
  const idKeyed = Array.isArray(target) && isIdKeyed(target);
  const result: Json = Array.isArray(target) ? [] : {};
  forEachChild(target, path, (item, at, key) => {
    const restored = restore(patterns, counterpart(base, target, key, idKeyed), item, at);
    if (Array.isArray(result)) result.push(restored);
    else result[key as string] = restored;
  });
  return result;
}

function collectStrings(value: Json, into: Set<string>): void {
  if (typeof value === 'string') into.add(value);
  else forEachChild(value, [], (item) => collectStrings(item, into));
}

function sortStrings(
  patterns: readonly Pattern[],
  value: Json,
  path: Path,
  hidden: Set<string>,
  shown: Set<string>,
): void {
  if (isRedactedPath(patterns, path)) {
    collectStrings(value, hidden);
    return;
  }
  if (typeof value === 'string') shown.add(value);
  forEachChild(value, path, (item, at) => sortStrings(patterns, item, at, hidden, shown));
}

/**
 * The strings `document` keeps only at redacted paths: what a reader of the redacted document
 * cannot know. Empty strings and the placeholder itself are never secrets worth guarding.
 */
export function hiddenStrings(patterns: readonly Pattern[], document: JsonObject): Set<string> {
  const hidden = new Set<string>();
  if (patterns.length === 0) return hidden;
  const shown = new Set<string>(['', REDACTED]);
  sortStrings(patterns, document, [], hidden, shown);
  for (const text of shown) hidden.delete(text);
  return hidden;
}

/** Every string anywhere inside `value`, wherever it sits. */
export function stringsIn(value: Json, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') into.add(value);
  else if (Array.isArray(value)) for (const item of value) stringsIn(item, into);
  else if (isObject(value)) for (const key in value) stringsIn(value[key] as Json, into);
  return into;
}

/**
 * A place in the walk, its path built only when needed: `up` and `segment` spell the path (an
 * element of an array at a plain key takes that key, as `element` does), `from` is the place
 * the walk came from, whose path the walk also visited.
 */
type Trail = { up: Trail; segment: Segment; from: Trail } | null;

function trailPath(trail: Trail): Segment[] {
  const path: Segment[] = [];
  for (let at = trail; at !== null; at = at.up) path.push(at.segment);
  return path.reverse();
}

function childTrail(trail: Trail, key: string): Trail {
  return { up: trail, segment: { key }, from: trail };
}

/** `element(path, selector)` on a trail. */
function elementTrail(trail: Trail, selector: { id: string } | { index: number }): Trail {
  const last = trail?.segment;
  if (trail === null || last === undefined || last.id !== undefined || last.index !== undefined) {
    return { up: trail, segment: { key: '', ...selector }, from: trail };
  }
  return { up: trail.up, segment: { key: last.key, ...selector }, from: trail };
}

/**
 * `hiddenStrings(patterns, document)` restricted to `candidates`, without matching every path of
 * the document against the patterns: only the places where a candidate occurs are judged. The
 * walk of `hiddenStrings` stops at the first redacted path and hides every string below it, so
 * an occurrence is hidden when the path of any place the walk passed through to reach it
 * (itself and the root included) is redacted, and shown otherwise; a string is hidden when it
 * is never shown.
 */
export function hiddenStringsAmong(
  patterns: readonly Pattern[],
  document: JsonObject,
  candidates: ReadonlySet<string>,
): Set<string> {
  const hidden = new Set<string>();
  if (patterns.length === 0 || candidates.size === 0) return hidden;
  const shown = new Set<string>(['', REDACTED]);
  const rootHidden = isRedactedPath(patterns, []);
  const judge = (text: string, trail: Trail): void => {
    if (shown.has(text)) return;
    let redacted = rootHidden;
    for (let at = trail; at !== null && !redacted; at = at.from) redacted = isRedactedPath(patterns, trailPath(at));
    if (redacted) hidden.add(text);
    else shown.add(text);
  };
  const walk = (value: Json, trail: Trail): void => {
    if (Array.isArray(value)) {
      const byId = isIdKeyed(value);
      value.forEach((item, index) => {
        if (typeof item === 'object' && item !== null) {
          walk(item, elementTrail(trail, byId ? { id: (item as JsonObject).id as string } : { index }));
        } else if (typeof item === 'string' && candidates.has(item)) {
          judge(item, elementTrail(trail, { index }));
        }
      });
    } else if (isObject(value)) {
      for (const key of Object.keys(value)) {
        const item = value[key] as Json;
        if (typeof item === 'object' && item !== null) walk(item, childTrail(trail, key));
        else if (typeof item === 'string' && candidates.has(item)) judge(item, childTrail(trail, key));
      }
    }
  };
  walk(document, null);
  for (const text of shown) hidden.delete(text);
  return hidden;
}

/** The first path at or below `path` where `value` would show one of `hidden` unredacted. */
export function findHiddenString(
  patterns: readonly Pattern[],
  value: Json,
  path: Path,
  hidden: ReadonlySet<string>,
): Path | null {
  if (hidden.size === 0 || isRedactedPath(patterns, path)) return null;
  if (typeof value === 'string') return hidden.has(value) ? path : null;
  let found: Path | null = null;
  forEachChild(value, path, (item, at) => {
    found ??= findHiddenString(patterns, item, at, hidden);
  });
  return found;
}
