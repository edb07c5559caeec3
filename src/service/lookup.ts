import type { IdKind, IdMatch } from '../core/id-prefix.js';
import { maxIdMatches } from '../core/id-prefix.js';
import { idsWithPrefix } from '../store/id-prefix.js';
import type { Credential } from '../store/tokens.js';
import type { Service } from './context.js';
import { requireOwner } from './queries.js';

/**
 * `GET /v1/ids`: the ids of one kind that start with a prefix, for the CLI's short ids.
 * Owners only: an owner sees every proposal and request anyway, while an agent must not learn
 * the ids (or statuses) of other agents' requests by guessing prefixes.
 * One more than `maxIdMatches` is read so the answer can say the list was cut.
 */
export function lookupIds(
  service: Service,
  caller: Credential,
  kind: IdKind,
  prefix: string,
): { matches: IdMatch[]; truncated: boolean } {
  requireOwner(caller);
  const rows = idsWithPrefix(service.db, kind, prefix, maxIdMatches + 1);
  return { matches: rows.slice(0, maxIdMatches), truncated: rows.length > maxIdMatches };
}
