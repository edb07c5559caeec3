import type { McpWarning, SmokeTool } from '../core/mcp-review.js';
import { inert } from '../core/text/inert.js';
import { Client, type ClientOptions } from './client.js';
import { resolveId } from './ids.js';
import { printJson, printTable } from './io.js';

/** `POST /v1/proposals/:id/smoke-test`'s answer (SPEC §7, contract). */
export type SmokeTestAnswer = {
  server: string;
  location?: string;
  tools: SmokeTool[];
  warnings: McpWarning[];
};

export type SmokeTestOptions = ClientOptions & { server?: string; allowRemote?: boolean; json?: boolean };

/** Exit codes: the result, so a script can tell "it listed its tools" from "it did not". */
export const SMOKE_EXIT = { listed: 0, failed: 1, notTested: 2 } as const;

/** Warnings that mean the server was not listed at all (as opposed to remarks about its tools). */
const FAILED = 'smoke_test_failed';
const NOT_TESTED = 'remote_not_probed';

export function smokeExitCode(answer: Pick<SmokeTestAnswer, 'warnings'>): number {
  const codes = new Set(answer.warnings.map((warning) => warning.code));
  if (codes.has(FAILED)) return SMOKE_EXIT.failed;
  if (codes.has(NOT_TESTED)) return SMOKE_EXIT.notTested;
  return SMOKE_EXIT.listed;
}

/** One line of a tool's description: they can be paragraphs, and they are the server's words. */
function excerpt(text: string, limit = 72): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return inert(line.length > limit ? `${line.slice(0, limit - 1)}…` : line);
}

function kind(tool: SmokeTool): string {
  return tool.destructive ? 'DESTRUCTIVE' : tool.readOnly ? 'read-only' : 'may change things';
}

export function renderSmokeTest(id: string, answer: SmokeTestAnswer): string[] {
  const label = answer.location === 'nodeHost' ? `nodeHost:${answer.server}` : answer.server;
  const destructive = answer.tools.filter((tool) => tool.destructive).length;
  const readOnly = answer.tools.filter((tool) => tool.readOnly).length;
  const code = smokeExitCode(answer);
  const headline =
    code === SMOKE_EXIT.listed
      ? `listed ${answer.tools.length} tool(s): ${destructive} destructive, ${readOnly} read-only`
      : code === SMOKE_EXIT.notTested
        ? 'NOT TESTED'
        : 'FAILED: the server did not list its tools';
  const lines = [`Smoke test of MCP server "${inert(label)}" (proposal ${inert(id)}): ${headline}`];
  for (const warning of answer.warnings) lines.push(`  ! ${inert(warning.code)}: ${inert(warning.message)}`);
  if (code === SMOKE_EXIT.notTested) {
    lines.push(`  To connect anyway: countersign smoke-test ${inert(id)} --server ${inert(label)} --allow-remote`);
  } else {
    lines.push(`  Kept on the card (countersign show ${inert(id)}) and in the audit log.`);
  }
  return lines;
}

export async function smokeTestCommand(typed: string, options: SmokeTestOptions): Promise<number> {
  const client = new Client(options);
  // A short id (8+ characters, as the web page shows them) works as for show and approve.
  const id = await resolveId(client, 'proposal', typed);
  const body = {
    ...(options.server === undefined ? {} : { server: options.server }),
    ...(options.allowRemote ? { allowRemote: true } : {}),
  };
  const answer = await client.request<SmokeTestAnswer>(
    'POST',
    `/v1/proposals/${encodeURIComponent(id)}/smoke-test`,
    body,
  );
  if (options.json) {
    printJson(answer);
    return smokeExitCode(answer);
  }
  const [headline, ...rest] = renderSmokeTest(id, answer);
  process.stdout.write(`${headline}\n`);
  if (answer.tools.length > 0) {
    process.stdout.write('\n');
    printTable(
      ['TOOL', 'KIND', 'DESCRIPTION'],
      answer.tools.map((tool) => [inert(tool.name), kind(tool), excerpt(tool.description)]),
    );
    process.stdout.write('\n');
  }
  process.stdout.write(`${rest.join('\n')}\n`);
  return smokeExitCode(answer);
}
