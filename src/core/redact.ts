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
