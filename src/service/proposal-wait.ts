import type { Card } from '../core/card.js';
import type { Credential } from '../store/tokens.js';
import type { Service } from './context.js';
import { waitUntilResolved } from './long-poll.js';
import { getProposal } from './queries.js';

/**
 * `GET /v1/proposals/:id?wait=S` (as the exec requests' long poll): answers at once unless the
 * proposal is pending; then as soon as it is resolved (a `proposal.resolved` event), it expires,
 * the client goes away, or `wait` seconds run out — by timers and events, never by polling. The
 * same visibility as without `wait`: another agent's proposal is `not_found` before any waiting.
 */
export async function waitForProposal(
  service: Service,
  caller: Credential,
  id: string,
  waitSeconds = 0,
  signal?: AbortSignal,
): Promise<Card> {
  const first = getProposal(service, caller, id);
  if (waitSeconds <= 0 || first.status !== 'pending' || signal?.aborted) return first;
  await waitUntilResolved(service, 'proposal.resolved', id, waitSeconds, first.expiresAt, signal);
  return getProposal(service, caller, id);
}
