/** A parsed JSON value. Documents, patches and values in changes are all of this type. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export type JsonObject = { [key: string]: Json };

/** Keys that could reach an object's prototype if a consumer ever used plain assignment. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!Object.hasOwn(b, key) || !deepEqual(a[key], b[key])) return false;
  }
  return true;
}

export function includesJson(list: readonly Json[], value: Json | undefined): boolean {
  if (value === undefined) return false;
  return list.some((item) => deepEqual(item, value));
}

/**
 * An array is id-keyed when every element is an object with a unique, non-empty string `id`.
 * Such arrays are compared and merged element by element (SPEC §2); the empty array qualifies.
 */
export function isIdKeyed(value: Json[]): value is JsonObject[] {
  const seen = new Set<string>();
  for (const element of value) {
    if (!isObject(element)) return false;
    const id = element.id;
    if (typeof id !== 'string' || id === '' || seen.has(id)) return false;
    seen.add(id);
  }
  return true;
}

export const jsonLimitsDefaults = { maxDepth: 64, maxKeys: 200_000 } as const;
export type JsonLimits = { maxDepth: number; maxKeys: number };

export type JsonIssue =
  | { code: 'forbidden_key'; key: string; pointer: string }
  | { code: 'too_deep'; maxDepth: number }
  | { code: 'too_many_keys'; maxKeys: number };

/**
 * Walks a freshly parsed request body once, refusing prototype-pollution keys anywhere and
 * bounding nesting depth and total key count, so that later recursive code cannot be driven
 * into stack exhaustion or quadratic work by a hostile body.
 */
export function inspectJson(value: unknown, limits: JsonLimits = jsonLimitsDefaults): JsonIssue | null {
  let keys = 0;
  const stack: Array<{ value: unknown; depth: number; pointer: string }> = [{ value, depth: 0, pointer: '' }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; depth: number; pointer: string };
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= limits.maxDepth) return { code: 'too_deep', maxDepth: limits.maxDepth };
    if (Array.isArray(item.value)) {
      keys += item.value.length;
      if (keys > limits.maxKeys) return { code: 'too_many_keys', maxKeys: limits.maxKeys };
      item.value.forEach((child, index) => {
        stack.push({ value: child, depth: item.depth + 1, pointer: `${item.pointer}/${index}` });
      });
      continue;
    }
    for (const [key, child] of Object.entries(item.value)) {
      if (FORBIDDEN_KEYS.has(key)) return { code: 'forbidden_key', key, pointer: `${item.pointer}/${key}` };
      keys += 1;
      if (keys > limits.maxKeys) return { code: 'too_many_keys', maxKeys: limits.maxKeys };
      stack.push({ value: child, depth: item.depth + 1, pointer: `${item.pointer}/${key}` });
    }
  }
  return null;
}

/**
 * Freezes a parsed document and everything in it. A document shared between requests (the
 * service's snapshot of the current file) is frozen so that code which mutated it in place
 * would throw at once instead of silently changing what later requests are judged against.
 */
export function deepFreeze<T extends Json>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child as Json);
  }
  return value;
}
