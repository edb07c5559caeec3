import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SetupError } from '../core/errors.js';
import { defaultExecDocument, parseExecDocument } from '../core/exec/document.js';
import { documentHash } from '../core/hash.js';
import { isObject } from '../core/json.js';
import type { DocumentValidator } from '../core/schema-issues.js';
import { SettingsSchema } from '../core/settings.js';
import { readDocumentText, writeDocumentAtomic } from '../store/document-file.js';
import type { Credential, NewCredential } from '../store/tokens.js';
import { appendAudit, withAudit } from './audit.js';
import { loadPolicy, openService, SETTINGS_FILE, type Service } from './context.js';
import { parseDocument, rememberDocument } from './document.js';
import { loadSchemaValidator } from './schema.js';

export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const defaultPolicyFile = join(packageRoot, 'policies', 'openclaw.json');
export const execApprovalsPolicyFile = join(packageRoot, 'policies', 'exec-approvals.json');
export const EXEC_APPROVALS_FILE = 'exec-approvals.json';
/**
 * OpenClaw's own JSON Schema for its config (`openclaw config schema` of 2026.9), attached to the
 * `openclaw` target unless init is told otherwise: a change the gateway would refuse is refused
 * here first (422 invalid_config). `countersign schema refresh --from-openclaw` replaces it with
 * the installed OpenClaw's.
 */
export const shippedOpenClawSchemaFile = join(packageRoot, 'schemas', 'openclaw-2026.9.schema.json');

export type InitOptions = {
  config?: string;
  policy?: string;
  /** A JSON Schema file; `undefined` attaches the shipped OpenClaw schema, `null` none. */
  schema?: string | null;
  /** An existing OpenClaw exec approvals file to import (SPEC §9); without one, the SPEC default. */
  execApprovals?: string;
  demoDocument: object;
};
export type Installation = {
  dataDir: string;
  configPath: string;
  execApprovalsPath: string;
  ownerToken: string;
  agentToken: string;
};

export function isInitialised(dataDir: string): boolean {
  return existsSync(join(dataDir, SETTINGS_FILE));
}

/**
 * `countersign init`: a 0700 data directory, settings naming one target `openclaw`, the
 * database, a demo document if none exists, and one owner (surface cli) and one agent token.
 */
export function initInstallation(dataDir: string, options: InitOptions): Installation {
  const root = resolve(dataDir);
  if (isInitialised(root)) throw new SetupError(`${root} is already initialised (found ${SETTINGS_FILE}).`);
  const configPath = resolve(options.config ?? join(root, 'openclaw.json'));
  const policyPath = resolve(options.policy ?? defaultPolicyFile);
  loadPolicy(policyPath);
  const schemaPath = options.schema === null ? null : resolve(options.schema ?? shippedOpenClawSchemaFile);
  const validate = schemaPath === null ? null : schemaFileValidator(schemaPath);
  // Read and check the file to import before anything is created: a bad one stops init cleanly.
  const execText = execApprovalsText(options.execApprovals);
  preparePrivateDirectory(root);
  if (!existsSync(configPath)) {
    mkdirSync(dirname(configPath), { recursive: true });
    writeDocumentAtomic(configPath, `${JSON.stringify(options.demoDocument, null, 2)}\n`);
  }
  if (validate) refuseInvalidDocument(configPath, validate, options.schema === undefined);
  const execApprovalsPath = join(root, EXEC_APPROVALS_FILE);
  writeDocumentAtomic(execApprovalsPath, execText);
  // Only what init decides is spelled out; every other setting takes the schema's default.
  const settings = SettingsSchema.parse({
    version: 1,
    targets: [
      {
        name: 'openclaw',
        path: configPath,
        policy: policyPath,
        schema: schemaPath,
      },
      { name: 'exec-approvals', kind: 'exec-approvals', path: EXEC_APPROVALS_FILE, policy: execApprovalsPolicyFile },
    ],
  });
  writeFileSync(join(root, SETTINGS_FILE), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  const service = openService(root);
  try {
    const text = readDocumentText(configPath);
    const document = parseDocument(text, configPath);
    withAudit(service, () => {
      rememberDocument(service, 'openclaw', documentHash(service.hashKey, document), text);
      const execDocument = parseDocument(execText, execApprovalsPath);
      rememberDocument(service, 'exec-approvals', documentHash(service.hashKey, execDocument), execText);
    });
    const owner = mintToken(service, { role: 'owner', name: 'owner', surface: 'cli' });
    const agent = mintToken(service, { role: 'agent', name: 'main', agentId: 'main' });
    return { dataDir: root, configPath, execApprovalsPath, ownerToken: owner.token, agentToken: agent.token };
  } finally {
    service.close();
  }
}

function schemaFileValidator(file: string): DocumentValidator {
  try {
    return loadSchemaValidator(file);
  } catch (error) {
    throw new SetupError(`JSON Schema ${file} cannot be used: ${(error as Error).message}`);
  }
}

/**
 * A document that already fails its schema would make every proposal a 422 until someone edits
 * it by hand, so init stops and says where it fails (and how to opt out of the shipped schema).
 */
function refuseInvalidDocument(configPath: string, validate: DocumentValidator, shipped: boolean): void {
  const issues = validate(parseDocument(readDocumentText(configPath), configPath));
  if (issues.length === 0) return;
  const listed = issues
    .slice(0, 5)
    .map((issue) => `  ${issue.path}: ${issue.message}`)
    .join('\n');
  throw new SetupError(
    `${configPath} does not satisfy the JSON Schema, so every change to it would be refused:\n${listed}\n` +
      (shipped
        ? 'Fix the document, pass the schema of the OpenClaw you run (`openclaw config schema > FILE`, then --schema FILE), or pass --schema none.'
        : 'Fix the document or pass another --schema (none: no schema).'),
  );
}

/** Tokens are audited when minted or revoked (never their value). */
export function mintToken(service: Service, input: NewCredential): { token: string; credential: Credential } {
  return withAudit(service, () => {
    const minted = service.tokens.create(input, service.now());
    appendAudit(service, {
      kind: 'token.created',
      details: credentialDetails(minted.credential),
    });
    return minted;
  });
}

export function revokeToken(service: Service, idOrName: string): Credential[] {
  return withAudit(service, () => {
    const revoked = service.tokens.revoke(idOrName, service.now());
    for (const credential of revoked) {
      appendAudit(service, { kind: 'token.revoked', details: credentialDetails(credential) });
    }
    return revoked;
  });
}

function credentialDetails(credential: Credential) {
  return {
    tokenId: credential.id,
    role: credential.role,
    name: credential.name,
    surface: credential.surface,
    agentId: credential.agentId,
  };
}

/**
 * The data directory holds pending documents with their secrets, so it must be 0700. A new or
 * empty directory is made so; a directory that already holds other files is used only if it is
 * already private — init never chmods a directory full of someone else's files (`--data ~`).
 */
function preparePrivateDirectory(root: string): void {
  if (!existsSync(root)) mkdirSync(root, { recursive: true, mode: 0o700 });
  const mode = statSync(root).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  if (readdirSync(root).length === 0) {
    chmodSync(root, 0o700);
    return;
  }
  throw new SetupError(
    `${root} already holds files and is readable by other users (mode ${mode.toString(8)}); use a new directory, or run \`chmod 700 ${root}\` first.`,
  );
}

/**
 * The exec approvals document init writes: an imported OpenClaw file exactly as it was (every
 * field kept), or the SPEC default. An unreadable or invalid file stops init with the reason.
 */
function execApprovalsText(file: string | undefined): string {
  if (file === undefined) return `${JSON.stringify(defaultExecDocument(), null, 2)}\n`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SetupError(`Cannot read the exec approvals file ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SetupError(`${file} is not JSON: ${(error as Error).message}`);
  }
  // `openclaw approvals get --json` prints the document under "file".
  if (isObject(value) && isObject(value.file) && value.version === undefined) {
    value = value.file;
    text = `${JSON.stringify(value, null, 2)}\n`;
  }
  const parsed = parseExecDocument(value);
  if (!parsed.ok) throw new SetupError(`${file} is not an exec approvals document: ${parsed.reason}`);
  return text.endsWith('\n') ? text : `${text}\n`;
}
