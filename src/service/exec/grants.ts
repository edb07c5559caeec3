import { fail } from '../../core/errors.js';
import type { ExecGrant } from '../../store/exec-requests.js';
import type { Credential } from '../../store/tokens.js';
import { appendAudit, withAudit } from '../audit.js';
import type { Service } from '../context.js';
import { actorOf } from '../propose.js';
import { execTarget } from './records.js';

/** Standing `allow-for` grants (SPEC §9): owners list them and take them back. */

function requireOwner(caller: Credential): void {
  if (caller.role !== 'owner') fail('forbidden', 'Only an owner can see or revoke exec grants.');
}

/** The grants still standing: not revoked, not expired. */
export function listGrants(service: Service, caller: Credential): ExecGrant[] {
  requireOwner(caller);
  return service.execGrants.list(service.now());
}

/**
 * Revokes a standing grant at once; later requests it would have covered are asked about again.
 * A grant that is unknown, already revoked or already expired is 404: there is nothing standing
 * to revoke.
 */
export function revokeGrant(service: Service, caller: Credential, id: string): ExecGrant {
  requireOwner(caller);
  const now = service.now();
  const grant = service.execGrants.get(id);
  if (!grant || grant.revokedAt !== null || Date.parse(grant.expiresAt) <= now.getTime()) {
    fail('not_found', `There is no standing exec grant ${id}.`);
  }
  withAudit(service, () => {
    if (!service.execGrants.revoke(id, now)) fail('not_found', `There is no standing exec grant ${id}.`);
    appendAudit(service, {
      kind: 'exec.grant_revoked',
      target: execTarget(service)?.name ?? null,
      actor: actorOf(caller),
      reason: `Revoked by owner "${caller.name}".`,
      details: {
        grantId: grant.id,
        agentId: grant.agentId,
        pattern: grant.pattern,
        requestId: grant.requestId,
        expiresAt: grant.expiresAt,
      },
    });
  });
  return service.execGrants.get(id) as ExecGrant;
}
