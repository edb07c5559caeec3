import { canonical } from '../hash.js';
import type { Json } from '../json.js';
import { inertJsonText } from './inert.js';

/**
 * Before/after values shown in a limited space (a chat card) without ever hiding the difference
 * (issue 10 item 8: cutting both values at 117 characters made "9 entries" and "9 entries plus
 * tg:6666666666" read the same). Two rules, both pure and property-tested in
 * test/render/value-diff.test.ts:
 * - a list that changed is shown as the elements added and removed (a multiset difference), not
 *   as two long arrays;
 * - two long texts are shown around the part where they differ: the common prefix and suffix are
 *   elided with a count of the hidden characters, and the differing middle is always shown.
 * For any two distinct JSON values the two sides never read the same.
 */

/** A value as an owner reads it: canonical JSON made inert (src/core/text/inert.ts). */
export function shownValue(value: Json): string {
  return inertJsonText(canonical(value));
}

/**
 * Part of a text: `skippedStart` characters hidden before `text`, `skippedEnd` after it. `text`
 * is `lead + middle + trail`, where `middle` is the part that differs from the other side (so a
 * surface may highlight it); for a text shown whole or alone, all of it is `middle`.
 */
export type Excerpt = {
  skippedStart: number;
  text: string;
  skippedEnd: number;
  lead: string;
  middle: string;
  trail: string;
};

export type ExcerptOptions = {
  /** Texts up to this many characters are shown whole. */
  max: number;
  /** Unchanged characters kept on each side of the difference, for orientation. */
  context?: number;
  /** The differing middle is cut after this many characters (it always starts with the difference). */
  maxMiddle?: number;
};

/** The longest escape `inert` or JSON writes (`\u{10ffff}`); contexts are longer, see `excerpts`. */
const longestEscape = 10;

/** Where a text may be cut without splitting an escape such as `\u202e`: offsets in code points. */
function boundaries(chars: readonly string[]): Set<number> {
  const cuts = new Set<number>([0]);
  let at = 0;
  for (const unit of chars.join('').match(/\\u\{[0-9a-f]+\}|\\u[0-9a-fA-F]{4}|\\x[0-9a-f]{2}|\\[\s\S]|[\s\S]/gu) ??
    []) {
    at += Array.from(unit).length;
    cuts.add(at);
  }
  return cuts;
}

function whole(text: string): Excerpt {
  return { skippedStart: 0, text, skippedEnd: 0, lead: '', middle: text, trail: '' };
}

function piece(chars: string[], start: number, changeStart: number, changeEnd: number, end: number): Excerpt {
  const lead = chars.slice(start, changeStart).join('');
  const middle = chars.slice(changeStart, changeEnd).join('');
  const trail = chars.slice(changeEnd, end).join('');
  return { skippedStart: start, text: lead + middle + trail, skippedEnd: chars.length - end, lead, middle, trail };
}

/**
 * The two texts around their difference. Counts are in characters (code points) of the shown
 * text. Why the sides can never read the same when the texts differ: both hide the same number of
 * characters at the start (from a common prefix) and show the same common context up to the first
 * difference; from there either the first shown characters differ, or one side has no differing
 * middle and shows only suffix context (at most `context + longestEscape` characters) while the
 * other shows a middle of more than that (`maxMiddle` is kept above it) or the middle plus the
 * same suffix context.
 */
export function excerpts(before: string, after: string, options: ExcerptOptions): { before: Excerpt; after: Excerpt } {
  const a = Array.from(before);
  const b = Array.from(after);
  if (a.length <= options.max && b.length <= options.max) return { before: whole(before), after: whole(after) };
  const context = Math.max(options.context ?? 16, longestEscape);
  const maxMiddle = Math.max(options.maxMiddle ?? options.max - 2 * context, context + longestEscape + 1);

  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  const room = Math.min(a.length, b.length) - prefix;
  while (suffix < room && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;

  const cutsA = boundaries(a);
  const cutsB = boundaries(b);
  // Start: a cut both texts share (they are identical up to `prefix`), `context` before the difference.
  let start = prefix - context < 4 ? 0 : prefix - context;
  while (start > 0 && !(cutsA.has(start) && cutsB.has(start))) start--;
  // Suffix context: the same length on both sides, extended to a cut in both.
  let tail = Math.min(suffix, context);
  while (tail < suffix && !(cutsA.has(a.length - suffix + tail) && cutsB.has(b.length - suffix + tail))) tail++;
  if (suffix - tail < 4) tail = suffix;

  // Where highlighting starts: the difference, moved back to the start of an escape it falls in.
  let changeStart = prefix;
  while (changeStart > start && !(cutsA.has(changeStart) && cutsB.has(changeStart))) changeStart--;

  const side = (chars: string[], cuts: Set<number>): Excerpt => {
    const middleEnd = chars.length - suffix;
    if (middleEnd - prefix > maxMiddle) {
      let end = prefix + maxMiddle;
      while (end < middleEnd && !cuts.has(end)) end++;
      return piece(chars, start, changeStart, end, end);
    }
    return piece(chars, start, changeStart, middleEnd, middleEnd + tail);
  };
  return { before: side(a, cutsA), after: side(b, cutsB) };
}

/** Elements added to and removed from a list, as multisets (order and duplicates respected). */
/**
 * `appended`: the new list is the kept items in their old order, then the added ones — the only
 * case where "removed …, added …" says exactly what the list became. Otherwise the same delta
 * could stand for several lists (an item inserted first or last), so it must not be shown alone.
 */
export type ListDelta = { added: Json[]; removed: Json[]; reordered: boolean; appended: boolean };

export function listDelta(before: readonly Json[], after: readonly Json[]): ListDelta {
  const left = new Map<string, number>();
  for (const item of before) {
    const key = canonical(item);
    left.set(key, (left.get(key) ?? 0) + 1);
  }
  const added: Json[] = [];
  for (const item of after) {
    const key = canonical(item);
    const count = left.get(key) ?? 0;
    if (count > 0) left.set(key, count - 1);
    else added.push(item);
  }
  const removed: Json[] = [];
  const kept: Json[] = [];
  for (const item of before) {
    const key = canonical(item);
    const count = left.get(key) ?? 0;
    if (count > 0) {
      removed.push(item);
      left.set(key, count - 1);
    } else kept.push(item);
  }
  const reordered =
    added.length === 0 && removed.length === 0 && canonical(before as Json) !== canonical(after as Json);
  const appended = canonical([...kept, ...added]) === canonical(after as Json);
  return { added, removed, reordered, appended };
}

/**
 * How a change's values read in limited space: a list delta when both sides are lists that gained
 * or lost elements, otherwise the two values excerpted around their difference.
 */
export type ValueView =
  | {
      kind: 'list';
      beforeLength: number;
      afterLength: number;
      /** Removed and added elements; the i-th removed and i-th added are excerpted against each other. */
      removed: Excerpt[];
      added: Excerpt[];
    }
  | { kind: 'values'; before: Excerpt | null; after: Excerpt | null; reordered: boolean };

export function valueView(before: Json | undefined, after: Json | undefined, options: ExcerptOptions): ValueView {
  const delta = Array.isArray(before) && Array.isArray(after) ? listDelta(before, after) : null;
  if (delta && Array.isArray(before) && Array.isArray(after)) {
    if ((delta.added.length > 0 || delta.removed.length > 0) && delta.appended) {
      const removed: Excerpt[] = [];
      const added: Excerpt[] = [];
      const pairs = Math.max(delta.removed.length, delta.added.length);
      for (let i = 0; i < pairs; i++) {
        const gone = delta.removed[i];
        const come = delta.added[i];
        if (gone !== undefined && come !== undefined) {
          // Excerpted together, so two long elements differing at the end still read differently.
          const pair = excerpts(shownValue(gone), shownValue(come), options);
          removed.push(pair.before);
          added.push(pair.after);
        } else if (gone !== undefined) removed.push(alone(shownValue(gone), options));
        else if (come !== undefined) added.push(alone(shownValue(come), options));
      }
      return { kind: 'list', beforeLength: before.length, afterLength: after.length, removed, added };
    }
  }
  if (before === undefined || after === undefined) {
    return {
      kind: 'values',
      before: before === undefined ? null : alone(shownValue(before), options),
      after: after === undefined ? null : alone(shownValue(after), options),
      reordered: false,
    };
  }
  const pair = excerpts(shownValue(before), shownValue(after), options);
  return {
    kind: 'values',
    before: pair.before,
    after: pair.after,
    reordered: delta?.reordered ?? false,
  };
}

/** A value with nothing to compare it with: its start, and how much more there is. */
function alone(text: string, options: ExcerptOptions): Excerpt {
  const chars = Array.from(text);
  if (chars.length <= options.max) return whole(text);
  const cuts = boundaries(chars);
  let end = options.max;
  while (end < chars.length && !cuts.has(end)) end++;
  return piece(chars, 0, 0, end, end);
}
