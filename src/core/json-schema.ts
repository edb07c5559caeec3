import { isObject, type JsonObject } from './json.js';

function walk(node: unknown, visit: (node: JsonObject, pointer: string) => void, pointer = ''): void {
  if (Array.isArray(node)) {
    node.forEach((item, index) => {
      walk(item, visit, `${pointer}/${index}`);
    });
    return;
  }
  if (!isObject(node)) return;
  visit(node, pointer);
  for (const [key, value] of Object.entries(node)) walk(value, visit, `${pointer}/${key}`);
}

/**
 * Some generated schemas (OpenClaw's among them) embed plugin schemas that carry their own
 * `$defs` and refer to them as `#/$defs/x`, which per JSON Schema resolves against the root.
 * Giving each such embedded schema its own `$id` makes those references resolve where their
 * authors meant them to, without touching schemas that are already well-formed.
 */
export function anchorEmbeddedDefinitions(schema: JsonObject): JsonObject {
  const copy = structuredClone(schema);
  const rootDefinitions = new Set(Object.keys((copy.$defs as JsonObject | undefined) ?? {}));
  walk(copy, (node, pointer) => {
    if (pointer === '' || node.$id !== undefined || !isObject(node.$defs)) return;
    const local = Object.keys(node.$defs);
    let needsAnchor = false;
    walk(node, (inner) => {
      const reference = inner.$ref;
      if (typeof reference !== 'string' || !reference.startsWith('#/$defs/')) return;
      const name = reference.slice('#/$defs/'.length).split('/')[0] as string;
      if (local.includes(name) && !rootDefinitions.has(name)) needsAnchor = true;
    });
    if (needsAnchor) node.$id = `urn:countersign:embedded${pointer.replace(/[^A-Za-z0-9/_-]/g, '_')}`;
  });
  return copy;
}

/** Every `format` keyword's value, so unknown ones can be accepted explicitly instead of warned about. */
export function formatsUsed(schema: JsonObject): Set<string> {
  const formats = new Set<string>();
  walk(schema, (node) => {
    if (typeof node.format === 'string') formats.add(node.format);
  });
  return formats;
}
