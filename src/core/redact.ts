import { fail } from './errors.js';
import { isIdKeyed, isObject, type Json, type JsonObject } from './json.js';
import { child, element, formatPath, type Path } from './path.js';
import { matchesPattern, type Pattern } from './pattern.js';

/** What a secret looks like everywhere outside the document: cards, config reads, logs, audit. */
export const REDACTED = '[redacted]';

export function isRedactedPath(patterns: readonly Pattern[], path: Path): boolean {
  return patterns.some((pattern) => matchesPattern(pattern, path));
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
