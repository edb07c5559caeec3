import type { AuditEntry, AuditEvent, ChainHead, Verification } from '../core/audit.js';
import type { Card } from '../core/card.js';
import { CountersignError } from '../core/errors.js';
import { verifyAuditLog } from '../store/audit-verify-parallel.js';
import type { Service, TargetRuntime } from './context.js';

type EntryFields = Partial<AuditEntry> & Pick<AuditEntry, 'kind'>;

export function auditEntry(service: Service, fields: EntryFields): AuditEntry {
  return {
    at: service.now().toISOString(),
    target: null,
    actor: null,
    proposalId: null,
    tier: null,
    ruleIds: [],
    policyHash: null,
    baseHash: null,
    targetHash: null,
    patchHash: null,
    paths: [],
    stepUp: null,
    reason: null,
    details: {},
    ...fields,
  };
}

/**
 * Runs database writes that carry an audit record. If SQLite cannot commit (read-only,
 * disk full, locked past the busy timeout) the decision fails closed with 503.
 */
export function withAudit<T>(service: Service, write: () => T): T {
  try {
    return service.db.transaction(write)();
  } catch (error) {
    if (error instanceof CountersignError) throw error;
    if ((error as { code?: string }).code?.startsWith('SQLITE_')) {
      service.log.error({ err: error }, 'audit write failed; refusing the change');
      throw new CountersignError('audit_unavailable', 'The audit log cannot be written, so nothing was changed.');
    }
    throw error;
  }
}

export function appendAudit(service: Service, fields: EntryFields): AuditEvent {
  return service.audit.append(auditEntry(service, fields));
}

/** What every proposal-related audit event says about the proposal it concerns. */
export function proposalAuditFields(target: TargetRuntime, card: Card) {
  return {
    target: card.target,
    proposalId: card.id,
    tier: card.tier,
    ruleIds: [...new Set(card.changes.flatMap((change) => (change.ruleId ? [change.ruleId] : [])))],
    policyHash: target.policyHash,
    baseHash: card.baseHash,
    targetHash: card.targetHash,
    patchHash: card.patchHash,
    paths: card.changes.map((change) => change.path),
    reason: card.reason,
  };
}

/**
 * `countersign audit verify`: the whole chain, split over `jobs` threads (by default one per
 * core, at most 4, from 100,000 events on), and against `expectHead` when given.
 */
export function verifyAudit(
  service: Service,
  options: { jobs?: number; expectHead?: ChainHead },
): Promise<Verification> {
  return verifyAuditLog(service.db.name, service.audit, options);
}
