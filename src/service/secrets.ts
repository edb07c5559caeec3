import { secretArgIndices } from '../core/command/secrets.js';
import { isObject, type Json, type JsonObject } from '../core/json.js';
import type { Path } from '../core/path.js';
import { compilePattern, matchesPattern, type Pattern } from '../core/pattern.js';
import { type MarkedDocument, markSecrets, type SoftSecrets, veil } from '../core/provenance.js';
import { redactValue } from '../core/redact.js';
import type { TargetRuntime } from './context.js';

/** Where a program's arguments live: a secret among them is recognised by its content (SPEC §7). */
const argumentLists = ['mcp.servers.*.args', 'nodeHost.mcp.servers.*.args'].map(compilePattern);

/** The arguments the MCP review would show redacted are secrets everywhere else too. */
export const mcpArgumentSecrets: SoftSecrets = (path: Path, list: readonly Json[]) => {
  if (!argumentLists.some((pattern) => matchesPattern(pattern, path))) return [];
  // A non-string argument (a number an agent slipped in) must not switch recognition off for the rest.
  const strings = list.map((item) => (typeof item === 'string' ? item : ''));
  return secretArgIndices(strings).filter((index) => typeof list[index] === 'string');
};

/**
 * A document as the MCP review may see it: secrets of the current document already "[redacted]"
 * (the review is built from what may be shown, never from real secrets), and a non-string
 * argument redacted by path (`{"token": …}` inside `args`), since the review prints it whole.
 */
export function reviewView(patterns: readonly Pattern[], shown: JsonObject): JsonObject {
  let result = shown;
  for (const location of ['mcp', 'nodeHost'] as const) {
    const servers = serversAt(result, location);
    if (servers === null) continue;
    for (const [name, server] of Object.entries(servers)) {
      if (!isObject(server) || !Array.isArray(server.args)) continue;
      const base: Path = location === 'mcp' ? [{ key: 'mcp' }] : [{ key: 'nodeHost' }, { key: 'mcp' }];
      const argsPath: Path = [...base, { key: 'servers' }, { key: name }, { key: 'args' }];
      const args = server.args.map((item, index) =>
        typeof item === 'string'
          ? item
          : redactValue(patterns, item, [...argsPath.slice(0, -1), { key: 'args', index }]),
      );
      result = withArgs(result, location, name, args);
    }
  }
  return result;
}

function serversAt(document: JsonObject, location: 'mcp' | 'nodeHost'): JsonObject | null {
  const mcp = location === 'mcp' ? document.mcp : isObject(document.nodeHost) ? document.nodeHost.mcp : undefined;
  return isObject(mcp) && isObject(mcp.servers) ? mcp.servers : null;
}

function withArgs(document: JsonObject, location: 'mcp' | 'nodeHost', name: string, args: Json[]): JsonObject {
  const servers = serversAt(document, location) as JsonObject;
  const server = { ...(servers[name] as JsonObject), args };
  const mcp = {
    ...((location === 'mcp' ? document.mcp : (document.nodeHost as JsonObject).mcp) as JsonObject),
    servers: { ...servers, [name]: server },
  };
  return location === 'mcp'
    ? { ...document, mcp }
    : { ...document, nodeHost: { ...(document.nodeHost as JsonObject), mcp } };
}

/** The last marked document per target: the document rarely changes between requests. */
const markedCache = new WeakMap<TargetRuntime, { hash: string; marked: MarkedDocument }>();

/** The current document with its secrets marked (provenance.ts), computed once per document hash. */
export function markedDocument(target: TargetRuntime, document: JsonObject, hash: string): MarkedDocument {
  const known = markedCache.get(target);
  if (known && known.hash === hash) return known.marked;
  const marked = markSecrets(target.policy.redactPatterns, document, mcpArgumentSecrets);
  markedCache.set(target, { hash, marked });
  return marked;
}

/** The document as `GET /v1/config` shows it: every secret, by path or by content, as "[redacted]". */
export function redactedDocument(target: TargetRuntime, document: JsonObject, hash: string): JsonObject {
  const marked = markedDocument(target, document, hash);
  return veil(marked, marked.document) as JsonObject;
}
