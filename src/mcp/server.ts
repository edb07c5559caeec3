import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  McpError,
  ErrorCode as McpErrorCode,
  type ServerNotification,
  type ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { Client } from '../cli/client.js';
import { CountersignError } from '../core/errors.js';
import { parsePath } from '../core/path.js';
import { version } from '../version.js';

/**
 * `countersign mcp` (SPEC §10): a stdio MCP server an agent runtime starts with COUNTERSIGN_URL
 * and an agent COUNTERSIGN_TOKEN. A thin adapter over the HTTP API: every decision stays in the
 * service, this file only shapes arguments and answers. It is built on the SDK's low-level
 * `Server` so that argument errors, like every refusal, come back as tool errors carrying a
 * service-style code (`invalid_request`), never as protocol failures.
 */

/** How long one long poll lasts while a tool waits: a progress notification follows each. */
const PROGRESS_EVERY_SECONDS = 5;
/** The longest `wait` a tool accepts; the runtime's own tool timeout is usually shorter. */
const MAX_WAIT_SECONDS = 3600;

type Progress = (message: string, elapsedSeconds: number, totalSeconds: number) => Promise<void>;
type Context = { http: Client; signal: AbortSignal; progress: Progress; sessionKey: string };
type Answer = { text: string; result: Record<string, unknown> };

type Tool<S extends z.ZodType> = {
  name: string;
  title: string;
  description: string;
  input: S;
  annotations: ToolAnnotations;
  run: (args: z.infer<S>, context: Context) => Promise<Answer>;
};

const target = z.string().min(1).max(63).optional().describe('target name (default: the first)');
const waitSeconds = z
  .number()
  .int()
  .min(0)
  .max(MAX_WAIT_SECONDS)
  .optional()
  .describe('seconds to block until the owner decides (progress notifications meanwhile); 0 or absent: do not wait');

// ---------------------------------------------------------------------------------------------
// Waiting

/**
 * Long-polls `path?wait=` in short steps until `done` holds or `seconds` run out, sending a
 * progress notification before each step. The caller's cancellation aborts the poll in flight.
 */
async function waitFor<T>(
  context: Context,
  seconds: number,
  path: string,
  done: (value: T) => boolean,
  first: T,
  what: string,
): Promise<{ value: T; timedOut: boolean }> {
  const started = Date.now();
  let value = first;
  for (;;) {
    if (done(value)) return { value, timedOut: false };
    const elapsed = (Date.now() - started) / 1000;
    const left = seconds - elapsed;
    if (left <= 0) return { value, timedOut: true };
    await context.progress(`waiting for the owner to decide ${what}`, Math.floor(elapsed), seconds);
    const step = Math.max(1, Math.min(PROGRESS_EVERY_SECONDS, Math.ceil(left)));
    value = await context.http.request<T>('GET', `${path}?wait=${step}`, undefined, { signal: context.signal });
  }
}

type Card = { id: string; status: string; tier: string; resolution: { status: string; reason?: string } | null };

function proposalSentence(card: Card): string {
  switch (card.status) {
    case 'pending':
      return `Proposal ${card.id} (${card.tier}) is waiting for the owner's countersignature.`;
    case 'applied':
      return `Proposal ${card.id} was approved and applied.`;
    case 'approved':
      return `Proposal ${card.id} was approved; apply it with POST /v1/proposals/${card.id}/apply before the grant expires.`;
    default:
      return `Proposal ${card.id} is ${card.status}${card.resolution?.reason ? `: ${card.resolution.reason}` : '.'}`;
  }
}

/** Waits on a proposal when asked to; the proposal stands if the wait is cancelled or runs out. */
async function maybeWait(context: Context, card: Card, wait: number | undefined) {
  if (!wait || card.status !== 'pending') return { card, waited: null };
  const path = `/v1/proposals/${encodeURIComponent(card.id)}`;
  const outcome = await waitFor<Card>(context, wait, path, (value) => value.status !== 'pending', card, card.id);
  return { card: outcome.value, waited: { seconds: wait, timedOut: outcome.timedOut } };
}

// ---------------------------------------------------------------------------------------------
// Tools

function valueAt(document: unknown, path: string): { found: boolean; value?: unknown } {
  let node: unknown = document;
  for (const segment of parsePath(path)) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return { found: false };
    node = (node as Record<string, unknown>)[segment.key];
    if (segment.id !== undefined) {
      if (!Array.isArray(node)) return { found: false };
      node = node.find((item) => (item as { id?: unknown } | null)?.id === segment.id);
    } else if (segment.index !== undefined) {
      node = Array.isArray(node) ? node[segment.index] : undefined;
    }
    if (node === undefined) return { found: false };
  }
  return { found: true, value: node };
}

const configGet: Tool<z.ZodObject<{ target: typeof target; path: z.ZodOptional<z.ZodString> }>> = {
  name: 'config_get',
  title: 'Read the managed config',
  description:
    'Read the managed config (secrets shown as "[redacted]") and its hash. Pass `path` (e.g. agents.list[id=main].model) for one value. Use the hash as `baseHash` when proposing.',
  input: z.object({
    target,
    path: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .describe('dotted path, e.g. gateway.port or agents.list[id=main].model'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, { http }) {
    const query = args.target ? `?target=${encodeURIComponent(args.target)}` : '';
    const read = await http.request<{ target: string; hash: string; config: unknown }>('GET', `/v1/config${query}`);
    if (!args.path) {
      return { text: `The ${read.target} config, hash ${read.hash}.`, result: read };
    }
    let at: ReturnType<typeof valueAt>;
    try {
      at = valueAt(read.config, args.path);
    } catch (error) {
      throw new CountersignError('invalid_request', `Cannot read the path: ${(error as Error).message}`);
    }
    if (!at.found) throw new CountersignError('not_found', `${args.path} is not set in the ${read.target} config.`);
    return {
      text: `${args.path} in ${read.target} (hash ${read.hash}).`,
      result: { target: read.target, hash: read.hash, path: args.path, value: at.value },
    };
  },
};

const ProposeInput = z.object({
  patch: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('RFC 7396 merge patch; arrays keyed by id merge by id; "[redacted]" keeps a secret as it is'),
  operations: z.array(z.record(z.string(), z.unknown())).optional().describe('RFC 6902 JSON Patch operations'),
  replace: z.record(z.string(), z.unknown()).optional().describe('the whole new document'),
  baseHash: z.string().optional().describe('the hash you read with config_get (read now when absent)'),
  reason: z.string().min(1).max(4000).describe('why, for the owner'),
  target,
  sessionKey: z.string().min(1).max(256).optional().describe('your session key (default: this server’s)'),
  dryRun: z.boolean().optional().describe('classify only: nothing is stored'),
  wait: waitSeconds,
});

type ProposeOutcome = { status: string; hash?: string; proposal?: Card };

const configPropose: Tool<typeof ProposeInput> = {
  name: 'config_propose',
  title: 'Propose a config change',
  description:
    'Propose a change to the managed config as exactly one of `patch`, `operations` or `replace`. Allowlisted changes apply at once; others wait for the owner to countersign the exact diff (`wait` blocks until they decide). Without `baseHash` the current hash is read first, so the change applies to whatever the config is now. You never write the file: countersign does.',
  input: ProposeInput,
  // An allowlisted change is applied immediately and may replace values: destructive, not idempotent.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(args, context) {
    const forms = [args.patch, args.operations, args.replace].filter((form) => form !== undefined).length;
    if (forms !== 1) {
      throw new CountersignError('invalid_request', 'Exactly one of "patch", "operations" or "replace" is required.');
    }
    let baseHash = args.baseHash;
    const baseHashRead = baseHash === undefined;
    if (baseHash === undefined) {
      const query = args.target ? `?target=${encodeURIComponent(args.target)}` : '';
      baseHash = (await context.http.request<{ hash: string }>('GET', `/v1/config${query}`)).hash;
    }
    const { wait, sessionKey, ...body } = args;
    const outcome = await context.http.request<ProposeOutcome>('POST', '/v1/proposals', {
      ...body,
      baseHash,
      sessionKey: sessionKey ?? context.sessionKey,
    });
    const readNote = baseHashRead ? `No baseHash given: read the current hash ${baseHash} first. ` : '';
    if (!outcome.proposal) {
      return {
        text: `${readNote}Nothing changes: the config already says this (hash ${outcome.hash}).`,
        result: { ...outcome, baseHash, baseHashRead },
      };
    }
    const waited = await maybeWait(context, outcome.proposal, outcome.status === 'pending' ? wait : undefined);
    const status = waited.card.status === outcome.proposal.status ? outcome.status : waited.card.status;
    const sentence =
      outcome.status === 'dry-run'
        ? `Dry run: this would be ${waited.card.tier}; nothing was stored.`
        : proposalSentence(waited.card);
    return {
      text: `${readNote}${sentence}`,
      result: { ...outcome, status, proposal: waited.card, baseHash, baseHashRead, waited: waited.waited },
    };
  },
};

const proposalStatus: Tool<z.ZodObject<{ id: z.ZodString; wait: typeof waitSeconds }>> = {
  name: 'proposal_status',
  title: 'A proposal’s status',
  description:
    'The card of one of your proposals: pending, applied, denied, expired, stale… With `wait`, blocks until the owner decides (at most `wait` seconds).',
  input: z.object({ id: z.string().min(1).max(100).describe('the proposal id'), wait: waitSeconds }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, context) {
    const card = await context.http.request<Card>('GET', `/v1/proposals/${encodeURIComponent(args.id)}`);
    const waited = await maybeWait(context, card, args.wait);
    return { text: proposalSentence(waited.card), result: { proposal: waited.card, waited: waited.waited } };
  },
};

const policyExplain: Tool<
  z.ZodObject<{ path: z.ZodString; value: z.ZodOptional<z.ZodUnknown>; target: typeof target }>
> = {
  name: 'policy_explain',
  title: 'Explain the policy for a path',
  description:
    'Which policy rule decides a change at `path` (with the new `value`, for value conditions), its tier (allowlisted, review, dangerous, blocked) and why — what the owner will be asked before you propose.',
  input: z.object({
    path: z.string().min(1).max(1000).describe('dotted path, e.g. commands.mcp'),
    value: z.unknown().optional().describe('the new value (any JSON)'),
    target,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, { http }) {
    const query = new URLSearchParams({ path: args.path });
    if (args.value !== undefined) query.set('value', JSON.stringify(args.value));
    if (args.target) query.set('target', args.target);
    const explained = await http.request<{ path: string; tier: string; ruleId: string | null; explain: string }>(
      'GET',
      `/v1/policy/explain?${query}`,
    );
    return {
      text: `${explained.path}: ${explained.tier} (${explained.ruleId ? `rule ${explained.ruleId}` : 'default tier'}) — ${explained.explain}`,
      result: explained,
    };
  },
};

type ExecRequest = { id: string; status: string; planHash: string; sessionKey: string; resolution: unknown };

const ExecInput = z.object({
  argv: z.array(z.string().max(100_000)).min(1).max(4096).optional().describe('the command as argv (preferred)'),
  command: z.string().min(1).max(100_000).optional().describe('the command as shell text'),
  cwd: z.string().min(1).max(4096).describe('absolute working directory'),
  env: z
    .record(z.string(), z.string())
    .optional()
    .describe('environment entries the command needs (the owner sees them)'),
  sessionKey: z.string().min(1).max(256).optional().describe('your session key; consume with the same one'),
  wait: waitSeconds,
});

function execResult(request: ExecRequest, extra: Record<string, unknown> = {}): Answer {
  const allowed = request.status === 'allowed';
  const text = allowed
    ? `Allowed: request ${request.id}. This tool did not run it: your runtime must consume it (POST /v1/exec/requests/${request.id}/consume with planHash ${request.planHash} and session ${request.sessionKey}) and run exactly that plan.`
    : request.status === 'pending'
      ? `Request ${request.id} is waiting for the owner; check again with exec_request's wait, or let your runtime poll it.`
      : `Request ${request.id} is ${request.status}; do not run the command.`;
  return {
    text,
    result: {
      decision: request.status,
      request,
      ...(allowed ? { planHash: request.planHash, mustConsume: true, sessionKey: request.sessionKey } : {}),
      ...extra,
    },
  };
}

const execRequest: Tool<typeof ExecInput> = {
  name: 'exec_request',
  title: 'Ask to run a command',
  description:
    'Ask countersign whether you may run a command (exactly one of `argv` or `command`). Returns allowed, pending (an owner is asked) or denied; with `wait`, blocks until the owner decides (cancelling withdraws the request). It never runs the command: when allowed, your runtime consumes the returned planHash once and runs exactly that plan.',
  input: ExecInput,
  // It asks; it runs nothing and changes no config.
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, context) {
    const { wait, sessionKey, ...body } = args;
    if ((body.argv === undefined) === (body.command === undefined)) {
      throw new CountersignError('invalid_request', 'Exactly one of "argv" or "command" is required.');
    }
    const created = await context.http.request<{ decision: string; request: ExecRequest }>(
      'POST',
      '/v1/exec/requests',
      { ...body, sessionKey: sessionKey ?? context.sessionKey },
    );
    if (!wait || created.request.status !== 'pending') return execResult(created.request);
    const path = `/v1/exec/requests/${encodeURIComponent(created.request.id)}`;
    try {
      const outcome = await waitFor<{ request: ExecRequest }>(
        context,
        wait,
        path,
        (value) => value.request.status !== 'pending',
        created,
        `on request ${created.request.id}`,
      );
      return execResult(outcome.value.request, { waited: { seconds: wait, timedOut: outcome.timedOut } });
    } catch (error) {
      // Nobody waits for the answer any more: withdraw, so an owner is not left deciding for no one.
      if (context.signal.aborted) {
        await context.http.request('POST', `${path}/withdraw`, {}).catch(() => undefined);
      }
      throw error;
    }
  },
};

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of tools, each checked where it is defined.
export const tools: Tool<any>[] = [configGet, configPropose, proposalStatus, policyExplain, execRequest];

// ---------------------------------------------------------------------------------------------
// The server

function toolError(code: string, message: string, details: Record<string, unknown> = {}): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: `${code}: ${message}` }],
    structuredContent: { error: { ...details, code, message } },
  };
}

function asToolError(error: unknown): CallToolResult {
  if (error instanceof CountersignError) {
    const { code: _code, message: _message, ...details } = error.details;
    return toolError(error.code, error.message, details);
  }
  return toolError('unavailable', (error as Error).message);
}

export function createServer(http: Client, sessionKey: string): Server {
  const server = new Server(
    { name: 'countersign', version },
    {
      capabilities: { tools: {} },
      instructions:
        'countersign guards the agent runtime config: read it with config_get, propose changes with config_propose (an owner countersigns anything not allowlisted), and ask before running commands with exec_request. Only countersign writes the config.',
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools.map((tool) => ({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as {
        type: 'object';
        [key: string]: unknown;
      },
      annotations: { title: tool.title, ...tool.annotations },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = tools.find((candidate) => candidate.name === request.params.name);
    if (!tool) throw new McpError(McpErrorCode.InvalidParams, `There is no tool ${request.params.name}.`);
    const parsed = tool.input.safeParse(request.params.arguments ?? {});
    if (!parsed.success) {
      return toolError('invalid_request', `Invalid arguments: ${z.prettifyError(parsed.error)}`, {
        issues: parsed.error.issues.map((issue: z.core.$ZodIssue) => ({
          path: issue.path.join('.'),
          message: issue.message,
        })),
      });
    }
    const progressToken = request.params._meta?.progressToken;
    const progress: Progress = async (message, elapsed, total) => {
      if (progressToken === undefined) return;
      const notification: ServerNotification = {
        method: 'notifications/progress',
        params: { progressToken, progress: elapsed, total, message },
      };
      await extra.sendNotification(notification).catch(() => undefined);
    };
    try {
      const answer = await tool.run(parsed.data, { http, signal: extra.signal, progress, sessionKey });
      return { content: [{ type: 'text', text: answer.text }], structuredContent: answer.result };
    } catch (error) {
      return asToolError(error);
    }
  });
  return server;
}

/** `countersign mcp`: serves until the runtime closes stdin. */
export async function mcp(): Promise<void> {
  const http = new Client({});
  const sessionKey = process.env.COUNTERSIGN_SESSION || `mcp-${randomUUID()}`;
  const server = createServer(http, sessionKey);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  await server.connect(new StdioServerTransport());
  await closed;
}
