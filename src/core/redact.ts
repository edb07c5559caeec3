import { fail } from './errors.js';
import { deepEqual, isIdKeyed, isObject, type Json, type JsonObject } from './json.js';
import { child, element, formatPath, type Path } from './path.js';
import { type Pattern, patternSetOf } from './pattern.js';

/** What a secret looks like everywhere outside the document: cards, config reads, logs, audit. */
export const REDACTED = '[redacted]';

export function isRedactedPath(patterns: readonly Pattern[], path: Path): boolean {
  return patterns.length > 0 && patternSetOf(patterns).some(path);
}

/** Whether `path` or any place above it is redacted: everything inside a secret is secret. */
export function isUnderRedactedPath(patterns: readonly Pattern[], path: Path): boolean {
  if (patterns.length === 0) return false;
  for (let length = path.length; length > 0; length--) {
    if (isRedactedPath(patterns, path.slice(0, length))) return true;
  }
  return false;
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
 * A `"[redacted]"` placeholder keeps the current secret, so an agent can send back what it read
 * from `GET /v1/config` without ever seeing the value. `base` is the marked document
 * (provenance.ts), so what a placeholder keeps is the secret's marker; `isSecret` tells markers.
 * A placeholder keeps a secret only where the base holds one at the counterpart position: the
 * same key, the same id in an id-keyed list, the same index in any other list. In a list that is
 * not keyed by id, position is all that ties a placeholder to its secret, so everything up to
 * the last placeholder must be as it was: otherwise a reorder could swap two secrets and the
 * owner, seeing "[redacted]" twice, could not tell.
 */
export function restoreRedacted(
  patterns: readonly Pattern[],
  base: JsonObject,
  target: JsonObject,
  isSecret: (value: Json | undefined) => boolean,
  veil: (value: Json) => Json,
): JsonObject {
  return restore({ patterns, isSecret, veil }, base, target, []) as JsonObject;
}

type RestoreContext = {
  patterns: readonly Pattern[];
  isSecret: (value: Json | undefined) => boolean;
  veil: (value: Json) => Json;
};

function hasPlaceholder(value: Json): boolean {
  if (value === REDACTED) return true;
  if (Array.isArray(value)) return value.some(hasPlaceholder);
  if (isObject(value)) return Object.values(value).some(hasPlaceholder);
  return false;
}

function holdsSecret(context: RestoreContext, value: Json): boolean {
  if (context.isSecret(value)) return true;
  if (Array.isArray(value)) return value.some((item) => holdsSecret(context, item));
  if (isObject(value)) return Object.values(value).some((item) => holdsSecret(context, item));
  return false;
}

function restore(context: RestoreContext, base: Json | undefined, target: Json, path: Path): Json {
  // A subtree the patch did not touch is the base's own object: nothing in it can be a placeholder to resolve.
  if (base === target) return target;
  if (target === REDACTED) {
    if (context.isSecret(base)) return base as Json;
    if (isRedactedPath(context.patterns, path)) {
      fail('invalid_patch', `${formatPath(path)} holds "${REDACTED}" but there is no current secret to keep.`, {
        path: formatPath(path),
      });
    }
    return target;
  }
  if (typeof target !== 'object' || target === null) return target;
  if (!Array.isArray(target)) {
    const result: JsonObject = {};
    for (const [key, item] of Object.entries(target)) {
      const previous = isObject(base) ? base[key] : undefined;
      result[key] = previous === item ? item : restore(context, previous, item, child(path, key));
    }
    return result;
  }
  const idKeyed = isIdKeyed(target);
  if (!idKeyed && Array.isArray(base) && holdsSecret(context, base)) {
    const last = target.findLastIndex(hasPlaceholder);
    const before = base;
    for (let index = 0; index <= last; index++) {
      const kept = before[index];
      if (kept === undefined || !deepEqual(context.veil(kept), target[index] as Json)) {
        fail(
          'invalid_patch',
          `${formatPath(path)} is a list not keyed by id: a "${REDACTED}" in it keeps its secret only when every element up to it is unchanged, so that no secret can change places unseen. Send the list with the secret values, or edit it with operations.`,
          { path: formatPath(path) },
        );
      }
    }
  }
  const result: Json[] = [];
  forEachChild(target, path, (item, at, key) => {
    result.push(restore(context, counterpart(base, target, key, idKeyed), item, at));
  });
  return result;
}
