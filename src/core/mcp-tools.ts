import type { McpWarning, SmokeTool } from './mcp-review.js';

/**
 * Which of a server's tools can change things. A server describes its tools with annotations
 * (MCP `readOnlyHint`, `destructiveHint`), which come first; tools without them are judged by
 * the verbs in their names. Annotations are the server's own claim, so a tool that claims to be
 * read-only while its name says otherwise is kept as the server says but called out.
 */

export type ListedTool = {
  name: string;
  description?: string | undefined;
  annotations?: { readOnlyHint?: boolean | undefined; destructiveHint?: boolean | undefined } | undefined;
};

const destructiveVerbs = new Set([
  'write',
  'delete',
  'del',
  'remove',
  'rm',
  'move',
  'mv',
  'rename',
  'exec',
  'execute',
  'run',
  'eval',
  'shell',
  'spawn',
  'launch',
  'invoke',
  'trigger',
  'send',
  'post',
  'publish',
  'email',
  'sms',
  'message',
  'reply',
  'tweet',
  'pay',
  'payment',
  'charge',
  'refund',
  'transfer',
  'withdraw',
  'buy',
  'sell',
  'order',
  'purchase',
  'create',
  'update',
  'edit',
  'modify',
  'patch',
  'put',
  'set',
  'insert',
  'upsert',
  'append',
  'overwrite',
  'replace',
  'upload',
  'deploy',
  'push',
  'merge',
  'commit',
  'reset',
  'revert',
  'restart',
  'stop',
  'kill',
  'terminate',
  'drop',
  'truncate',
  'destroy',
  'purge',
  'wipe',
  'erase',
  'clear',
  'flush',
  'format',
  'install',
  'uninstall',
  'grant',
  'revoke',
  'invite',
  'approve',
  'submit',
  'close',
  'archive',
  'ban',
  'chmod',
  'chown',
  'migrate',
  'apply',
]);

const readVerbs = new Set([
  'get',
  'list',
  'read',
  'search',
  'find',
  'query',
  'fetch',
  'show',
  'describe',
  'view',
  'lookup',
  'count',
  'stat',
  'stats',
  'info',
  'inspect',
  'check',
  'status',
  'tree',
  'ls',
  'cat',
  'head',
  'tail',
  'peek',
  'preview',
  'explain',
  'diff',
  'compare',
  'browse',
  'echo',
  'ping',
  'whoami',
  'health',
  'version',
  'help',
]);

/** `moveFile`, `move_file`, `move-file`, `files.move` → ["move", "file"]. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

export function classifyByName(name: string): { destructive: boolean; readOnly: boolean } {
  const words = nameWords(name);
  if (words.some((word) => destructiveVerbs.has(word))) return { destructive: true, readOnly: false };
  if (words.some((word) => readVerbs.has(word))) return { destructive: false, readOnly: true };
  return { destructive: false, readOnly: false };
}

const descriptionLimit = 500;

/**
 * Annotations first: `readOnlyHint: true` is read-only; otherwise an explicit `destructiveHint`
 * decides, and an explicit `readOnlyHint: false` alone means destructive (the MCP default).
 * Without annotations, the name decides.
 */
export function classifyTool(tool: ListedTool): { tool: SmokeTool; warning: McpWarning | null } {
  const hints = tool.annotations ?? {};
  const byName = classifyByName(tool.name);
  let destructive: boolean;
  let readOnly: boolean;
  let warning: McpWarning | null = null;
  if (hints.readOnlyHint === true) {
    destructive = false;
    readOnly = true;
    if (byName.destructive) {
      warning = {
        code: 'annotation_conflict',
        message: `The server says "${tool.name}" is read-only, but its name says it changes things; annotations are the server's own claim.`,
      };
    }
  } else if (typeof hints.destructiveHint === 'boolean') {
    destructive = hints.destructiveHint;
    readOnly = false;
  } else if (hints.readOnlyHint === false) {
    destructive = true;
    readOnly = false;
  } else {
    ({ destructive, readOnly } = byName);
  }
  const description = (tool.description ?? '').replace(/\s+/g, ' ').trim();
  return {
    tool: {
      name: tool.name,
      description:
        description.length > descriptionLimit ? `${description.slice(0, descriptionLimit - 1)}…` : description,
      destructive,
      readOnly,
    },
    warning,
  };
}

export function classifyTools(tools: readonly ListedTool[]): { tools: SmokeTool[]; warnings: McpWarning[] } {
  const classified = tools.map(classifyTool);
  return {
    tools: classified.map((entry) => entry.tool),
    warnings: classified.flatMap((entry) => (entry.warning ? [entry.warning] : [])),
  };
}
