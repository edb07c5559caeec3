import { z } from 'zod';
import {
  AskFallbackSchema,
  AskSchema,
  type EffectiveExecPolicy,
  SecuritySchema,
  type TotpScope,
  TotpScopeSchema,
} from './decide.js';

/**
 * OpenClaw's exec approvals document (SPEC §9), accepted unchanged.
 *
 * Facts copied from OpenClaw 2026.9.6 (`docs/tools/exec-approvals.md` and
 * `dist/exec-approvals-config-*.mjs`, `dist/exec-approvals-authorization.kernel-*.mjs`), since
 * OpenClaw is not available to CI:
 * - Every object is a zod `looseObject`: unknown fields survive, so we can write the file back.
 * - An allowlist entry is a non-empty (trimmed) string, which means `{ pattern }`, or an object
 *   with a non-empty `pattern`; `lastUsedAt` is a finite number. Legacy files may hold `null`
 *   in `lastUsedAt` / `lastUsedCommand`, which OpenClaw's doctor treats as absent.
 * - `agents` must not have a `__proto__` key. `agents.default` is merged into `agents.main`
 *   (main's fields win, allowlists are concatenated main first, deduplicated by lower-cased
 *   pattern + argPattern). `agents["*"]` applies to every agent: its fields sit between the
 *   agent's and `defaults`, its allowlist comes before the agent's.
 * - Built-in defaults when a field is absent everywhere: `security: "full"`, `ask: "off"`,
 *   `askFallback: "deny"`, `autoAllowSkills: false` (`resolveExecApprovalsFromFilePrepared`), and
 *   `tools.exec.strictInlineEval` defaults to `false`. The approval timeout is 30 minutes
 *   (`DEFAULT_EXEC_APPROVAL_TIMEOUT_MS = 18e5`).
 *
 * Version 2 is countersign's: `defaults.strictInlineEval`, `defaults.timeoutSeconds`,
 * `defaults.maxAllowForSeconds` and a top-level `totp`. Those fields are validated and honoured
 * in a version-1 file too: ignoring a `totp` block someone wrote by hand would silently weaken
 * the policy they meant, and a malformed one must fail closed like any other field.
 */

/** OpenClaw's built-in values for fields no level of the document sets. */
export const OPENCLAW_DEFAULTS = {
  security: 'full',
  ask: 'off',
  askFallback: 'deny',
  autoAllowSkills: false,
  strictInlineEval: false,
  timeoutSeconds: 1800,
} as const;

/** countersign's defaults for the version-2 fields. */
export const COUNTERSIGN_DEFAULTS = {
  maxAllowForSeconds: 3600,
  totpScope: 'destructive' as TotpScope,
  totpCooldownSeconds: 300,
} as const;

const nonEmpty = (value: string) => value.trim().length > 0;

const PolicyFields = {
  security: SecuritySchema.optional(),
  ask: AskSchema.optional(),
  askFallback: AskFallbackSchema.optional(),
  autoAllowSkills: z.boolean().optional(),
};

export const AllowlistEntryObjectSchema = z.looseObject({
  pattern: z.string().refine(nonEmpty, 'expected a non-empty pattern'),
  id: z.string().optional(),
  argPattern: z.string().optional(),
  source: z.string().optional(),
  // Legacy, plaintext: OpenClaw discards it on load; we keep it for the write-back but never read it.
  commandText: z.string().optional(),
  lastUsedAt: z.number().finite().nullable().optional(),
  lastUsedCommand: z.string().nullable().optional(),
  lastResolvedPath: z.string().optional(),
});
export type AllowlistEntryObject = z.infer<typeof AllowlistEntryObjectSchema>;

export const AllowlistEntrySchema = z.union([
  z.string().refine(nonEmpty, 'expected a non-empty pattern'),
  AllowlistEntryObjectSchema,
]);
export type AllowlistEntryInput = z.infer<typeof AllowlistEntrySchema>;

const McpToolGrantSchema = z.looseObject({
  server: z.string().refine(nonEmpty, 'expected a non-empty string'),
  tool: z.string().refine(nonEmpty, 'expected a non-empty string'),
  source: z.literal('allow-always'),
  addedAt: z.number().finite().nonnegative(),
  lastUsedAt: z.number().finite().nonnegative().optional(),
});

export const AgentSchema = z.looseObject({
  ...PolicyFields,
  allowlist: z.array(AllowlistEntrySchema).optional(),
  mcpTools: z.array(McpToolGrantSchema).optional(),
});
export type ExecAgent = z.infer<typeof AgentSchema>;

export const DefaultsSchema = z.looseObject({
  ...PolicyFields,
  strictInlineEval: z.boolean().optional(),
  timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
  maxAllowForSeconds: z.number().int().min(1).max(604_800).optional(),
});

/** Ours, so strict: a misspelt `scope` must not leave TOTP quietly at a narrower default. */
export const TotpSchema = z
  .object({
    enabled: z.boolean(),
    scope: TotpScopeSchema.optional(),
    cooldownSeconds: z.number().int().min(0).max(86_400).optional(),
  })
  .strict();

// Checked on the input: zod's record output has already dropped a `__proto__` key.
const AgentsSchema = z
  .unknown()
  .refine(
    (agents) => typeof agents !== 'object' || agents === null || !Object.hasOwn(agents, '__proto__'),
    'an agent may not be called "__proto__"',
  )
  .pipe(z.record(z.string(), AgentSchema));

export const ExecDocumentSchema = z.looseObject({
  version: z.union([z.literal(1), z.literal(2)]),
  socket: z.looseObject({ path: z.string().optional(), token: z.string().optional() }).optional(),
  defaults: DefaultsSchema.optional(),
  agents: AgentsSchema.optional(),
  totp: TotpSchema.optional(),
});
export type ExecDocument = z.infer<typeof ExecDocumentSchema>;

export type ParsedExecDocument = { ok: true; document: ExecDocument } | { ok: false; reason: string };

/** `agents.main.allowlist[2].pattern` from zod's path. */
function formatIssuePath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text || 'document';
}

type Issue = z.core.$ZodIssue;

/** For an allowlist entry neither a string nor a valid object, the object branch says what is wrong. */
function deepestIssue(issue: Issue): { path: PropertyKey[]; message: string } {
  if (issue.code === 'invalid_union') {
    const branches = issue.errors.map((branch) => branch[0]).filter((inner): inner is Issue => inner !== undefined);
    const objectBranch = branches.find((inner) => inner.path.length > 0);
    if (objectBranch) {
      const inner = deepestIssue(objectBranch);
      return { path: [...issue.path, ...inner.path], message: inner.message };
    }
    return { path: issue.path, message: 'expected a non-empty pattern string or an object with a non-empty pattern' };
  }
  return { path: issue.path, message: issue.message };
}

/**
 * Validates a document as read from disk. A malformed one must make the caller fail closed
 * (every request denied), so the reason names the bad field: `agents.main.ask: Invalid option…`.
 */
export function parseExecDocument(json: unknown): ParsedExecDocument {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, reason: 'document: expected a JSON object' };
  }
  const parsed = ExecDocumentSchema.safeParse(json);
  if (parsed.success) return { ok: true, document: parsed.data };
  const first = parsed.error.issues[0];
  if (!first) return { ok: false, reason: 'document: invalid exec approvals document' };
  const { path, message } = deepestIssue(first);
  return { ok: false, reason: `${formatIssuePath(path)}: ${message}` };
}

/** An allowlist entry as evaluation sees it: always an object, pattern trimmed, legacy `null`s gone. */
export type AllowlistEntry = {
  pattern: string;
  id?: string;
  argPattern?: string;
  source?: string;
  lastUsedAt?: number;
  lastUsedCommand?: string;
  lastResolvedPath?: string;
};

export type NormalisedAgent = {
  security?: EffectiveExecPolicy['security'];
  ask?: EffectiveExecPolicy['ask'];
  askFallback?: EffectiveExecPolicy['askFallback'];
  autoAllowSkills?: boolean;
  allowlist: AllowlistEntry[];
};

function normaliseEntry(entry: AllowlistEntryInput): AllowlistEntry {
  if (typeof entry === 'string') return { pattern: entry.trim() };
  const normalised: AllowlistEntry = { pattern: entry.pattern.trim() };
  if (entry.id !== undefined) normalised.id = entry.id;
  if (entry.argPattern !== undefined) normalised.argPattern = entry.argPattern;
  if (entry.source !== undefined) normalised.source = entry.source;
  if (typeof entry.lastUsedAt === 'number') normalised.lastUsedAt = entry.lastUsedAt;
  if (typeof entry.lastUsedCommand === 'string') normalised.lastUsedCommand = entry.lastUsedCommand;
  if (entry.lastResolvedPath !== undefined) normalised.lastResolvedPath = entry.lastResolvedPath;
  return normalised;
}

function normaliseAgent(agent: ExecAgent): NormalisedAgent {
  const normalised: NormalisedAgent = { allowlist: (agent.allowlist ?? []).map(normaliseEntry) };
  if (agent.security !== undefined) normalised.security = agent.security;
  if (agent.ask !== undefined) normalised.ask = agent.ask;
  if (agent.askFallback !== undefined) normalised.askFallback = agent.askFallback;
  if (agent.autoAllowSkills !== undefined) normalised.autoAllowSkills = agent.autoAllowSkills;
  return normalised;
}

/** OpenClaw's `mergeLegacyAgent`: main's fields win; allowlists concatenate, main first, without duplicates. */
function mergeLegacy(main: NormalisedAgent, legacy: NormalisedAgent): NormalisedAgent {
  const seen = new Set<string>();
  const allowlist: AllowlistEntry[] = [];
  for (const entry of [...main.allowlist, ...legacy.allowlist]) {
    const key = `${entry.pattern.toLowerCase()}\u0000${entry.argPattern?.trim() ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    allowlist.push(entry);
  }
  const merged: NormalisedAgent = { ...legacy, ...main, allowlist };
  for (const field of ['security', 'ask', 'askFallback', 'autoAllowSkills'] as const) {
    const value = main[field] ?? legacy[field];
    if (value !== undefined) (merged as Record<string, unknown>)[field] = value;
  }
  return merged;
}

/**
 * The agents as evaluation sees them: legacy `agents.default` merged into `main`, bare-string
 * entries as `{ pattern }`. A new structure: the parsed document stays untouched for write-back.
 */
export function normaliseAgents(document: ExecDocument): Map<string, NormalisedAgent> {
  const agents = new Map<string, NormalisedAgent>();
  for (const [id, agent] of Object.entries(document.agents ?? {})) {
    if (id !== 'default') agents.set(id, normaliseAgent(agent));
  }
  const legacy = document.agents?.default;
  if (legacy !== undefined) {
    const main = agents.get('main');
    const normalisedLegacy = normaliseAgent(legacy);
    agents.set('main', main ? mergeLegacy(main, normalisedLegacy) : normalisedLegacy);
  }
  return agents;
}

export type EffectivePolicy = EffectiveExecPolicy & {
  autoAllowSkills: boolean;
  timeoutSeconds: number;
  maxAllowForSeconds: number;
  /** `agents["*"]`'s entries, then the agent's own, in document order (the order matching uses). */
  allowlist: AllowlistEntry[];
  /** Where security/ask/askFallback came from, for the audit and the owner: `agents.main.ask`, `defaults.ask`, or `built-in`. */
  sources: { security: string; ask: string; askFallback: string };
};

/** The agent's entry over `agents["*"]` over `defaults` over OpenClaw's built-in defaults. */
export function effectivePolicy(document: ExecDocument, agentId: string): EffectivePolicy {
  const agents = normaliseAgents(document);
  const agent = agents.get(agentId);
  const wildcard = agentId === '*' ? undefined : agents.get('*');
  const defaults = document.defaults ?? {};
  const pick = <K extends 'security' | 'ask' | 'askFallback'>(field: K) => {
    if (agent?.[field] !== undefined) return { value: agent[field], source: `agents.${agentId}.${field}` };
    if (wildcard?.[field] !== undefined) return { value: wildcard[field], source: `agents.*.${field}` };
    if (defaults[field] !== undefined) return { value: defaults[field], source: `defaults.${field}` };
    return { value: OPENCLAW_DEFAULTS[field], source: 'built-in' };
  };
  const security = pick('security');
  const ask = pick('ask');
  const askFallback = pick('askFallback');
  const totp = document.totp;
  return {
    security: security.value as EffectivePolicy['security'],
    ask: ask.value as EffectivePolicy['ask'],
    askFallback: askFallback.value as EffectivePolicy['askFallback'],
    autoAllowSkills:
      agent?.autoAllowSkills ??
      wildcard?.autoAllowSkills ??
      defaults.autoAllowSkills ??
      OPENCLAW_DEFAULTS.autoAllowSkills,
    strictInlineEval: defaults.strictInlineEval ?? OPENCLAW_DEFAULTS.strictInlineEval,
    timeoutSeconds: defaults.timeoutSeconds ?? OPENCLAW_DEFAULTS.timeoutSeconds,
    maxAllowForSeconds: defaults.maxAllowForSeconds ?? COUNTERSIGN_DEFAULTS.maxAllowForSeconds,
    // No `totp` block: OpenClaw has no TOTP, so an imported file asks for none until the owner adds it.
    totp: {
      enabled: totp?.enabled ?? false,
      scope: totp?.scope ?? COUNTERSIGN_DEFAULTS.totpScope,
      cooldownSeconds: totp?.cooldownSeconds ?? COUNTERSIGN_DEFAULTS.totpCooldownSeconds,
    },
    allowlist: [...(wildcard?.allowlist ?? []), ...(agent?.allowlist ?? [])],
    sources: { security: security.source, ask: ask.source, askFallback: askFallback.source },
  };
}

/** What `countersign init` writes without `--exec-approvals FILE` (SPEC §9). */
export function defaultExecDocument(): ExecDocument {
  return {
    version: 2,
    defaults: {
      security: 'allowlist',
      ask: 'on-miss',
      askFallback: 'deny',
      autoAllowSkills: false,
      strictInlineEval: true,
      timeoutSeconds: 120,
      maxAllowForSeconds: COUNTERSIGN_DEFAULTS.maxAllowForSeconds,
    },
    agents: { main: { allowlist: [] } },
    totp: { enabled: true, scope: 'destructive', cooldownSeconds: COUNTERSIGN_DEFAULTS.totpCooldownSeconds },
  };
}
