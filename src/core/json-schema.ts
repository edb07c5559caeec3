import { isObject, type Json, type JsonObject } from './json.js';

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

/** Whether a value satisfies a subschema of the same schema (used to pick `then` or `else`). */
export type SchemaMatcher = (subschema: JsonObject, value: Json) => boolean;

/** How many `$ref`s may be followed without descending into the document: a cycle of references stops here. */
const MAX_REF_HOPS = 64;

function unescapePointerToken(token: string): string {
  return decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Fills in `default`s the way ajv's `useDefaults` does, so that a property OpenClaw marks
 * required but gives a default (e.g. `channels.discord.dmPolicy`) does not fail a document that
 * leaves it out, as OpenClaw itself applies its defaults before it validates. Like ajv: only a
 * `properties` entry's own `default` is used, missing (`undefined`) keys only, and never inside
 * `anyOf`, `oneOf`, `not` or `if`, where a default would depend on which branch is tried. The
 * walk follows the document, not the schema, so its cost grows with the document only.
 * Returns a function that fills `document` in place.
 */
export function defaultsFiller(schema: JsonObject, matches: SchemaMatcher): (document: Json) => void {
  const resources = new Map<string, JsonObject>();
  let hasDefaults = false;
  walk(schema, (node) => {
    if (typeof node.$id === 'string') resources.set(node.$id, node);
    if (node.default !== undefined) hasDefaults = true;
  });
  if (!hasDefaults) return () => {};
  const patterns = new Map<string, RegExp>();
  const pattern = (source: string): RegExp => {
    let compiled = patterns.get(source);
    if (!compiled) {
      compiled = new RegExp(source, 'u');
      patterns.set(source, compiled);
    }
    return compiled;
  };

  const resolve = (reference: string, base: JsonObject): { node: unknown; base: JsonObject } | null => {
    const hash = reference.indexOf('#');
    const resource = hash <= 0 ? base : resources.get(reference.slice(0, hash));
    if (!resource) return null;
    const fragment = hash === -1 ? '' : reference.slice(hash + 1);
    let node: unknown = resource;
    for (const token of fragment.split('/').slice(1)) {
      if (!isObject(node) && !Array.isArray(node)) return null;
      node = (node as Record<string, unknown>)[unescapePointerToken(token)];
    }
    return { node, base: resource };
  };

  const visit = (node: unknown, value: Json | undefined, base: JsonObject, hops: number): void => {
    if (!isObject(node) || value === undefined) return;
    if (typeof node.$id === 'string') base = node;
    if (typeof node.$ref === 'string' && hops < MAX_REF_HOPS) {
      const target = resolve(node.$ref, base);
      if (target) visit(target.node, value, target.base, hops + 1);
    }
    if (Array.isArray(node.allOf)) for (const branch of node.allOf) visit(branch, value, base, hops);
    if (isObject(value)) {
      const properties = isObject(node.properties) ? node.properties : {};
      for (const [key, property] of Object.entries(properties)) {
        if (isObject(property) && property.default !== undefined && value[key] === undefined) {
          value[key] = structuredClone(property.default);
        }
      }
      const patternProperties = isObject(node.patternProperties) ? Object.entries(node.patternProperties) : [];
      for (const [key, item] of Object.entries(value)) {
        let known = Object.hasOwn(properties, key);
        if (known) visit(properties[key], item, base, 0);
        for (const [source, subschema] of patternProperties) {
          if (!pattern(source).test(key)) continue;
          known = true;
          visit(subschema, item, base, 0);
        }
        if (!known) visit(node.additionalProperties, item, base, 0);
      }
    } else if (Array.isArray(value)) {
      if (Array.isArray(node.items)) {
        value.forEach((item, index) => {
          visit(
            index < (node.items as Json[]).length ? (node.items as Json[])[index] : node.additionalItems,
            item,
            base,
            0,
          );
        });
      } else {
        for (const item of value) visit(node.items, item, base, 0);
      }
    }
    if (isObject(node.if) && (node.then !== undefined || node.else !== undefined)) {
      visit(matches(node.if, value) ? node.then : node.else, value, base, hops);
    }
  };
  return (document) => visit(schema, document, schema, 0);
}
