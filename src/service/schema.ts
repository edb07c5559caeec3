import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { JsonObject } from '../core/json.js';
import { anchorEmbeddedDefinitions, formatsUsed } from '../core/json-schema.js';
import { asOpenClawValidates } from '../core/openclaw.js';
import type { DocumentValidator } from '../core/schema-issues.js';

// ajv is loaded only when a target has a schema: most installations never pay its start-up cost.
const require = createRequire(import.meta.url);
type AjvModule = typeof import('ajv');
type AddFormats = typeof import('ajv-formats').default;

/**
 * Compiles a target's JSON Schema once at start-up (OpenClaw's is 2.4 MB). Validation runs on a
 * copy with the schema's defaults filled in, as OpenClaw itself validates, so a field that is
 * "required" but has a default does not fail a document that leaves it out.
 */
export function loadSchemaValidator(file: string): DocumentValidator {
  const stats = statSync(file);
  const key = `${file}:${stats.size}:${stats.mtimeMs}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const validator = compileValidator(file);
  compiled.set(key, validator);
  return validator;
}

/** Compiled validators by file identity: a process that opens several installations compiles each schema once. */
const compiled = new Map<string, DocumentValidator>();

function compileValidator(file: string): DocumentValidator {
  const schema = anchorEmbeddedDefinitions(JSON.parse(readFileSync(file, 'utf8')) as JsonObject);
  const { Ajv } = require('ajv') as AjvModule;
  const addFormats = (require('ajv-formats') as { default: AddFormats }).default;
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, useDefaults: true, logger: false });
  addFormats(ajv);
  // A format ajv does not know (OpenClaw uses "starts_with") is accepted rather than failing the schema.
  for (const format of formatsUsed(schema)) if (!ajv.formats[format]) ajv.addFormat(format, true);
  const validate = ajv.compile(schema);
  // ajv compiles referenced subschemas on first use; pay that at start-up, not on the first proposal.
  validate({});
  return (document) => {
    const candidate = structuredClone(asOpenClawValidates(document as JsonObject));
    if (validate(candidate)) return [];
    return (validate.errors ?? []).slice(0, 50).map((error) => ({
      path: error.instancePath === '' ? '/' : error.instancePath,
      message: error.message ?? 'is not valid',
    }));
  };
}
