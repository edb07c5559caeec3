/** One reason a document fails its target's JSON Schema, as reported in 422 `invalid_config`. */
export type SchemaIssue = { path: string; message: string };

/** Checks a candidate document; an empty list means it is acceptable. */
export type DocumentValidator = (document: unknown) => SchemaIssue[];

/** At most this many issues are reported: a wholly wrong document must not make a megabyte 422. */
export const MAX_SCHEMA_ISSUES = 50;

/** One error as the validator reports it (@cfworker/json-schema's output unit). */
export type ValidatorError = { instanceLocation: string; keyword: string; keywordLocation: string; error: string };

/**
 * Keywords whose error only says "a subschema below had errors": the errors below are the ones
 * worth showing, so these are left out. `additionalProperties` is kept (it names the unknown key
 * at the object that refuses it) and the `false` schema error it wraps is dropped instead.
 */
const WRAPPERS = new Set(['properties', 'patternProperties', '$ref', 'items', 'additionalItems', 'allOf', 'if']);

/** `#/gateway/port` (URI-encoded JSON Pointer) → `/gateway/port`; the root is `/`. */
function pointer(instanceLocation: string): string {
  const path = decodeURIComponent(instanceLocation.replace(/^#/, ''));
  return path === '' ? '/' : path;
}

function parent(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/** The messages ajv gave (and 422 responses have carried) for the common keywords; others keep the validator's text. */
function message(error: ValidatorError): string {
  const quoted = /"([^"]*)"/.exec(error.error)?.[1];
  switch (error.keyword) {
    case 'type': {
      const expected = /Expected (.*)\.$/.exec(error.error)?.[1]?.replace(/"/g, '').replace(/, /g, ',');
      return expected ? `must be ${expected}` : error.error;
    }
    case 'enum':
      return 'must be equal to one of the allowed values';
    case 'const':
      return 'must be equal to constant';
    case 'required':
      return quoted === undefined ? error.error : `must have required property '${quoted}'`;
    case 'additionalProperties':
      return quoted === undefined
        ? 'must NOT have additional properties'
        : `must NOT have additional properties ("${quoted}" is not allowed)`;
    case 'anyOf':
      return 'must match a schema in anyOf';
    case 'oneOf':
      return 'must match exactly one schema in oneOf';
    default:
      return error.error;
  }
}

/**
 * The validator's errors as `invalid_config` issues: the specific ones, in document order,
 * deduplicated. An unknown key at an object with `additionalProperties: false` is reported at
 * the object, naming the key (the validator reports it as a wrapper followed by the `false`
 * schema's error at the key); an `additionalProperties` error with any other follower only
 * wraps the real errors of a value that has a schema, and is left out.
 */
export function schemaIssues(errors: readonly ValidatorError[]): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  const add = (path: string, text: string): boolean => {
    const id = `${path}\u0000${text}`;
    if (!seen.has(id)) {
      seen.add(id);
      issues.push({ path, message: text });
    }
    return issues.length === MAX_SCHEMA_ISSUES;
  };
  for (let index = 0; index < errors.length; index++) {
    const error = errors[index] as ValidatorError;
    const path = pointer(error.instanceLocation);
    if (error.keyword === 'additionalProperties') {
      const next = errors[index + 1];
      if (next?.keyword !== 'false' || parent(pointer(next.instanceLocation)) !== path) continue;
      index++;
      if (add(path, message(error))) break;
      continue;
    }
    if (WRAPPERS.has(error.keyword)) continue;
    if (add(path, error.keyword === 'false' ? 'is not allowed here' : message(error))) break;
  }
  return issues;
}
