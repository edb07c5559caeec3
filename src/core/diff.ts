import { escapePathComponent } from 'fast-json-patch';
import { deepEqual, isIdKeyed, isObject, type Json, type JsonObject } from './json.js';
import type { Operation } from './operations.js';
import { child, element, type Path } from './path.js';

/** One changed leaf. `before` is absent for an add, `after` for a remove. */
export type Leaf = { path: Path; op: 'add' | 'remove' | 'replace'; before?: Json; after?: Json };

/** An RFC 6902 operation with the semantic path of the value it carries, for redaction. */
export type PlacedOperation = { operation: Operation; at: Path };

export type Diff = { leaves: Leaf[]; operations: PlacedOperation[] };

type ArrayMode = 'by-id' | 'by-index';

/** A value with nothing inside to descend into: scalars, empty containers and, in by-id mode, arrays that are not id-keyed. */
function isLeafValue(value: Json, mode: ArrayMode): boolean {
  if (isObject(value)) return Object.keys(value).length === 0;
  if (Array.isArray(value)) return value.length === 0 || (mode === 'by-id' && !isIdKeyed(value));
  return true;
}

function pointerOf(base: string, token: string | number): string {
  return `${base}/${typeof token === 'number' ? token : escapePathComponent(token)}`;
}

class Differ {
  readonly leaves: Leaf[] = [];
  readonly operations: PlacedOperation[] = [];
  constructor(private readonly mode: ArrayMode) {}

  /** Every leaf inside `value`, reported as added or removed. */
  subtree(value: Json, path: Path, op: 'add' | 'remove'): void {
    if (isLeafValue(value, this.mode)) {
      this.leaves.push(op === 'add' ? { path, op, after: value } : { path, op, before: value });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        const selector = this.mode === 'by-id' ? { id: (item as JsonObject).id as string } : { index };
        this.subtree(item, element(path, selector), op);
      });
      return;
    }
    for (const [key, item] of Object.entries(value as JsonObject)) this.subtree(item, child(path, key), op);
  }

  value(before: Json, after: Json, path: Path, pointer: string): void {
    // Patches share untouched subtrees with the base, so identity skips most of a large document.
    if (before === after) return;
    if (isObject(before) && isObject(after)) return this.objects(before, after, path, pointer);
    if (Array.isArray(before) && Array.isArray(after)) {
      if (this.mode === 'by-index') return this.indexedArrays(before, after, path, pointer);
      if (isIdKeyed(before) && isIdKeyed(after)) return this.idArrays(before, after, path, pointer);
    }
    if (deepEqual(before, after)) return;
    this.operations.push({ operation: { op: 'replace', path: pointer, value: after }, at: path });
    if (isLeafValue(before, this.mode) && isLeafValue(after, this.mode)) {
      this.leaves.push({ path, op: 'replace', before, after });
      return;
    }
    this.subtree(before, path, 'remove');
    this.subtree(after, path, 'add');
  }

  objects(before: JsonObject, after: JsonObject, path: Path, pointer: string): void {
    for (const key of Object.keys(before)) {
      if (Object.hasOwn(after, key)) continue;
      const at = child(path, key);
      this.operations.push({ operation: { op: 'remove', path: pointerOf(pointer, key) }, at });
      this.subtree(before[key] as Json, at, 'remove');
    }
    for (const [key, value] of Object.entries(after)) {
      if (Object.hasOwn(before, key)) {
        const previous = before[key] as Json;
        // An untouched subtree is shared with the base: skip it before building its path.
        if (previous !== value) this.value(previous, value, child(path, key), pointerOf(pointer, key));
      } else {
        const at = child(path, key);
        this.operations.push({ operation: { op: 'add', path: pointerOf(pointer, key), value }, at });
        this.subtree(value, at, 'add');
      }
    }
  }

  /**
   * Removes vanished ids from the end backwards, then walks the target left to right,
   * inserting new elements and moving kept ones into place, so each emitted index is valid
   * at the moment its operation runs. Moves are operations but never changes.
   */
  idArrays(before: JsonObject[], after: JsonObject[], path: Path, pointer: string): void {
    const afterIds = new Set(after.map((item) => item.id as string));
    const beforeById = new Map(before.map((item) => [item.id as string, item]));
    const working = before.map((item) => item.id as string);
    for (let index = before.length - 1; index >= 0; index--) {
      const item = before[index] as JsonObject;
      const id = item.id as string;
      if (afterIds.has(id)) continue;
      this.operations.push({ operation: { op: 'remove', path: pointerOf(pointer, index) }, at: element(path, { id }) });
      this.subtree(item, element(path, { id }), 'remove');
      working.splice(index, 1);
    }
    after.forEach((item, index) => {
      const id = item.id as string;
      const at = element(path, { id });
      const previous = beforeById.get(id);
      if (previous === undefined) {
        this.operations.push({ operation: { op: 'add', path: pointerOf(pointer, index), value: item }, at });
        this.subtree(item, at, 'add');
        working.splice(index, 0, id);
        return;
      }
      if (working[index] !== id) {
        const from = working.indexOf(id, index);
        this.operations.push({
          operation: { op: 'move', from: pointerOf(pointer, from), path: pointerOf(pointer, index) },
          at,
        });
        working.splice(from, 1);
        working.splice(index, 0, id);
      }
      this.value(previous, item, at, pointerOf(pointer, index));
    });
  }

  indexedArrays(before: Json[], after: Json[], path: Path, pointer: string): void {
    const shared = Math.min(before.length, after.length);
    for (let index = 0; index < shared; index++) {
      this.value(before[index] as Json, after[index] as Json, element(path, { index }), pointerOf(pointer, index));
    }
    for (let index = before.length - 1; index >= shared; index--) {
      const at = element(path, { index });
      this.operations.push({ operation: { op: 'remove', path: pointerOf(pointer, index) }, at });
      this.subtree(before[index] as Json, at, 'remove');
    }
    for (let index = shared; index < after.length; index++) {
      const at = element(path, { index });
      const value = after[index] as Json;
      this.operations.push({ operation: { op: 'add', path: pointerOf(pointer, index), value }, at });
      this.subtree(value, at, 'add');
    }
  }
}

/**
 * The semantic diff of SPEC §2: id-keyed arrays compared by id (reorders are not changes),
 * every leaf of an added or removed subtree reported, and RFC 6902 operations that turn
 * `before` into exactly `after`.
 */
export function diffDocuments(before: JsonObject, after: JsonObject): Diff {
  const differ = new Differ('by-id');
  differ.value(before, after, [], '');
  return { leaves: differ.leaves, operations: differ.operations };
}

/**
 * Looks inside a change whose values are arrays that are not id-keyed, comparing elements by
 * position. The card still reports the array as one leaf; the classifier uses these inner
 * leaves so that wrapping a dangerous edit in a list with duplicate ids cannot hide it.
 */
export function innerLeaves(change: Leaf): Leaf[] {
  const differ = new Differ('by-index');
  if (change.before !== undefined && change.after !== undefined) {
    differ.value(change.before, change.after, change.path, '');
  } else if (change.before !== undefined) {
    differ.subtree(change.before, change.path, 'remove');
  } else if (change.after !== undefined) {
    differ.subtree(change.after, change.path, 'add');
  }
  return differ.leaves;
}
