import { z } from 'zod';
import { analyzeCommand } from './command/analyze.js';
import { environmentWarnings, overrideValueForDisplay } from './command/environment.js';
import {
  hasReference,
  isLiteralSecret,
  isLiteralSecretHeader,
  isSecretName,
  literalPart,
  looksLikeSecretValue,
  redactArgs,
  redactUrlForDisplay,
  referencedVariables,
} from './command/secrets.js';
import type { ArgWarning } from './command/types.js';
import { deepEqual, isObject, type Json, type JsonObject } from './json.js';
import type { Path } from './path.js';
import { REDACTED } from './redact.js';

/**
 * SPEC §7: what an owner must see before a program is registered as an MCP server. Pure: the
 * facts about files come from src/mcp/probe.ts as `ProbeFacts`; every judgement and every
 * sentence is made here, so the same facts always read the same way.
 */

export const mcpWarningCodes = [
  'invalid_entry',
  'executable_missing',
  'not_executable',
  'path_resolved',
  'relative_command',
  'world_writable',
  'not_pinned',
  'cwd_missing',
  'shell_interpreter',
  'inline_eval',
  'dangerous_flag',
  'unpinned_package',
  'literal_secret_env',
  'literal_secret_arg',
  'env_override',
  'insecure_url',
  // Smoke test only.
  'remote_not_probed',
  'smoke_test_failed',
  'annotation_conflict',
  'tools_truncated',
] as const;
export const McpWarningCodeSchema = z.enum(mcpWarningCodes);
export type McpWarningCode = z.infer<typeof McpWarningCodeSchema>;

export const McpWarningSchema = z.object({ code: McpWarningCodeSchema, message: z.string() });
export type McpWarning = z.infer<typeof McpWarningSchema>;

export const McpTransportSchema = z.enum(['stdio', 'sse', 'streamable-http']);
export type McpTransport = z.infer<typeof McpTransportSchema>;

export const McpActionSchema = z.enum(['add', 'change', 'remove']);
export type McpAction = z.infer<typeof McpActionSchema>;

/**
 * Where a server is defined: `mcp.servers` (started by the gateway) or `nodeHost.mcp.servers`
 * (started by the node host that reads this same config, on this machine, so the same probe
 * and pin apply). A review without `location` is a gateway server, as before there were two.
 */
export const McpLocationSchema = z.enum(['gateway', 'nodeHost']);
export type McpLocation = z.infer<typeof McpLocationSchema>;

const locationPaths: Record<McpLocation, readonly string[]> = {
  gateway: ['mcp', 'servers'],
  nodeHost: ['nodeHost', 'mcp', 'servers'],
};
export const mcpLocations = Object.keys(locationPaths) as McpLocation[];

/** The path of a server's entry (`serverPath('nodeHost', 'fs')` is `nodeHost.mcp.servers.fs`). */
export function serverPath(location: McpLocation, server: string): Path {
  return [...locationPaths[location], server].map((key) => ({ key }));
}

/** The servers at `location` that paths (`a.b` or parsed) lead into. */
export function serversUnder(paths: readonly Path[], location: McpLocation): Set<string> {
  const root = locationPaths[location];
  const names = new Set<string>();
  for (const path of paths) {
    const server = path[root.length];
    if (server === undefined || server.id !== undefined || server.index !== undefined) continue;
    if (root.every((key, index) => isPlainKey(path[index], key))) names.add(server.key);
  }
  return names;
}

function isPlainKey(segment: Path[number] | undefined, key: string): boolean {
  return segment !== undefined && segment.key === key && segment.id === undefined && segment.index === undefined;
}

/** How a server is named to an owner: `fs`, or `nodeHost:fs` for the node host's. */
export function serverLabel(review: { server: string; location?: McpLocation | undefined }): string {
  return review.location === 'nodeHost' ? `nodeHost:${review.server}` : review.server;
}

/**
 * An env variable or header: its name, and whether its value comes from a `${VAR}` reference.
 * Only for a value the proposer wrote (never one kept from the current document, which the
 * proposer may not read) the card says more: `reads`, the variables its references read (an
 * owner must see a server asking for `${OPENAI_API_KEY}`), and for an env variable that changes
 * how the program loads code (`env_override`: NODE_OPTIONS, LD_PRELOAD, PATH, …) its `value`,
 * with anything secret-looking in it redacted. Literal secrets are never shown.
 */
export const NamedValueSchema = z.object({
  name: z.string(),
  reference: z.boolean(),
  value: z.string().optional(),
  reads: z.string().optional(),
  /**
   * The value is the current document's, kept as it was: a secret the review never sees, so it
   * cannot say whether it is a reference or a literal (`reference` is then false).
   */
  kept: z.boolean().optional(),
});
export type NamedValue = z.infer<typeof NamedValueSchema>;

export const ProvenanceSchema = z.object({
  ecosystem: z.enum(['npm', 'pypi']),
  via: z.enum(['npx', 'npm exec', 'pnpm dlx', 'yarn dlx', 'bunx', 'uvx', 'pipx run', 'node_modules']),
  package: z.string(),
  version: z.string().nullable(),
  pinned: z.boolean(),
  /** For `node_modules`: the package.json the name and version were read from. */
  packageJson: z.string().nullable(),
});
export type Provenance = z.infer<typeof ProvenanceSchema>;

/** The file an interpreter runs (`node server.js`): pinned like the executable, since it is the real program. */
export const ScriptSchema = z.object({
  path: z.string(),
  resolvedPath: z.string().nullable(),
  exists: z.boolean(),
  sha256: z.string().nullable(),
});
export type Script = z.infer<typeof ScriptSchema>;

export const SmokeToolSchema = z.object({
  name: z.string(),
  description: z.string(),
  destructive: z.boolean(),
  readOnly: z.boolean(),
});
export type SmokeTool = z.infer<typeof SmokeToolSchema>;

export const SmokeTestSchema = z.object({
  at: z.string(),
  by: z.string(),
  tools: z.array(SmokeToolSchema),
  warnings: z.array(McpWarningSchema),
});
export type SmokeTest = z.infer<typeof SmokeTestSchema>;

export const McpReviewSchema = z.object({
  server: z.string(),
  /** Absent for `mcp.servers`; `"nodeHost"` for `nodeHost.mcp.servers`. */
  location: McpLocationSchema.optional(),
  action: McpActionSchema,
  transport: McpTransportSchema,
  command: z.string().nullable(),
  args: z.array(z.string()),
  cwd: z.string().nullable(),
  url: z.string().nullable(),
  env: z.array(NamedValueSchema),
  headers: z.array(NamedValueSchema),
  resolvedPath: z.string().nullable(),
  absolute: z.boolean(),
  exists: z.boolean(),
  executable: z.boolean(),
  /** Hex SHA-256 of the resolved file, as `sha256sum` prints it; what the approval pins. */
  sha256: z.string().nullable(),
  script: ScriptSchema.nullable(),
  provenance: ProvenanceSchema.nullable(),
  warnings: z.array(McpWarningSchema),
  smokeTest: SmokeTestSchema.optional(),
});
export type McpReview = z.infer<typeof McpReviewSchema>;

// ---------------------------------------------------------------------------------------------
// Server entries

/** `mcp.servers.<name>` as OpenClaw reads it (`cwd` or its alias `workingDirectory`; `type: "http"` is streamable). */
export type ServerEntry = {
  transport: McpTransport;
  command: string | null;
  args: string[];
  cwd: string | null;
  url: string | null;
  env: Array<{ name: string; value: string | null }>;
  headers: Array<{ name: string; value: string | null }>;
  problems: string[];
};

function stringOf(value: Json | undefined): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function namedValues(value: Json | undefined): Array<{ name: string; value: string | null }> {
  if (!isObject(value)) return [];
  return Object.entries(value).map(([name, item]) => ({ name, value: stringOf(item) }));
}

export function parseServerEntry(value: Json | undefined): ServerEntry {
  const entry: JsonObject = isObject(value) ? value : {};
  const problems: string[] = [];
  if (!isObject(value)) problems.push('The server entry is not an object, so OpenClaw cannot start it.');
  const command = typeof entry.command === 'string' ? entry.command : null;
  const url = typeof entry.url === 'string' ? entry.url : null;
  if (entry.command !== undefined && command === null) problems.push('"command" is not a string.');
  if (entry.url !== undefined && url === null) problems.push('"url" is not a string.');
  if (command !== null && url !== null) problems.push('The entry has both "command" and "url"; OpenClaw rejects it.');
  if (isObject(value) && command === null && url === null) {
    problems.push('The entry has neither "command" nor "url", so there is nothing to start or connect to.');
  }
  const rawArgs = entry.args;
  if (rawArgs !== undefined && !Array.isArray(rawArgs)) problems.push('"args" is not a list.');
  const args = Array.isArray(rawArgs) ? rawArgs.map((arg) => stringOf(arg) ?? '') : [];
  const cwd = stringOf(entry.cwd ?? entry.workingDirectory);
  const declared = stringOf(entry.transport ?? entry.type);
  let transport: McpTransport = 'stdio';
  if (command === null && url !== null) {
    transport =
      declared === 'streamable-http' || declared === 'http' || declared === 'streamableHttp'
        ? 'streamable-http'
        : 'sse';
    if (declared !== null && !['sse', 'streamable-http', 'http', 'streamableHttp'].includes(declared)) {
      problems.push(`Unknown transport "${declared}"; OpenClaw supports "sse" and "streamable-http".`);
    }
  }
  return {
    transport,
    command,
    args,
    cwd,
    url,
    env: namedValues(entry.env),
    headers: namedValues(entry.headers),
    problems,
  };
}

export type ServerChange = { server: string; location: McpLocation; action: McpAction; entry: ServerEntry };

function serversOf(document: JsonObject, location: McpLocation): JsonObject {
  let value: Json | undefined = document;
  for (const key of locationPaths[location])
    value = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
  return isObject(value) ? value : {};
}

/**
 * Every server at `location` whose entry differs between the documents, or that the proposer
 * wrote to (`touched`) even if what it wrote equals the current entry: whether a server is
 * reviewed must never tell the proposer that its guess equals a secret. Added and changed
 * servers are read from the target (what will run), removed ones from the base (what stops running).
 */
export function changedServers(
  base: JsonObject,
  target: JsonObject,
  location: McpLocation = 'gateway',
  touched: ReadonlySet<string> = new Set(),
): ServerChange[] {
  const before = serversOf(base, location);
  const after = serversOf(target, location);
  const names = [...new Set([...Object.keys(before), ...Object.keys(after), ...touched])];
  const changes: ServerChange[] = [];
  for (const server of names) {
    const had = Object.hasOwn(before, server);
    const has = Object.hasOwn(after, server);
    if (!had && !has) continue;
    if (had && has && !touched.has(server) && deepEqual(before[server], after[server])) continue;
    const action: McpAction = !had ? 'add' : !has ? 'remove' : 'change';
    changes.push({
      server,
      location,
      action,
      entry: parseServerEntry(action === 'remove' ? before[server] : after[server]),
    });
  }
  return changes;
}

export function serverEntryIn(
  document: JsonObject,
  server: string,
  location: McpLocation = 'gateway',
): ServerEntry | null {
  const servers = serversOf(document, location);
  return Object.hasOwn(servers, server) ? parseServerEntry(servers[server]) : null;
}

/** Whether a value comes from the environment rather than being written into the config. */
function isReference(name: string, value: string | null, header = false): boolean {
  return value !== null && hasReference(value) && !(header ? isLiteralSecretHeader : isLiteralSecret)(name, value);
}

// ---------------------------------------------------------------------------------------------
// Facts from the probe

/** What the probe found about one file on this machine. */
export type FileFacts = {
  /** The absolute path the lookup found, before symlinks were followed; what gets started. */
  path: string | null;
  resolvedPath: string | null;
  viaPath: boolean;
  absolute: boolean;
  exists: boolean;
  regularFile: boolean;
  executable: boolean;
  sha256: string | null;
  /** Larger than the probe hashes, so the approval pins only which file runs, not its bytes. */
  tooLarge: boolean;
  /** The file, its directory, or a symlink's directory, where anyone may write. */
  worldWritable: string[];
  packageJson: { path: string; name: string | null; version: string | null } | null;
};

export type ProbeFacts = { executable: FileFacts; script: FileFacts | null; cwdExists: boolean | null };

export type ProbeRequest = { command: string; cwd: string | null; script: string | null };

/** What the shell must look at for a server; null when nothing runs locally. */
export function probeRequest(entry: ServerEntry): ProbeRequest | null {
  if (entry.transport !== 'stdio' || entry.command === null) return null;
  return { command: entry.command, cwd: entry.cwd, script: analyzeCommand(entry.command, entry.args).script };
}

// ---------------------------------------------------------------------------------------------
// The review

const loopbackHosts = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\]|::1|\[0:0:0:0:0:0:0:1\])$/i;

export function isLoopbackUrl(url: string): boolean {
  try {
    return loopbackHosts.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

function urlWarnings(entry: ServerEntry): McpWarning[] {
  if (entry.url === null) return [];
  let url: URL;
  try {
    url = new URL(entry.url);
  } catch {
    return [{ code: 'invalid_entry', message: `"${redactUrlForDisplay(entry.url)}" is not a valid URL.` }];
  }
  const warnings: McpWarning[] = [];
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    warnings.push({
      code: 'invalid_entry',
      message: `OpenClaw only connects to http: and https: URLs, not ${url.protocol}.`,
    });
  }
  if (url.protocol === 'http:' && !isLoopbackUrl(entry.url)) {
    const headers = entry.headers.map((header) => header.name);
    warnings.push({
      code: 'insecure_url',
      message: `${url.host} is reached over plain http, so anyone on the network path can read and change the tool calls${headers.length ? ` and the headers (${headers.join(', ')})` : ''}; use https.`,
    });
  }
  if (url.password) {
    warnings.push({
      code: 'literal_secret_arg',
      message: `The URL carries a password (shown as ${REDACTED}); put credentials in a header with a \${VAR} reference.`,
    });
  }
  for (const [key, value] of url.searchParams) {
    if (value && !hasReference(value) && (isSecretName(key) || looksLikeSecretValue(value))) {
      warnings.push({
        code: 'literal_secret_arg',
        message: `The URL's "${key}" parameter carries a literal secret (shown as ${REDACTED}); URLs end up in logs, so put it in a header with a \${VAR} reference.`,
      });
    }
  }
  return warnings;
}

function fileWarnings(facts: FileFacts, shown: string, role: 'command' | 'script'): McpWarning[] {
  const warnings: McpWarning[] = [];
  const what = role === 'command' ? `The command "${shown}"` : `The script "${shown}"`;
  if (!facts.exists) {
    warnings.push({
      code: 'executable_missing',
      message:
        role === 'command' && !facts.absolute && !shown.includes('/')
          ? `${what} is not on the service's PATH; OpenClaw may find some other program by that name, or none.`
          : `${what} does not exist on this machine, so nothing can be pinned and anyone who creates it later decides what runs.`,
    });
    return warnings;
  }
  if (!facts.regularFile) {
    warnings.push({
      code: 'not_executable',
      message: `${what} resolves to ${facts.resolvedPath}, which is not a regular file.`,
    });
  } else if (role === 'command' && !facts.executable) {
    warnings.push({
      code: 'not_executable',
      message: `${what} (${facts.resolvedPath}) has no execute permission, so it cannot start.`,
    });
  }
  if (role === 'command' && facts.viaPath) {
    warnings.push({
      code: 'path_resolved',
      message: `"${shown}" was found through the service's PATH at ${facts.path}; OpenClaw looks it up with its own PATH, which may pick another file. An absolute path pins exactly one program.`,
    });
  }
  if (role === 'command' && !facts.absolute && !facts.viaPath) {
    warnings.push({
      code: 'relative_command',
      message: `"${shown}" is a relative path, so what runs depends on the directory OpenClaw starts it from.`,
    });
  }
  if (facts.tooLarge) {
    warnings.push({
      code: 'not_pinned',
      message: `${facts.resolvedPath} is too large to hash, so the approval pins which file runs but not its content.`,
    });
  }
  for (const path of facts.worldWritable) {
    warnings.push({
      code: 'world_writable',
      message: `Anyone on this machine can write to ${path}, so ${role === 'command' ? 'the program' : 'the script'} could be replaced after you approve.`,
    });
  }
  return warnings;
}

function fromPackageJson(facts: FileFacts | null | undefined): Provenance | null {
  const found = facts?.packageJson;
  if (!found || found.name === null) return null;
  return {
    ecosystem: 'npm',
    via: 'node_modules',
    package: found.name,
    version: found.version,
    pinned: found.version !== null,
    packageJson: found.path,
  };
}

/** Which env variables and headers of a server entry hold a value the proposer wrote (see `NamedValueSchema`). */
export type Supplied = (field: 'env' | 'headers', name: string) => boolean;

const noneSupplied: Supplied = () => false;

function namedValue(name: string, value: string | null, options: { header: boolean; supplied: boolean }): NamedValue {
  // The review is built from the shown document (service/secrets.ts): a kept secret is a placeholder.
  if (value === REDACTED) return { name, reference: false, kept: true };
  const shown: NamedValue = { name, reference: isReference(name, value, options.header) };
  if (!options.supplied || value === null) return shown;
  const reads = referencedVariables(value);
  if (reads.length > 0) shown.reads = reads.join(', ');
  const override = options.header ? null : overrideValueForDisplay(name, value);
  if (override !== null) shown.value = override;
  return shown;
}

/**
 * The review as surfaces that must not echo the proposer's values show it (SPEC §4: chat cards,
 * audit, logs, events, webhooks): without `value` and `reads`, which are what the proposer
 * wrote at a redacted path.
 */
export function withoutWrittenValues(review: McpReview): McpReview {
  const strip = ({ name, reference, kept }: NamedValue): NamedValue =>
    kept ? { name, reference, kept } : { name, reference };
  return { ...review, env: review.env.map(strip), headers: review.headers.map(strip) };
}

/**
 * Removing a server starts nothing, so it gets no warnings: the owner only needs to see what
 * goes. `supplied` says which values the proposer wrote; only those are ever shown.
 */
export function buildReview(
  change: ServerChange,
  facts: ProbeFacts | null,
  supplied: Supplied = noneSupplied,
): McpReview {
  const { entry } = change;
  const analysis = entry.command === null ? null : analyzeCommand(entry.command, entry.args);
  const warnings: McpWarning[] = entry.problems.map((message) => ({ code: 'invalid_entry', message }));
  if (facts && entry.command !== null) {
    warnings.push(...fileWarnings(facts.executable, entry.command, 'command'));
    if (facts.script && analysis?.script) warnings.push(...fileWarnings(facts.script, analysis.script, 'script'));
    if (facts.cwdExists === false) {
      warnings.push({
        code: 'cwd_missing',
        message: `The working directory ${entry.cwd} does not exist, so the server fails to start or someone can create it later.`,
      });
    }
  }
  warnings.push(...((analysis?.warnings ?? []) as ArgWarning[]));
  warnings.push(...environmentWarnings(entry.env, "The server's env"));
  warnings.push(...environmentWarnings(entry.headers, 'The header', { headers: true }));
  warnings.push(...urlWarnings(entry));

  const argProvenance = analysis?.provenance;
  const provenance: Provenance | null = argProvenance
    ? { ...argProvenance, packageJson: null }
    : (fromPackageJson(facts?.script) ?? fromPackageJson(facts?.executable));
  const file = facts?.executable;
  const shows = change.action !== 'remove';
  return {
    server: change.server,
    ...(change.location === 'nodeHost' ? { location: change.location } : {}),
    action: change.action,
    transport: entry.transport,
    command: entry.command,
    args: redactArgs(entry.args),
    cwd: entry.cwd,
    url: entry.url === null ? null : redactUrlForDisplay(entry.url),
    env: entry.env.map(({ name, value }) =>
      namedValue(name, value, { header: false, supplied: shows && supplied('env', name) }),
    ),
    headers: entry.headers.map(({ name, value }) =>
      namedValue(name, value, { header: true, supplied: shows && supplied('headers', name) }),
    ),
    resolvedPath: file?.resolvedPath ?? null,
    absolute: file?.absolute ?? false,
    exists: file?.exists ?? false,
    executable: (file?.regularFile ?? false) && (file?.executable ?? false),
    sha256: file?.sha256 ?? null,
    script:
      analysis?.script && facts?.script
        ? {
            path: analysis.script,
            resolvedPath: facts.script.resolvedPath,
            exists: facts.script.exists,
            sha256: facts.script.sha256,
          }
        : null,
    provenance,
    warnings: change.action === 'remove' ? [] : warnings,
  };
}

// ---------------------------------------------------------------------------------------------
// Pinning

/**
 * What the approval pins: which file runs and its exact bytes, for the program and its script.
 * A file that was missing is pinned as missing, so creating it later also breaks the pin.
 */
export function pinDifference(review: McpReview, facts: ProbeFacts | null): string | null {
  if (review.action === 'remove' || review.transport !== 'stdio' || facts === null) return null;
  const now = facts.executable;
  if (now.resolvedPath !== review.resolvedPath) {
    return `"${review.command}" now resolves to ${now.resolvedPath ?? 'nothing'} instead of ${review.resolvedPath ?? 'nothing'}.`;
  }
  if (now.sha256 !== review.sha256) {
    return now.sha256 === null
      ? `${review.resolvedPath} can no longer be read.`
      : `${review.resolvedPath} changed: its sha256 is now ${now.sha256}, not the approved ${review.sha256 ?? '(missing)'}.`;
  }
  if (review.script) {
    const script = facts.script;
    if (
      (script?.resolvedPath ?? null) !== review.script.resolvedPath ||
      (script?.sha256 ?? null) !== review.script.sha256
    ) {
      return `The script ${review.script.path} changed since it was reviewed (sha256 ${script?.sha256 ?? 'missing'}, approved ${review.script.sha256 ?? 'missing'}).`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Secrets

/**
 * The env and header values of the given entries that are secrets (by name or shape), the words
 * inside them, and `extra` values (what references resolved to in a smoke test), so anything
 * shown can be checked for them. Ordinary values (`/opt/acme`, `debug`) are left alone: the review
 * never copies values, and scrubbing every value would also scrub paths the pin depends on.
 */
export function secretValuesOf(entries: readonly ServerEntry[], extra: readonly string[] = []): string[] {
  const values = new Set<string>();
  const add = (value: string) => {
    if (value.length >= 4) values.add(value);
    for (const word of literalPart(value).split(/\s+/)) if (word.length >= 6) values.add(word);
  };
  for (const entry of entries) {
    for (const { name, value } of entry.env) if (value !== null && isLiteralSecret(name, value)) add(value);
    for (const { name, value } of entry.headers) if (value !== null && isLiteralSecretHeader(name, value)) add(value);
  }
  for (const value of extra) if (value.length >= 6) values.add(value);
  return [...values].sort((a, b) => b.length - a.length);
}

/**
 * `value` with every occurrence of a secret replaced by the placeholder, in every string inside
 * it except under the `keep` keys: the pin's facts (`resolvedPath`, `sha256`) are read from the
 * disk, and altering them would make a proposal impossible to apply.
 */
export function scrubSecrets<T>(value: T, secrets: readonly string[], keep: readonly string[] = []): T {
  if (secrets.length === 0) return value;
  const scrub = (item: unknown): unknown => {
    if (typeof item === 'string') return secrets.reduce((text, secret) => text.split(secret).join(REDACTED), item);
    if (Array.isArray(item)) return item.map(scrub);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(
        Object.entries(item).map(([key, inner]) => [key, keep.includes(key) ? inner : scrub(inner)]),
      );
    }
    return item;
  };
  return scrub(value) as T;
}

/** Fields of a review that are facts about files and must reach the pin check unchanged. */
export const PIN_FIELDS = ['resolvedPath', 'sha256'] as const;
