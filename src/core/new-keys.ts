import { z } from 'zod';
import type { Leaf } from './diff.js';
import { isObject, type Json, type JsonObject } from './json.js';
import type { Path, Segment } from './path.js';

/**
 * Keys a change adds that the document never had at that place. Without a JSON Schema a typo
 * (`comands.mcp` for `commands.mcp`) is just another protected change that does nothing once
 * applied; the card names such keys, and an existing neighbour that is spelt almost the same,
 * so the owner notices before approving.
 */
export const NewKeySchema = z.object({
  /** The new key's path, as the card's change paths write it. */
  path: z.string(),
  /** An existing key next to it that differs by a letter or two (or only in case): the one probably meant. */
  similarTo: z.string().optional(),
});
export type NewKey = z.infer<typeof NewKeySchema>;

/** The value one segment down, or undefined when it is not there. */
function step(value: Json | undefined, segment: Segment): Json | undefined {
  let at: Json | undefined = value;
  if (segment.key !== '' || (segment.id === undefined && segment.index === undefined)) {
    at = isObject(at) ? at[segment.key] : undefined;
  }
  if (segment.id !== undefined) {
    return Array.isArray(at) ? at.find((item) => isObject(item) && item.id === segment.id) : undefined;
  }
  if (segment.index !== undefined) return Array.isArray(at) ? at[segment.index] : undefined;
  return at;
}

/** The three rows `editDistance` works in, kept between calls: a search makes thousands of calls. */
let rows: [Int32Array, Int32Array, Int32Array] = [new Int32Array(64), new Int32Array(64), new Int32Array(64)];

/**
 * Edit distance (insert, delete, substitute, swap two neighbours: optimal string alignment),
 * or `limit + 1` for anything above `limit`. Three rolling rows, and it stops as soon as a whole
 * row is above the limit: most pairs of keys (chat ids, say, that share a prefix) are told apart
 * after a few characters, which is what keeps a search over thousands of siblings cheap.
 */
export function editDistance(a: string, b: string, limit = 2): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  // A shared prefix and suffix cost nothing: keys like chat ids share most of their length.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
  if (start > 0 || end > 0) {
    a = a.slice(start, a.length - end);
    b = b.slice(start, b.length - end);
  }
  const width = b.length + 1;
  if (rows[0].length < width) rows = [new Int32Array(width * 2), new Int32Array(width * 2), new Int32Array(width * 2)];
  let [twoUp, up, row] = rows;
  for (let j = 0; j < width; j++) up[j] = j;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    let smallest = i;
    for (let j = 1; j < width; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (twoUp[j - 2] as number) + 1);
      }
      row[j] = best;
      if (best < smallest) smallest = best;
    }
    // Every later row only adds to these: nothing can come back under the limit.
    if (smallest > limit) return limit + 1;
    [twoUp, up, row] = [up, row, twoUp];
  }
  return Math.min(up[b.length] as number, limit + 1);
}

/**
 * A typo is a handful of keys; a proposal adding thousands (10,000 new chat groups) is a bulk
 * addition, and comparing each new key with every sibling would cost new × existing edit
 * distances (seconds on a large document). Past this many, new keys are listed without a guess.
 */
const MAX_SIMILARITY_SEARCHES = 64;

/**
 * The same bound for a new key in a huge object (20,000 chat groups): at most this many sibling
 * comparisons per proposal in all. A typo of a key that has thousands of siblings is rare, and
 * without this 64 searches over a 1 MB document took half a second.
 */
const MAX_SIBLING_COMPARISONS = 20_000;

/** One object's keys, read once per proposal however many new keys land in it. */
type Siblings = { keys: readonly string[]; folded: Map<string, string> };

function siblingsOf(value: JsonObject): Siblings {
  const keys = Object.keys(value);
  const folded = new Map<string, string>();
  for (const key of keys) if (!folded.has(key.toLowerCase())) folded.set(key.toLowerCase(), key);
  return { keys, folded };
}

/** The existing sibling a new key was probably meant to be, if one is close enough to say so. */
function similarSibling(key: string, siblings: Siblings, budget: { comparisons: number }): string | undefined {
  const sameButCase = siblings.folded.get(key.toLowerCase());
  if (sameButCase !== undefined) return sameButCase;
  // Short keys are close to everything; one letter in four is a typo, more is another word.
  const limit = key.length >= 8 ? 2 : key.length >= 4 ? 1 : 0;
  if (limit === 0) return undefined;
  // All siblings or none: a partial search would guess differently depending on key order.
  if (budget.comparisons < siblings.keys.length) return undefined;
  budget.comparisons -= siblings.keys.length;
  let best: { key: string; distance: number } | undefined;
  for (const sibling of siblings.keys) {
    if (Math.abs(sibling.length - key.length) > limit) continue;
    const distance = editDistance(key, sibling, limit);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { key: sibling, distance };
  }
  return best?.key;
}

/**
 * For every added leaf, the first key on its path that the base document does not have, when
 * that key sits in an object the document already has (a new element of an id-keyed list is a
 * new entry, not a new key, and its insides are new with it). Each new key is listed once.
 */
export function newKeysOf(
  base: JsonObject,
  leaves: readonly Leaf[],
  format: (path: Path) => string,
  /**
   * Places whose keys the proposer cannot see (a redacted object reads as "[redacted]"): no
   * suggestion is made there, or `similarTo` would tell a guess of a hidden key name.
   */
  hidden: (path: Path) => boolean = () => false,
): NewKey[] {
  const found = new Map<string, NewKey>();
  const siblingsByParent = new Map<JsonObject, Siblings>();
  let searches = 0;
  const budget = { comparisons: MAX_SIBLING_COMPARISONS };
  for (const leaf of leaves) {
    if (leaf.op !== 'add') continue;
    let value: Json | undefined = base;
    for (let depth = 0; depth < leaf.path.length; depth++) {
      const segment = leaf.path[depth] as Segment;
      const next = step(value, segment);
      if (next !== undefined) {
        value = next;
        continue;
      }
      // Missing here: either the key itself is new (also for `list[id=x]` when there is no
      // `list` yet), or the key exists and only the element is new.
      if (isObject(value) && segment.key !== '' && !Object.hasOwn(value, segment.key)) {
        const parent = leaf.path.slice(0, depth);
        const path = format([...parent, { key: segment.key }]);
        if (!found.has(path)) {
          let similar: string | undefined;
          if (!hidden(parent) && searches < MAX_SIMILARITY_SEARCHES) {
            searches += 1;
            let siblings = siblingsByParent.get(value);
            if (!siblings) {
              siblings = siblingsOf(value);
              siblingsByParent.set(value, siblings);
            }
            similar = similarSibling(segment.key, siblings, budget);
          }
          found.set(
            path,
            similar === undefined ? { path } : { path, similarTo: format([...parent, { key: similar }]) },
          );
        }
      }
      break;
    }
  }
  return [...found.values()];
}
