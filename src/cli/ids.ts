import { type IdKind, type IdMatch, minIdPrefix, uuidPattern } from '../core/id-prefix.js';
import { inert } from '../core/text/inert.js';
import type { Client } from './client.js';
import { CliError } from './io.js';

const nouns: Record<IdKind, string> = { proposal: 'proposal', exec_request: 'exec request', exec_grant: 'exec grant' };

/**
 * The whole id an owner meant: a full UUID as it is; a short id (any prefix of 8 or more of its
 * characters, as the web page and History show them) looked up on the server (`GET /v1/ids`).
 * Fails with `id_too_short` under 8 characters, `not_found` when nothing matches and
 * `ambiguous_id` (listing the matching ids in `error.matches`) when several do.
 * Text that could not be part of an id goes to the server unchanged, to be refused there.
 */
export async function resolveId(client: Client, kind: IdKind, typed: string): Promise<string> {
  const text = typed.trim().toLowerCase();
  if (uuidPattern.test(text) || !/^[0-9a-f-]+$/.test(text)) return typed;
  const noun = nouns[kind];
  if (text.length < minIdPrefix) {
    throw new CliError(
      `"${inert(typed)}" is too short to name a ${noun}: give at least ${minIdPrefix} characters of its id (as the web page shows them), or the whole id.`,
      1,
      'id_too_short',
    );
  }
  const { matches, truncated } = await client.request<{ matches: IdMatch[]; truncated: boolean }>(
    'GET',
    `/v1/ids?kind=${kind}&prefix=${encodeURIComponent(text)}`,
  );
  const [only] = matches;
  if (matches.length === 1 && only) return only.id;
  if (matches.length === 0) {
    throw new CliError(`No ${noun} id starts with "${inert(text)}".`, 1, 'not_found');
  }
  const listed = matches.map((match) => `  ${inert(match.id)}  ${inert(match.status)}  ${inert(match.createdAt)}`);
  throw new CliError(
    `"${inert(text)}" matches ${truncated ? 'more than ' : ''}${matches.length} ${noun}s; give more characters:\n${listed.join('\n')}${truncated ? '\n  …' : ''}`,
    1,
    'ambiguous_id',
    { matches, truncated },
  );
}
