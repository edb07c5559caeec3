import type { Leaf } from './diff.js';
import { isIdKeyed, isObject, type Json, type JsonObject } from './json.js';
import type { Path, Segment } from './path.js';
import { patternSetOf } from './pattern.js';
import type { CompiledPolicy } from './policy.js';

/**
 * The value at `path`, read the way the diff names it: an `[id=…]` segment only finds an
 * element of an id-keyed array (a list with duplicate ids is one leaf, so its elements have no
 * path), and nothing is found through a key the object does not own.
 */
export function valueAt(document: Json, path: Path): Json | undefined {
  let value: Json | undefined = document;
  for (const segment of path) {
    value = step(value, segment);
    if (value === undefined) return undefined;
  }
  return value;
}

function step(value: Json, segment: Segment): Json | undefined {
  const selected = segment.id !== undefined || segment.index !== undefined;
  // An element of an element (`[id=a].[id=b]`) has no key of its own: it selects from `value` itself.
  let container: Json | undefined = value;
  if (!(selected && segment.key === '')) {
    if (!isObject(value) || !Object.hasOwn(value, segment.key)) return undefined;
    container = value[segment.key];
  }
  if (!selected) return container;
  if (!Array.isArray(container)) return undefined;
  if (segment.index !== undefined) return container[segment.index];
  if (!isIdKeyed(container)) return undefined;
  return container.find((item) => item.id === segment.id);
}

/**
 * The prefixes of the changed leaves, as a tree: each node is one path prefix, reached segment by
 * segment. A tree rather than string keys, so that no choice of keys (a hostile agent writes
 * them) can make two different prefixes look like one and hide an entry.
 */
type Prefix = { children: Map<string, Prefix> | null; examined: boolean };

/** Distinct segments get distinct names: a plain key is `k` + key; a selected one is JSON. */
function segmentName(segment: Segment): string {
  if (segment.id === undefined && segment.index === undefined) return `k${segment.key}`;
  return JSON.stringify([segment.key, segment.id ?? null, segment.index ?? null]);
}

function childOf(node: Prefix, segment: Segment): Prefix {
  const name = segmentName(segment);
  node.children ??= new Map();
  let next = node.children.get(name);
  if (next === undefined) {
    next = { children: null, examined: false };
    node.children.set(name, next);
  }
  return next;
}

/**
 * SPEC §2: adding or removing a whole entry that policy treats as an identity (an agent, an
 * MCP server, a channel account) is itself a change at the entry's path, so it is classified
 * by the rules for that path, never allowlisted merely because every leaf inside it is.
 * Returns one extra leaf (`add` with the whole entry, or `remove` with it) per identity entry
 * that exists in exactly one of `base` and `target`; `planChange` classifies them with the
 * others. An entry that is already a leaf at its own path (an empty object, a scalar) needs no
 * extra one.
 *
 * Every added or removed entry has at least one changed leaf at or under its path, so only
 * the prefixes of the changed leaves are looked at, never the whole document.
 */
export function identityLeaves(
  policy: CompiledPolicy,
  base: JsonObject,
  target: JsonObject,
  leaves: readonly Leaf[],
): Leaf[] {
  const patterns = policy.identityPatterns;
  if (patterns.length === 0) return [];
  const identities = patternSetOf(patterns);
  // Without a `**`, no identity is longer than its longest pattern: deeper prefixes need no look.
  const deepest = patterns.some((pattern) => pattern.segments.some((test) => test.kind === 'globstar'))
    ? Number.POSITIVE_INFINITY
    : Math.max(...patterns.map((pattern) => pattern.segments.length));
  const root: Prefix = { children: null, examined: false };
  const extra: Leaf[] = [];
  for (const leaf of leaves) {
    let node = root;
    // A leaf's own path is classified as it is; changed leaves never lie inside one another,
    // so only the proper prefixes can be entries with something changed inside.
    const depth = Math.min(leaf.path.length - 1, deepest);
    for (let length = 1; length <= depth; length++) {
      node = childOf(node, leaf.path[length - 1] as Segment);
      if (node.examined) continue;
      node.examined = true;
      const path = leaf.path.slice(0, length);
      if (!identities.some(path)) continue;
      const before = valueAt(base, path);
      const after = valueAt(target, path);
      if ((before === undefined) === (after === undefined)) continue;
      extra.push(before === undefined ? { path, op: 'add', after: after as Json } : { path, op: 'remove', before });
    }
  }
  return extra;
}
