/**
 * Child process for bench/schema.ts: the countersign app (from dist/, no schema in its settings)
 * plus one way of validating against a JSON Schema, made ready before it listens, as `serve`
 * would. Plain JavaScript so no transpiler sits in the start-up being measured.
 *
 *   node bench/servers/schema-option.mjs OPTION DATA_DIR SCHEMA_FILE CACHE_DIR DOCUMENT_FILE
 *
 * OPTION: none | ajv-compile | ajv-standalone | ajv-lazy | cfworker. Prints
 * `countersign listening on URL`, then one JSON line with what it measured inside.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [option, data, schemaFile, cacheDir, documentFile] = process.argv.slice(2);
const dist = new URL('../../dist/', import.meta.url);
const require = createRequire(import.meta.url);
const started = performance.now();

const { openService } = await import(new URL('service/context.js', dist).href);
const { buildApp } = await import(new URL('http/app.js', dist).href);
const pino = (await import('pino')).default;

/** The options ajv ran with in countersign until issue 14 (src/service/schema.ts before it). */
function ajvInstance(extra = {}) {
  const { Ajv } = require('ajv');
  return new Ajv({ allErrors: true, strict: false, validateSchema: false, useDefaults: true, logger: false, ...extra });
}

async function anchored() {
  const { anchorEmbeddedDefinitions } = await import(new URL('core/json-schema.js', dist).href);
  return anchorEmbeddedDefinitions(JSON.parse(readFileSync(schemaFile, 'utf8')));
}

const extra = {};
let validate = null;
if (option === 'ajv-compile') {
  // Everything compiled into closures at start-up (what countersign did).
  const schema = await anchored();
  const ajv = ajvInstance();
  require('ajv-formats').default(ajv);
  ajv.addFormat('starts_with', true);
  const compiled = ajv.compile(schema);
  compiled({});
  validate = (document) => compiled(structuredClone(document));
} else if (option === 'ajv-standalone') {
  // ajv's standalone code, generated once and cached in the data directory by the schema's hash.
  // Formats are accepted unchecked here (standalone code would need ajv-formats' code wired in).
  const text = readFileSync(schemaFile, 'utf8');
  const file = join(cacheDir, `schema-${createHash('sha256').update(text).digest('hex')}.cjs`);
  extra.cached = existsSync(file);
  if (!extra.cached) {
    const generating = performance.now();
    const ajv = ajvInstance({
      code: { source: true },
      formats: { 'date-time': true, uri: true, email: true, starts_with: true },
    });
    const standaloneCode = require('ajv/dist/standalone').default;
    const code = standaloneCode(ajv, ajv.compile(await anchored()));
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(`${file}.tmp`, code);
    renameSync(`${file}.tmp`, file);
    extra.generateMs = performance.now() - generating;
    extra.codeBytes = code.length;
  }
  // Evaluated with this module's require: the generated code requires ajv's runtime, which a
  // file in the data directory could not resolve on its own.
  const module = { exports: {} };
  new Function('module', 'exports', 'require', readFileSync(file, 'utf8'))(module, module.exports, require);
  const compiled = module.exports.default ?? module.exports;
  compiled({});
  validate = (document) => compiled(structuredClone(document));
} else if (option === 'ajv-lazy') {
  // Only the top-level subschemas a document touches, each compiled on first use.
  const schema = await anchored();
  const ajv = ajvInstance();
  require('ajv-formats').default(ajv);
  ajv.addFormat('starts_with', true);
  const compiled = new Map();
  validate = (document) => {
    for (const [key, value] of Object.entries(document)) {
      const subschema = schema.properties[key];
      if (!subschema) return false;
      let check = compiled.get(key);
      if (!check) {
        check = ajv.compile(subschema);
        compiled.set(key, check);
      }
      if (!check(structuredClone(value))) return false;
    }
    return true;
  };
} else if (option === 'cfworker') {
  // What countersign ships: the schema interpreted by @cfworker/json-schema.
  const { loadSchemaValidator } = await import(new URL('service/schema.js', dist).href);
  const check = loadSchemaValidator(schemaFile);
  validate = (document) => check(document).length === 0;
} else if (option !== 'none') {
  throw new Error(`unknown option ${option}`);
}
extra.readyMs = performance.now() - started;

const service = openService(data, { logger: pino({ level: 'silent' }) });
const server = await buildApp(service, { rateLimit: false, logRequests: false });
const address = await server.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`countersign listening on ${address}\n`);
if (validate) {
  // The first check of a whole document after start-up: what the first proposal pays.
  const document = JSON.parse(readFileSync(documentFile, 'utf8'));
  const checking = performance.now();
  extra.valid = validate(document);
  extra.firstCheckMs = performance.now() - checking;
  const again = performance.now();
  for (let index = 0; index < 20; index++) validate(document);
  extra.checkMs = (performance.now() - again) / 20;
}
process.stdout.write(`${JSON.stringify(extra)}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => {
    service.close();
    process.exit(0);
  });
});
