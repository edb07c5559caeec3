import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import type { Card } from '../core/card.js';
import { SetupError } from '../core/errors.js';
import { parseExecDocument } from '../core/exec/document.js';
import type { ExecRequest } from '../core/exec/request.js';
import { canonical, deriveKey, type HashKey, sha256 } from '../core/hash.js';
import { type CompiledPolicy, compilePolicy, PolicyError } from '../core/policy.js';
import type { DocumentValidator, SchemaIssue } from '../core/schema-issues.js';
import { type ReloadHook, type Settings, SettingsSchema } from '../core/settings.js';
import { AuditLog } from '../store/audit-log.js';
import { type Db, openDatabase } from '../store/database.js';
import { adoptLegacyDocuments } from '../store/documents.js';
import { Durability } from '../store/durability.js';
import { ExecGrantStore, ExecRequestStore } from '../store/exec-requests.js';
import { loadInstallationKey } from '../store/installation-key.js';
import { ProposalStore } from '../store/proposals.js';
import { TokenStore } from '../store/tokens.js';
import type { FreezeEvent } from './freeze.js';
import { loadSchemaValidator } from './schema.js';

export const SETTINGS_FILE = 'countersign.json';
export const DATABASE_FILE = 'countersign.db';

export type TargetRuntime = {
  name: string;
  kind: 'document' | 'exec-approvals';
  path: string;
  policy: CompiledPolicy;
  policyHash: string;
  validate: DocumentValidator | null;
  reload: ReloadHook | null;
};

export type ServiceEvents = {
  'proposal.created': [Card];
  'proposal.resolved': [Card];
  'change.applied': [{ target: string; hash: string; proposal: Card }];
  /** An exec request now waits for an owner (SPEC §9); secret env values are "[redacted]". */
  'exec.requested': [ExecRequest];
  /** An exec request left `pending`: an owner, the fallback or the agent's withdrawal decided it. */
  'exec.resolved': [ExecRequest];
  /** An owner froze or unfroze agents (SPEC §11), here or in another process on the same data directory. */
  'freeze.applied': [FreezeEvent];
  'freeze.lifted': [FreezeEvent];
};

/** Everything a use case needs: stores, compiled policies, a clock and a logger. */
export type Service = {
  dataDir: string;
  settings: Settings;
  db: Db;
  /** Group commit (store/durability.ts): off unless the HTTP server turns it on. */
  durability: Durability;
  tokens: TokenStore;
  proposals: ProposalStore;
  /** Exec requests and standing `allow-for` grants (SPEC §9). */
  exec: ExecRequestStore;
  execGrants: ExecGrantStore;
  audit: AuditLog;
  targets: Map<string, TargetRuntime>;
  defaultTarget: string;
  /** Keys every base/patch/target hash (SPEC §1); derived from the installation key. */
  hashKey: HashKey;
  /** Keys the audit's value fingerprints (SPEC §5). */
  fingerprintKey: HashKey;
  now: () => Date;
  log: Logger;
  events: EventEmitter<ServiceEvents>;
  close: () => void;
};

export function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SetupError(`Cannot read ${what} ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SetupError(`${what} ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

export function loadSettings(dataDir: string): Settings {
  const file = join(dataDir, SETTINGS_FILE);
  const parsed = SettingsSchema.safeParse(readJson(file, 'settings file'));
  if (!parsed.success) throw new SetupError(`Settings file ${file} is invalid:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** A policy is checked at start-up: a bad one stops the server with the field it got wrong. */
export function loadPolicy(file: string): { policy: CompiledPolicy; policyHash: string } {
  const raw = readJson(file, 'policy');
  try {
    // The policy is no secret: a plain digest lets anyone check which policy decided.
    return { policy: compilePolicy(raw), policyHash: sha256(canonical(raw)) };
  } catch (error) {
    if (error instanceof PolicyError) throw new SetupError(`Policy ${file} is invalid:\n${error.message}`);
    throw error;
  }
}

/** The exec approvals document must stay one OpenClaw (and countersign) can read: a change that breaks it is 422. */
function execDocumentValidator(document: unknown): SchemaIssue[] {
  const parsed = parseExecDocument(document);
  return parsed.ok ? [] : [{ path: '', message: parsed.reason }];
}

function chainValidators(first: DocumentValidator | null, second: DocumentValidator): DocumentValidator {
  return (document) => [...(first?.(document) ?? []), ...second(document)];
}

export type OpenOptions = { now?: () => Date; logger?: Logger; readonlyDatabase?: boolean };

export function openService(dataDir: string, options: OpenOptions = {}): Service {
  const root = resolve(dataDir);
  const settings = loadSettings(root);
  const inData = (file: string) => (isAbsolute(file) ? file : join(root, file));
  const targets = new Map<string, TargetRuntime>();
  for (const target of settings.targets) {
    const { policy, policyHash } = loadPolicy(inData(target.policy));
    let validate: DocumentValidator | null = null;
    if (target.schema) {
      try {
        validate = loadSchemaValidator(inData(target.schema));
      } catch (error) {
        throw new SetupError(
          `JSON Schema ${inData(target.schema)} for target "${target.name}" cannot be used: ${(error as Error).message}`,
        );
      }
    }
    if (target.kind === 'exec-approvals') validate = chainValidators(validate, execDocumentValidator);
    targets.set(target.name, {
      name: target.name,
      kind: target.kind,
      path: inData(target.path),
      policy,
      policyHash,
      validate,
      reload: target.reload,
    });
  }
  const db = openDatabase(join(root, DATABASE_FILE), { readonly: options.readonlyDatabase ?? false });
  // Migration 010's code half (store/documents.ts): a no-op once done.
  if (!options.readonlyDatabase) adoptLegacyDocuments(db);
  const durability = new Durability(db, join(root, DATABASE_FILE));
  const secret = loadInstallationKey(root);
  return {
    dataDir: root,
    settings,
    db,
    durability,
    tokens: new TokenStore(db),
    proposals: new ProposalStore(db),
    exec: new ExecRequestStore(db),
    execGrants: new ExecGrantStore(db),
    audit: new AuditLog(db),
    targets,
    defaultTarget: (settings.targets[0] as { name: string }).name,
    hashKey: deriveKey(secret, 'document-hash'),
    fingerprintKey: deriveKey(secret, 'fingerprint'),
    now: options.now ?? (() => new Date()),
    log: options.logger ?? pino({ level: 'silent' }),
    events: new EventEmitter<ServiceEvents>(),
    close: () => {
      try {
        durability.close();
      } finally {
        db.close();
      }
    },
  };
}
