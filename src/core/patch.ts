import fastJsonPatch from 'fast-json-patch';
import { CountersignError, fail } from './errors.js';
import { FORBIDDEN_KEYS, isIdKeyed, isObject, type Json, type JsonObject } from './json.js';
import type { Operation } from './operations.js';
import { child, element, formatPath, type Path } from './path.js';

/** The three ways a proposal can describe its change (SPEC §4, Propose). */
export type PatchForm =
  | { kind: 'merge'; patch: Json; replacePaths: readonly string[] }
  | { kind: 'operations'; operations: readonly Operation[] }
  | { kind: 'replace'; document: Json };

function mergeValue(target: Json | undefined, patch: Json, path: Path, replacePaths: ReadonlySet<string>): Json {
  if (Array.isArray(patch) && Array.isArray(target) && !replacePaths.has(formatPath(path))) {
    if (isIdKeyed(patch) && isIdKeyed(target)) return mergeById(target, patch, path, replacePaths);
  }
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergeValue(result[key], value, child(path, key), replacePaths);
  }
  return result;
}

/** Same id: merged recursively; new id: appended; absent id: kept — as OpenClaw's config.patch does. */
function mergeById(target: JsonObject[], patch: JsonObject[], path: Path, replacePaths: ReadonlySet<string>): Json[] {
  const result: Json[] = [...target];
  const indexById = new Map(target.map((item, index) => [item.id as string, index]));
  for (const item of patch) {
    const id = item.id as string;
    const index = indexById.get(id);
    const at = element(path, { id });
    if (index === undefined) result.push(mergeValue(undefined, item, at, replacePaths));
    else result[index] = mergeValue(result[index], item, at, replacePaths);
  }
  return result;
}

/** RFC 7396 merge patch, with id-keyed arrays merged by id unless `replacePaths` names them. */
export function applyMergePatch(document: JsonObject, patch: Json, replacePaths: readonly string[]): Json {
  return mergeValue(document, patch, [], new Set(replacePaths));
}

function checkPointer(pointer: string, index: number): void {
  for (const token of pointer.split('/').slice(1)) {
    const key = fastJsonPatch.unescapePathComponent(token);
    if (FORBIDDEN_KEYS.has(key)) {
      fail('forbidden_key', `Operation ${index} uses the forbidden key "${key}".`, { key, pointer });
    }
  }
}

/** Looks at the document as it is just before an operation runs; may refuse it by throwing. */
export type OperationCheck = (operation: Operation, index: number, document: Json) => void;

/** RFC 6902 via fast-json-patch, on a copy; a failed `test` or unresolvable path is `invalid_patch`. */
export function applyOperations(document: JsonObject, operations: readonly Operation[], check?: OperationCheck): Json {
  operations.forEach((operation, index) => {
    checkPointer(operation.path, index);
    if ('from' in operation) checkPointer(operation.from, index);
  });
  // The operations are copied too: fast-json-patch inserts an `add`/`replace` value by
  // reference, so a later operation writing inside it would edit the caller's operations
  // (the proposal as submitted) and the result would share objects with them.
  const copies = structuredClone(operations) as Operation[];
  let working: Json = structuredClone(document);
  let index = 0;
  try {
    // One operation at a time (as applyPatch does), so `check` sees each intermediate document.
    for (; index < copies.length; index++) {
      const operation = copies[index] as Operation;
      check?.(operation, index, working);
      working = fastJsonPatch.applyOperation(working, operation, true, true, true, index).newDocument as Json;
    }
    return working;
  } catch (error) {
    if (error instanceof CountersignError) throw error;
    const name = (error as { name?: string }).name ?? 'error';
    const reason = name === 'TEST_OPERATION_FAILED' ? 'its test failed' : name.toLowerCase().replace(/_/g, ' ');
    fail('invalid_patch', `Operation ${index} cannot be applied: ${reason}.`, {
      operation: index,
      reason: name,
    });
  }
}

/** The document a proposal would produce; it must still be a JSON object. */
export function applyPatchForm(document: JsonObject, form: PatchForm, check?: OperationCheck): JsonObject {
  let result: Json;
  switch (form.kind) {
    case 'merge':
      // A merge patch that is not an object would replace the whole document with that value (RFC 7386).
      if (!isObject(form.patch)) {
        fail(
          'invalid_patch',
          'The patch must be a JSON object (a merge patch, RFC 7386, such as {"commands":{"mcp":true}}); to change single values by path use "operations" (RFC 6902) instead.',
        );
      }
      result = applyMergePatch(document, form.patch, form.replacePaths);
      break;
    case 'operations':
      result = applyOperations(document, form.operations, check);
      break;
    case 'replace':
      result = form.document;
      break;
  }
  if (!isObject(result)) fail('invalid_patch', 'The resulting document must be a JSON object.');
  return result;
}
