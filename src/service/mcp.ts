import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, resolve } from 'node:path';
import type { Actor, Card, Change } from '../core/card.js';
import { CountersignError, fail } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import {
  buildReview,
  changedServers,
  isLoopbackUrl,
  type McpLocation,
  type McpReview,
  type McpWarning,
  mcpLocations,
  PIN_FIELDS,
  pinDifference,
  probeRequest,
  type ServerEntry,
  type SmokeTool,
  type Supplied,
  scrubSecrets,
  secretValuesOf,
  serverEntryIn,
  serverLabel,
  serverPath,
  serversUnder,
} from '../core/mcp-review.js';
import { classifyTools } from '../core/mcp-tools.js';
import { formatPath, parsePath, type Segment } from '../core/path.js';
import { REDACTED } from '../core/redact.js';
import type { SmokeTestRequest } from '../core/requests.js';
import { probeServer } from '../mcp/probe.js';
import type { ToolListing } from '../mcp/smoke-test.js';
import type { ProposalRecord } from '../store/proposals.js';
import type { Credential } from '../store/tokens.js';
import { appendAudit, proposalAuditFields, withAudit } from './audit.js';
import type { Service, TargetRuntime } from './context.js';
import { resolveTarget } from './document.js';
import { expireOverdue, voidAsStale } from './lifecycle.js';
import { proposalDocuments } from './proposal-documents.js';

/**
 * The smoke test's MCP client (the MCP SDK) is loaded on first use, not at start-up: it was about
 * 60 ms of the server's start-up and 10 MB of its idle memory (bench/README.md).
 */
const smokeTestClient = () => import('../mcp/smoke-test.js');

/**
 * SPEC §7 use cases: the review attached at proposal time, the pin checked at apply time, and
 * the owner's smoke test. Files are read with the service's own environment (`process.env`),
 * which is what the review promises: "as this machine sees it now".
 */

const serverRoots: ReadonlyArray<readonly string[]> = mcpLocations.map((location) =>
  serverPath(location, '')
    .slice(0, -1)
    .map((segment) => segment.key),
);

/**
 * Whether a change can add, change or remove an MCP server: a path under `mcp.servers` or
 * `nodeHost.mcp.servers`, or above one (`mcp: null` removes every server). A path that cannot
 * be read counts, since reviewing too often only costs a look at the files.
 */
export function touchesMcpServers(changes: ReadonlyArray<{ path: string }>): boolean {
  return changes.some(({ path }) => {
    let segments: Segment[];
    try {
      segments = parsePath(path);
    } catch {
      return true;
    }
    return serverRoots.some((root) =>
      root.every((key, index) => {
        const segment = segments[index];
        if (segment === undefined) return true; // an ancestor of the servers
        return segment.key === key && segment.id === undefined && segment.index === undefined;
      }),
    );
  });
}

/**
 * The values the proposer wrote itself, from the owner's view of the changes: a change with
 * no `from` whose new value is not the placeholder. Only those may be shown on the review; a
 * value kept from the current document is a secret the proposer may not read. Deciding by
 * provenance, never by comparing values, keeps the card from saying "equal to the current one".
 */
function suppliedBy(changes: readonly Change[], location: McpLocation, server: string): Supplied {
  const written = new Set(
    changes
      .filter((change) => change.op !== 'remove' && change.from === undefined && change.after !== undefined)
      .filter((change) => change.after !== REDACTED)
      .map((change) => change.path),
  );
  const entry = serverPath(location, server);
  return (field, name) => written.has(formatPath([...entry, { key: field }, { key: name }]));
}

function readablePath(path: string): Segment[][] {
  try {
    return [parsePath(path)];
  } catch {
    return [];
  }
}

export type ReviewOptions = {
  /** The environment the files are looked up with. */
  env?: NodeJS.ProcessEnv;
  /**
   * The owner's view of the changes (`plan.changes`): which values the proposer wrote, so
   * that the review can show override values and the variables references read. Without it
   * no value is shown.
   */
  changes?: readonly Change[];
};

/** Reviews of every server under `mcp.servers` and `nodeHost.mcp.servers` that the change adds, changes or removes. */
export function reviewMcpServers(base: JsonObject, target: JsonObject, options: ReviewOptions = {}): McpReview[] {
  const env = options.env ?? process.env;
  const paths = (options.changes ?? []).flatMap((change) => readablePath(change.path));
  const changes = mcpLocations.flatMap((location) =>
    changedServers(base, target, location, serversUnder(paths, location)),
  );
  if (changes.length === 0) return [];
  const reviews = changes.map((change) => {
    const request = probeRequest(change.entry);
    const supplied = suppliedBy(options.changes ?? [], change.location, change.server);
    return buildReview(change, request ? probeServer(request, env) : null, supplied);
  });
  // The review never copies a secret, but a value can also appear where it was not expected
  // (an argument, a path, an override); the card must not show it there either.
  const entries = changes.flatMap((change) => [
    change.entry,
    ...[
      serverEntryIn(base, change.server, change.location),
      serverEntryIn(target, change.server, change.location),
    ].filter((entry): entry is ServerEntry => entry !== null),
  ]);
  return scrubSecrets(reviews, secretValuesOf(entries), PIN_FIELDS);
}

export type Drift = { server: string; location?: McpLocation; reason: string };

/** The first reviewed server whose program is no longer the one the owner saw, and how. */
export function executableDrift(card: Card, targetDocument: string, env = process.env): Drift | null {
  const pinned = card.review.mcp.filter((review) => review.action !== 'remove' && review.transport === 'stdio');
  if (pinned.length === 0) return null;
  const document = JSON.parse(targetDocument) as JsonObject;
  for (const review of pinned) {
    const entry = serverEntryIn(document, review.server, review.location ?? 'gateway');
    const request = entry ? probeRequest(entry) : null;
    const reason = pinDifference(review, request ? probeServer(request, env) : null);
    if (reason) return { server: review.server, ...(review.location ? { location: review.location } : {}), reason };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Smoke test

export type SmokeTestResult = { server: string; location?: McpLocation; tools: SmokeTool[]; warnings: McpWarning[] };

/** Spawning programs is not free; a burst of clicks must not start a burst of servers. */
const MAX_CONCURRENT = 2;
const running = new WeakMap<Service, number>();

const referencePattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** `${VAR}` references filled in from the service's environment (unset → empty), as OpenClaw does at start. */
function resolveReferences(value: string | null, env: NodeJS.ProcessEnv): string {
  return (value ?? '').replace(referencePattern, (_, name: string) => env[name] ?? '');
}

function declared(
  values: ReadonlyArray<{ name: string; value: string | null }>,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  return Object.fromEntries(values.map(({ name, value }) => [name, resolveReferences(value, env)]));
}

/** What the `${VAR}` references of an entry resolve to: secrets the server receives at start. */
function referencedValues(entry: ServerEntry, env: NodeJS.ProcessEnv): string[] {
  const values = [...entry.env, ...entry.headers].flatMap(({ value }) =>
    [...(value ?? '').matchAll(referencePattern)].map((match) => env[match[1] as string] ?? ''),
  );
  return values.filter((value) => value !== '');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A PATH with the usual system directories, Node's own (so `#!/usr/bin/env node` works) and the
 * program's directory (so a node_modules/.bin shim finds its siblings), and nothing else of ours.
 */
function minimalPath(program: string): string {
  const dirs = [dirname(program), dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'];
  return [...new Set(dirs)].join(delimiter);
}

function pickReview(card: Card, server: string | undefined): { review: McpReview; index: number } {
  const reviews = card.review.mcp;
  if (reviews.length === 0)
    fail('not_found', 'This proposal adds or changes no MCP server, so there is nothing to test.');
  const index =
    server === undefined
      ? Math.max(
          0,
          reviews.findIndex((review) => review.action !== 'remove'),
        )
      : byName(reviews, server);
  const review = reviews[index];
  if (!review) {
    fail('not_found', `This proposal reviews no MCP server named "${server}".`, {
      servers: reviews.map(serverLabel),
    });
  }
  if (review.action === 'remove') {
    fail(
      'invalid_request',
      `The proposal removes "${serverLabel(review)}"; a server that is going away is not started.`,
    );
  }
  return { review, index };
}

/** A gateway server by its name; a node host's one as `nodeHost:<name>` when no gateway server is called that. */
function byName(reviews: readonly McpReview[], server: string): number {
  const gateway = reviews.findIndex((review) => review.location === undefined && review.server === server);
  return gateway >= 0 ? gateway : reviews.findIndex((review) => serverLabel(review) === server);
}

function listingWarnings(listing: ToolListing): McpWarning[] {
  const warnings: McpWarning[] = [];
  if (listing.error) {
    const tail = listing.stderr.trim().split('\n').slice(-5).join(' | ').slice(-600);
    warnings.push({ code: 'smoke_test_failed', message: `${listing.error}${tail ? ` Its last output: ${tail}` : ''}` });
  }
  if (listing.truncated) {
    warnings.push({
      code: 'tools_truncated',
      message: 'The server lists more tools than the smoke test reads; only the first ones are shown.',
    });
  }
  return warnings;
}

/**
 * `POST /v1/proposals/:id/smoke-test` (SPEC §7): owner only, never automatic. Starts the
 * reviewed server exactly as the proposal would register it, but with the environment cut down
 * to what the entry declares plus a minimal PATH and a throw-away HOME, lists its tools, and
 * keeps the result on the card and in the audit log (tool names and flags only).
 */
export async function smokeTest(
  service: Service,
  caller: Credential,
  id: string,
  request: SmokeTestRequest,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<SmokeTestResult> {
  if (caller.role !== 'owner') fail('forbidden', 'Only an owner can start an MCP server for a smoke test.');
  expireOverdue(service);
  const record = service.proposals.get(id);
  if (!record) fail('not_found', `There is no proposal ${id}.`);
  const { card } = record;
  if (card.status !== 'pending' && card.status !== 'approved') {
    fail('not_pending', `This proposal is ${card.status}; only an open proposal's servers are tested.`, {
      status: card.status,
    });
  }
  const target = resolveTarget(service, card.target);
  const { review, index } = pickReview(card, request.server);
  const env = options.env ?? process.env;
  const location = review.location ?? 'gateway';
  const label = serverLabel(review);
  // The proposed document, rebuilt from the base the proposal keeps and checked against its card.
  const proposed = proposalDocuments(service, target, record).target;
  const entry = serverEntryIn(proposed.value, review.server, location);
  if (!entry) fail('not_found', `The proposed document has no MCP server "${label}".`);
  const identity = { server: review.server, ...(review.location ? { location: review.location } : {}) };

  const secrets = secretValuesOf([entry], referencedValues(entry, env));

  if (entry.transport !== 'stdio' && entry.url === null) {
    fail('invalid_request', `MCP server "${label}" has no URL to connect to.`);
  }
  if (entry.transport !== 'stdio' && entry.url !== null && !isLoopbackUrl(entry.url) && request.allowRemote !== true) {
    return {
      ...identity,
      tools: [],
      warnings: [
        {
          code: 'remote_not_probed',
          message: `${review.url} is not on this machine, so the smoke test did not contact it: connecting sends the declared headers to that host. Send { "allowRemote": true } to opt in.`,
        },
      ],
    };
  }

  // The program the owner would approve must be the one that runs: check the pin first.
  if (entry.transport === 'stdio') {
    const drift = executableDrift({ ...card, review: { mcp: [review] } }, proposed.text, env);
    if (drift) refuseExecutableChanged(service, target, record, drift);
  }

  const active = running.get(service) ?? 0;
  if (active >= MAX_CONCURRENT)
    fail('rate_limited', 'Other smoke tests are still running; try again in a few seconds.');
  running.set(service, active + 1);
  let listing: ToolListing;
  try {
    listing = await runListing(entry, env, options.timeoutMs ?? (await smokeTestClient()).DEFAULT_TIMEOUT_MS);
  } finally {
    running.set(service, (running.get(service) ?? 1) - 1);
  }

  const classified = classifyTools(listing.tools);
  const result = scrubSecrets(
    { ...identity, tools: classified.tools, warnings: [...listingWarnings(listing), ...classified.warnings] },
    secrets,
  );
  recordSmokeTest(service, caller, target, id, index, result);
  return result;
}

async function runListing(entry: ServerEntry, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ToolListing> {
  const { listHttpTools, listStdioTools } = await smokeTestClient();
  if (entry.transport !== 'stdio') {
    return listHttpTools({
      url: entry.url as string,
      transport: entry.transport,
      headers: declared(entry.headers, env),
      timeoutMs,
    });
  }
  const request = probeRequest(entry);
  const program = request ? probeServer(request, env).executable.path : null;
  if (program === null || entry.command === null) {
    return {
      tools: [],
      truncated: false,
      error: `"${entry.command}" was not found, so there is nothing to start.`,
      stderr: '',
    };
  }
  const home = mkdtempSync(resolve(tmpdir(), 'countersign-smoke-'));
  try {
    const cwd = entry.cwd !== null && isDirectory(resolve(entry.cwd)) ? resolve(entry.cwd) : home;
    return await listStdioTools({
      command: program,
      args: entry.args,
      cwd,
      // Declared variables win, as they would when OpenClaw starts the server.
      env: { PATH: minimalPath(program), HOME: home, TERM: 'dumb', ...declared(entry.env, env) },
      timeoutMs,
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function recordSmokeTest(
  service: Service,
  caller: Credential,
  target: TargetRuntime,
  id: string,
  index: number,
  result: SmokeTestResult,
): void {
  const actor: Actor = {
    role: caller.role,
    name: caller.name,
    agentId: caller.agentId,
    sessionKey: null,
    surface: caller.surface,
  };
  withAudit(service, () => {
    // Re-read inside the transaction: the proposal may have been decided while the server ran.
    const current = service.proposals.get(id);
    if (!current) return;
    const card: Card = {
      ...current.card,
      review: {
        // The review list is fixed when the proposal is made, so the position names the server.
        mcp: current.card.review.mcp.map((review, at) =>
          at === index && review.server === result.server && review.action !== 'remove'
            ? {
                ...review,
                smokeTest: {
                  at: service.now().toISOString(),
                  by: caller.name,
                  tools: result.tools,
                  warnings: result.warnings,
                },
              }
            : review,
        ),
      },
    };
    service.proposals.updateCard(card, service.now());
    appendAudit(service, {
      kind: 'mcp.smoke_test',
      ...proposalAuditFields(target, card),
      actor,
      details: {
        server: result.server,
        ...(result.location ? { location: result.location } : {}),
        tools: result.tools.map((tool) => ({
          name: tool.name,
          destructive: tool.destructive,
          readOnly: tool.readOnly,
        })),
        warnings: result.warnings.map((warning) => warning.code),
      },
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Refusal

/**
 * The program behind a reviewed server is not the one the owner approved: the approval is void,
 * so the proposal becomes stale (audited) and nothing is written.
 */
export function refuseExecutableChanged(
  service: Service,
  target: TargetRuntime,
  record: ProposalRecord,
  drift: Drift,
): never {
  const label = serverLabel(drift);
  const where = drift.location === 'nodeHost' ? "the node host's MCP server" : 'MCP server';
  const why = `The program of ${where} "${drift.server}" changed after review: ${drift.reason}`;
  voidAsStale(
    service,
    target,
    record,
    why,
    { executableChanged: label },
    new CountersignError('executable_changed', `${why} Ask for a new proposal and review it again.`, {
      server: drift.server,
      ...(drift.location ? { location: drift.location } : {}),
    }),
  );
}
