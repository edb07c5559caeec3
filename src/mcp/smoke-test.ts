import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ListedTool } from '../core/mcp-tools.js';
import { version } from '../version.js';

/**
 * Starts an MCP server (or connects to one) with the official SDK client, lists its tools and
 * tears everything down. Runs only when an owner asks; it is a look, not a sandbox.
 */

export const DEFAULT_TIMEOUT_MS = 10_000;
export const STDERR_LIMIT_BYTES = 64 * 1024;
const MAX_PAGES = 20;
const MAX_TOOLS = 1000;

export type ToolListing = {
  tools: ListedTool[];
  truncated: boolean;
  /** Why listing failed, in one sentence; null when it worked. */
  error: string | null;
  /** The end of what the server wrote to stderr, at most `STDERR_LIMIT_BYTES` kept. */
  stderr: string;
};

export type StdioLaunch = {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs?: number;
};

export type HttpConnection = {
  url: string;
  transport: 'sse' | 'streamable-http';
  headers: Record<string, string>;
  timeoutMs?: number;
};

function newClient(): Client {
  return new Client({ name: 'countersign-smoke-test', version }, { capabilities: {} });
}

/** Connects and pages through `tools/list` under one deadline for the whole exchange. */
async function listWithDeadline(client: Client, transport: Transport, timeoutMs: number): Promise<ToolListing> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const options = { signal: controller.signal, timeout: timeoutMs };
  const tools: ListedTool[] = [];
  let truncated = false;
  try {
    await client.connect(transport, options);
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await client.listTools(cursor === undefined ? {} : { cursor }, options);
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) break;
      if (page === MAX_PAGES - 1 || tools.length >= MAX_TOOLS) truncated = true;
      if (tools.length >= MAX_TOOLS) break;
    }
    return {
      tools: tools.slice(0, MAX_TOOLS),
      truncated: truncated || tools.length > MAX_TOOLS,
      error: null,
      stderr: '',
    };
  } catch (error) {
    const message = timedOut
      ? `The server did not list its tools within ${Math.round(timeoutMs / 1000)} s.`
      : `The server could not be started or did not answer: ${(error as Error).message}`;
    return { tools, truncated, error: message, stderr: '' };
  } finally {
    clearTimeout(timer);
  }
}

/** pid → parent pid for every process we can see: /proc on Linux, `ps` elsewhere. */
function parentsByPid(): Map<number, number> {
  const parents = new Map<number, number>();
  try {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        // The command name is in parentheses and may itself contain spaces or ")".
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        parents.set(Number(name), Number(fields[1]));
      } catch {
        // Exited while we looked.
      }
    }
    if (parents.size > 0) return parents;
  } catch {
    // No /proc: fall through to ps.
  }
  try {
    const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8', timeout: 5000 });
    for (const line of out.split('\n')) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid !== undefined && ppid !== undefined && !Number.isNaN(pid)) parents.set(pid, ppid);
    }
  } catch {
    // Nothing more we can learn; the root is still killed.
  }
  return parents;
}

function processTree(root: number): number[] {
  const parents = parentsByPid();
  const tree = [root];
  for (let index = 0; index < tree.length; index++) {
    for (const [pid, parent] of parents) if (parent === tree[index] && !tree.includes(pid)) tree.push(pid);
  }
  return tree;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/**
 * Freezes the whole tree first (a stopped process can neither fork nor exit and orphan its
 * children), re-reading it until no new process appears, then kills every member. The root must
 * still be our own child, so a pid reused after it exited is never touched. A process that
 * detached and was re-parented before the first look is out of reach; the README says so.
 */
export function killProcessTree(root: number): number[] {
  if (parentsByPid().get(root) !== process.pid) return [];
  const seen = new Set<number>();
  for (let round = 0; round < 5; round++) {
    const fresh = processTree(root).filter((pid) => !seen.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      signal(pid, 'SIGSTOP');
      seen.add(pid);
    }
  }
  for (const pid of seen) signal(pid, 'SIGKILL');
  return [...seen];
}

/**
 * The SDK closes the transport itself when `connect` fails (a timeout, a crash), and its close
 * signals only the child it started, whose own children then escape to init. Killing the tree
 * inside `close` makes every path, ours or the SDK's, take the whole tree down first.
 */
class TreeKillingStdioTransport extends StdioClientTransport {
  override async close(): Promise<void> {
    const pid = this.pid;
    if (pid !== null) killProcessTree(pid);
    await super.close();
  }
}

/** Starts a stdio server with exactly the environment given, lists its tools, kills its process tree. */
export async function listStdioTools(launch: StdioLaunch): Promise<ToolListing> {
  const timeoutMs = launch.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport = new TreeKillingStdioTransport({
    command: launch.command,
    args: launch.args,
    cwd: launch.cwd,
    env: launch.env,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    // Keep the tail: the last lines are the ones that say why a server died.
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_LIMIT_BYTES);
  });
  const client = newClient();
  let listing: ToolListing;
  try {
    listing = await listWithDeadline(client, transport, timeoutMs);
  } finally {
    await client.close().catch(() => undefined);
    await transport.close().catch(() => undefined);
  }
  return { ...listing, stderr };
}

/** Lists a remote server's tools over the SDK's HTTP transports. */
export async function listHttpTools(connection: HttpConnection): Promise<ToolListing> {
  const url = new URL(connection.url);
  const requestInit = { headers: connection.headers };
  const transport =
    connection.transport === 'sse'
      ? new SSEClientTransport(url, { requestInit })
      : new StreamableHTTPClientTransport(url, { requestInit });
  const client = newClient();
  try {
    return await listWithDeadline(client, transport, connection.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  } finally {
    await client.close().catch(() => undefined);
  }
}
