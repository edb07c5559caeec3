import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { DocumentValidator } from '../core/schema-issues.js';

// ajv-formats ships CommonJS with `exports.default`; under NodeNext the default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** Compiles a target's JSON Schema once; OpenClaw's is 2.4 MB, so never per request. */
export function loadSchemaValidator(file: string): DocumentValidator {
  const schema = JSON.parse(readFileSync(file, 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (document) => {
    if (validate(document)) return [];
    return (validate.errors ?? []).slice(0, 50).map((error) => ({
      path: error.instancePath === '' ? '/' : error.instancePath,
      message: error.message ?? 'is not valid',
    }));
  };
}
