import { diffDocuments } from './diff.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { formatPath, type Path, type Segment } from './path.js';

export type RollbackPlan = { kind: 'conflict'; paths: string[] } | { kind: 'document'; document: JsonObject };

function sameSegment(a: Segment, b: Segment): boolean {
  return a.key === b.key && a.id === b.id && a.index === b.index;
}

/** One path lies on the other's branch: equal, or one is inside the other. */
export function overlaps(a: Path, b: Path): boolean {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    if (!sameSegment(a[index] as Segment, b[index] as Segment)) return false;
  }
  return true;
}

/** The array an element segment lives in, or the object a key segment lives in. */
function containerFor(parent: JsonObject, segment: Segment, create: boolean): Json[] | JsonObject | undefined {
  if (segment.id === undefined && segment.index === undefined) return parent;
  const array = parent[segment.key];
  if (Array.isArray(array)) return array;
  if (!create) return undefined;
  const created: Json[] = [];
  parent[segment.key] = created;
  return created;
}

function positionIn(array: Json[], segment: Segment): number {
  if (segment.index !== undefined) return segment.index;
  return array.findIndex((item) => isObject(item) && item.id === segment.id);
}

function descend(document: JsonObject, path: Path, create: boolean): JsonObject | undefined {
  let current: JsonObject = document;
  for (const segment of path) {
    const container = containerFor(current, segment, create);
    if (container === undefined) return undefined;
    let next: Json | undefined;
    if (Array.isArray(container)) {
      const index = positionIn(container, segment);
      next = index >= 0 ? container[index] : undefined;
      if (next === undefined && create) {
        next = segment.id === undefined ? {} : { id: segment.id };
        container.push(next);
      }
    } else {
      next = container[segment.key];
      if (next === undefined && create) {
        next = {};
        container[segment.key] = next;
      }
    }
    if (!isObject(next)) return undefined;
    current = next;
  }
  return current;
}

/** Sets the value at a semantic path: id-keyed elements are found by id (appended when absent). */
function setAt(document: JsonObject, path: Path, value: Json): void {
  const last = path[path.length - 1] as Segment;
  const parent = descend(document, path.slice(0, -1), true) as JsonObject;
  const container = containerFor(parent, last, true) as Json[] | JsonObject;
  if (!Array.isArray(container)) {
    container[last.key] = value;
    return;
  }
  const index = positionIn(container, last);
  if (index >= 0 && index < container.length) container[index] = value;
  else container.push(value);
}

function removeAt(document: JsonObject, path: Path): void {
  const last = path[path.length - 1] as Segment;
  const parent = descend(document, path.slice(0, -1), false);
  if (!parent) return;
  const container = containerFor(parent, last, false);
  if (container === undefined) return;
  if (!Array.isArray(container)) {
    delete container[last.key];
    return;
  }
  const index = positionIn(container, last);
  if (index >= 0) container.splice(index, 1);
}

/**
 * The document that undoes `base → target` on top of `current`. The undo is applied by
 * semantic path (id-keyed elements by id), so unrelated later changes — including other
 * elements added to the same list — are kept. If a later change touched any path the undo
 * would touch, there is no safe inverse and the overlapping paths are reported instead.
 */
export function planRollback(base: JsonObject, target: JsonObject, current: JsonObject): RollbackPlan {
  const undo = diffDocuments(target, base);
  const later = diffDocuments(target, current).leaves;
  const conflicts = new Set<string>();
  for (const change of later) {
    if (undo.leaves.some((leaf) => overlaps(leaf.path, change.path))) conflicts.add(formatPath(change.path));
  }
  if (conflicts.size > 0) return { kind: 'conflict', paths: [...conflicts] };
  const document = structuredClone(current);
  for (const { operation, at } of undo.operations) {
    if (operation.op === 'add' || operation.op === 'replace') setAt(document, at, structuredClone(operation.value));
    else if (operation.op === 'remove') removeAt(document, at);
  }
  return { kind: 'document', document };
}
