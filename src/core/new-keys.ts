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

/** Edit distance (insert, delete, substitute, swap two neighbours), stopping early above `limit`. */
export function editDistance(a: string, b: string, limit = 2): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/**
 * A typo is a handful of keys; a proposal adding thousands (10,000 new chat groups) is a bulk
 * addition, and comparing each new key with every sibling would cost new × existing edit
 * distances (seconds on a large document). Past this many, new keys are listed without a guess.
 */
const MAX_SIMILARITY_SEARCHES = 64;

/** One object's keys, read once per proposal however many new keys land in it. */
type Siblings = { keys: readonly string[]; folded: Map<string, string> };

function siblingsOf(value: JsonObject): Siblings {
  const keys = Object.keys(value);
  const folded = new Map<string, string>();
  for (const key of keys) if (!folded.has(key.toLowerCase())) folded.set(key.toLowerCase(), key);
  return { keys, folded };
}

/** The existing sibling a new key was probably meant to be, if one is close enough to say so. */
function similarSibling(key: string, siblings: Siblings): string | undefined {
  const sameButCase = siblings.folded.get(key.toLowerCase());
  if (sameButCase !== undefined) return sameButCase;
  // Short keys are close to everything; one letter in four is a typo, more is another word.
  const limit = key.length >= 8 ? 2 : key.length >= 4 ? 1 : 0;
  if (limit === 0) return undefined;
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
            similar = similarSibling(segment.key, siblings);
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
