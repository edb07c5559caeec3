import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import type { Schema, SchemaDraft } from '@cfworker/json-schema';
import { SetupError } from '../core/errors.js';
import { isObject, type Json, type JsonObject } from '../core/json.js';
import { anchorEmbeddedDefinitions, defaultsFiller } from '../core/json-schema.js';
import { asOpenClawValidates } from '../core/openclaw.js';
import { type DocumentValidator, type SchemaIssue, schemaIssues } from '../core/schema-issues.js';
import { readDocumentText, writeDocumentAtomic } from '../store/document-file.js';
import { readJson, SETTINGS_FILE } from './context.js';
import { parseDocument } from './document.js';

/**
 * A target's JSON Schema, ready to check documents (OpenClaw's is 2.4 MB). The schema is
 * interpreted, not compiled: compiling OpenClaw's into closures (ajv) took 3–7 s and 450 MB at
 * start-up; walking it takes about a quarter of a second and 25 MB, and a check of a typical
 * config about a millisecond (bench/schema.ts measures the options side by side).
 * Validation runs on a copy with the schema's defaults filled in, as OpenClaw itself validates,
 * so a field that is "required" but has a default does not fail a document that leaves it out.
 */
export function loadSchemaValidator(file: string): DocumentValidator {
  const stats = statSync(file);
  const key = `${file}:${stats.size}:${stats.mtimeMs}`;
  const cached = loaded.get(key);
  if (cached) return cached;
  const validator = schemaValidator(JSON.parse(readFileSync(file, 'utf8')));
  loaded.set(key, validator);
  return validator;
}

/** Validators by file identity: a process that opens several installations reads each schema once. */
const loaded = new Map<string, DocumentValidator>();

// Loaded only when a target has a schema (about 3 MB resident): `--schema none` installations
// never pay for it.
const require = createRequire(import.meta.url);
const jsonSchema = () => require('@cfworker/json-schema') as typeof import('@cfworker/json-schema');

/** The draft a schema declares in `$schema`; draft-07 when it says none (as ajv assumed). */
export function schemaDraft(schema: JsonObject): SchemaDraft {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (declared.includes('draft-04')) return '4';
  if (declared.includes('2019-09')) return '2019-09';
  if (declared.includes('2020-12')) return '2020-12';
  return '7';
}

/**
 * Throws when `value` is not something a validator can be built from: an object schema whose
 * `$ref`s all resolve. Used at start-up and by `schema refresh` before anything is stored.
 */
export function schemaValidator(value: unknown): DocumentValidator {
  const { Validator, validate } = jsonSchema();
  if (!isObject(value)) throw new Error('a JSON Schema is a JSON object');
  const schema = anchorEmbeddedDefinitions(value);
  const draft = schemaDraft(schema);
  // Builds the lookup of every subschema by URI; an unresolvable `$ref` throws on first use, so
  // every one is looked up now, while a broken schema can still stop start-up with a reason.
  const validator = new Validator(schema as Schema, draft, false);
  const lookup = (validator as unknown as { lookup: Record<string, Schema> }).lookup;
  for (const node of Object.values(lookup)) {
    const reference = (node as { __absolute_ref__?: string }).__absolute_ref__;
    if (reference !== undefined && lookup[reference] === undefined) {
      throw new Error(`the schema refers to ${reference}, which it does not define`);
    }
  }
  const fill = defaultsFiller(
    schema,
    (subschema, candidate) => validate(candidate, subschema as Schema, draft, lookup, true).valid,
  );
  return (document) => {
    const candidate = structuredClone(asOpenClawValidates(document as JsonObject)) as Json;
    fill(candidate);
    const result = validator.validate(candidate);
    return result.valid ? [] : schemaIssues(result.errors);
  };
}

/** Where `schema refresh` keeps a target's schema, relative to the data directory. */
export function storedSchemaFile(target: string): string {
  return `${target}.schema.json`;
}

export type StoredSchema = {
  target: string;
  /** Absolute path of the stored schema file. */
  file: string;
  sha256: string;
  bytes: number;
  /** What the target's settings named before (null: no schema). */
  previous: string | null;
  /** How the target's current document fares against the new schema (it is stored either way). */
  documentIssues: SchemaIssue[];
};

/**
 * Stores `text` as `target`'s JSON Schema: checked first (JSON, an object that reads as a JSON
 * Schema, every `$ref` resolvable), then written atomically into the data directory, and the
 * target's entry in the settings file pointed at it (also atomically; nothing else in the file
 * changes). A running server keeps the validator it started with until it is restarted.
 */
export function storeTargetSchema(dataDir: string, target: string, text: string): StoredSchema {
  const root = resolve(dataDir);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SetupError(`The schema is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(value) || !looksLikeJsonSchema(value)) {
    throw new SetupError('The output is JSON but not a JSON Schema (no $schema, type or properties at the top).');
  }
  let validate: DocumentValidator;
  try {
    validate = schemaValidator(value);
  } catch (error) {
    throw new SetupError(`The schema cannot be used: ${(error as Error).message}`);
  }
  const settingsFile = join(root, SETTINGS_FILE);
  const settings = readJson(settingsFile, 'settings file');
  const entries = isObject(settings) && Array.isArray(settings.targets) ? settings.targets : [];
  const entry = entries.find((item): item is JsonObject => isObject(item) && item.name === target);
  if (!entry) throw new SetupError(`No target "${target}" in ${settingsFile}.`);
  if (entry.kind === 'exec-approvals') throw new SetupError(`Target "${target}" is the exec approvals document.`);
  const documentPath = typeof entry.path === 'string' ? entry.path : '';
  const documentFile = isAbsolute(documentPath) ? documentPath : join(root, documentPath);
  const documentIssues = validate(parseDocument(readDocumentText(documentFile), documentFile));

  const relative = storedSchemaFile(target);
  const file = join(root, relative);
  const stored = text.endsWith('\n') ? text : `${text}\n`;
  writeDocumentAtomic(file, stored);
  const previous = typeof entry.schema === 'string' ? entry.schema : null;
  if (previous !== relative) {
    entry.schema = relative;
    writeDocumentAtomic(settingsFile, `${JSON.stringify(settings, null, 2)}\n`);
  }
  return {
    target,
    file,
    sha256: createHash('sha256').update(stored).digest('hex'),
    bytes: Buffer.byteLength(stored),
    previous,
    documentIssues,
  };
}

/** The top level of anything `openclaw config schema` could mean: a draft URI, or a type / properties. */
function looksLikeJsonSchema(value: JsonObject): boolean {
  if (typeof value.$schema === 'string') return /json-schema\.org/.test(value.$schema);
  return typeof value.type === 'string' || isObject(value.properties);
}
