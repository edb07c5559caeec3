import { type Actor, type Card, type ProposalStatus, resolution, type StepUp } from '../core/card.js';
import { CountersignError, fail } from '../core/errors.js';
import { documentHash } from '../core/hash.js';
import { readDocumentText, removeStaleTemporaries, writeDocumentAtomic } from '../store/document-file.js';
import type { ProposalRecord } from '../store/proposals.js';
import { appendAudit, proposalAuditFields, withAudit } from './audit.js';
import type { Service, TargetRuntime } from './context.js';
import { type CurrentDocument, currentDocument, parseDocument, rememberDocument } from './document.js';
import { voidAsStale } from './lifecycle.js';
import { executableDrift, refuseExecutableChanged } from './mcp.js';
import { proposalTarget } from './proposal-documents.js';
import { afterBaseMoved } from './rebase.js';

/** Why an apply is allowed, carried from the decision into the audit record (and through a crash). */
export type ApplyReason = {
  actor: Actor;
  approvedBy: Actor | null;
  stepUp: StepUp;
  why: string;
};

export type Applied = { hash: string; restartRequired: boolean; proposal: Card };

function refuseStale(service: Service, target: TargetRuntime, record: ProposalRecord, currentHash: string): never {
  voidAsStale(
    service,
    target,
    record,
    `The document changed since the proposal was made (now ${currentHash}).`,
    { currentHash },
    new CountersignError(
      'stale_base',
      'The document changed after this proposal was made; propose again against the current document.',
      { currentHash },
    ),
  );
}

/**
 * The only code that writes a managed document. Order matters for crash safety: the intent is
 * committed first, then the document is replaced atomically, then the completion and its audit
 * event commit together. Start-up reconciliation finishes or fails whatever a crash interrupted.
 */
export function applyProposal(
  service: Service,
  target: TargetRuntime,
  record: ProposalRecord,
  from: readonly ProposalStatus[],
  reason: ApplyReason,
): Applied {
  const { card } = record;
  const current = currentDocument(service, target);
  if (current.hash !== card.baseHash) refuseStale(service, target, record, current.hash);
  // The document to write, rebuilt from the base (the file as it is now: its hash is the base
  // hash) and the stored operations, on a fresh parse so that nothing shares the current value.
  // A rebuilt document that is not the card's target is refused before anything is written.
  const next = proposalTarget(service, record, parseDocument(current.text, target.path));
  // The approval covered the reviewed programs byte for byte; a swapped one voids it (SPEC §4, §7).
  const drift = executableDrift(card, next.text);
  if (drift) refuseExecutableChanged(service, target, record, drift);

  // The hash of what is written: the card's target hash, unless the card shows a blinded one.
  const written = next.hash;
  withAudit(service, () => {
    service.db
      .prepare(
        'INSERT INTO apply_intents (proposal_id, target, base_hash, target_hash, context, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(card.id, target.name, card.baseHash, written, JSON.stringify({ from, reason }), service.now().toISOString());
  });
  // Under group commit the intent is committed but not yet on disk: it must be before the
  // document is (a crash in between is then reconciled, never a document the log knows nothing of).
  try {
    service.durability.syncNow();
  } catch (error) {
    markFailed(service, target, card, 'The apply intent could not be made durable.');
    throw error;
  }

  try {
    writeDocumentAtomic(target.path, next.text);
  } catch (error) {
    service.log.error({ err: error, proposal: card.id }, 'document write failed');
    markFailed(service, target, card, `The document could not be written: ${(error as Error).message}`);
    throw new CountersignError('internal', 'The document could not be written; nothing was changed.');
  }

  try {
    completeApply(service, target, record, from, reason, next);
  } catch (error) {
    // The change is on disk but not in the audit log: put the old document back, fail closed.
    writeDocumentAtomic(target.path, current.text);
    throw error;
  }
  const applied = service.proposals.get(card.id) as ProposalRecord;
  // Events go to chat bridges and webhooks: they carry the public card (SPEC §4).
  service.events.emit('proposal.resolved', applied.publicCard);
  service.events.emit('change.applied', { target: target.name, hash: written, proposal: applied.publicCard });
  afterBaseMoved(service, target, next, { cause: 'applied', applied: record.card });
  return { hash: written, restartRequired: card.restartRequired, proposal: applied.card };
}

export function completeApply(
  service: Service,
  target: TargetRuntime,
  record: ProposalRecord,
  from: readonly ProposalStatus[],
  reason: ApplyReason,
  /** The document written and its hash, computed once by the caller (or read back by reconciliation). */
  document: { text: string; hash: string },
  details: Record<string, string | boolean> = {},
): void {
  const { card } = record;
  const written = document.hash;
  withAudit(service, () => {
    service.db.prepare('DELETE FROM apply_intents WHERE proposal_id = ?').run(card.id);
    const moved = service.proposals.transition(
      card.id,
      from,
      'applied',
      resolution('applied', service.now(), {
        by: reason.approvedBy ?? reason.actor,
        stepUp: reason.stepUp,
        hash: written,
        reason: reason.why,
      }),
      service.now(),
    );
    if (!moved) fail('not_pending', 'This proposal was already resolved.');
    rememberDocument(service, target.name, written, document.text);
    appendAudit(service, {
      kind: 'change.applied',
      ...proposalAuditFields(target, card),
      targetHash: written,
      actor: reason.actor,
      stepUp: reason.stepUp,
      details: {
        why: reason.why,
        approvedBy: reason.approvedBy,
        requestedBy: card.requestedBy,
        restartRequired: card.restartRequired,
        ...details,
      },
    });
  });
}

export function markFailed(service: Service, target: TargetRuntime, card: Card, why: string): void {
  try {
    withAudit(service, () => {
      service.db.prepare('DELETE FROM apply_intents WHERE proposal_id = ?').run(card.id);
      service.proposals.transition(
        card.id,
        ['pending', 'approved'],
        'failed',
        resolution('failed', service.now(), { reason: why }),
        service.now(),
      );
      appendAudit(service, { kind: 'change.failed', ...proposalAuditFields(target, card), details: { why } });
    });
  } catch (error) {
    service.log.error({ err: error, proposal: card.id }, 'could not record the failed apply');
  }
}

type IntentRow = { proposal_id: string; target: string; target_hash: string; base_hash: string; context: string };

/**
 * Start-up: an apply interrupted between its intent and its completion is finished if the new
 * document made it to disk, and marked failed if the old one is still there.
 */
export function reconcileIntents(service: Service): Array<{ proposalId: string; outcome: 'completed' | 'failed' }> {
  for (const target of service.targets.values()) {
    for (const name of removeStaleTemporaries(target.path))
      service.log.warn({ file: name }, 'removed a temporary file left by a crash');
  }
  const rows = service.db.prepare('SELECT * FROM apply_intents ORDER BY created_at').all() as IntentRow[];
  const outcomes: Array<{ proposalId: string; outcome: 'completed' | 'failed' }> = [];
  for (const row of rows) {
    const target = service.targets.get(row.target);
    const record = service.proposals.get(row.proposal_id);
    if (!target || !record) {
      service.db.prepare('DELETE FROM apply_intents WHERE proposal_id = ?').run(row.proposal_id);
      continue;
    }
    const context = JSON.parse(row.context) as { from: ProposalStatus[]; reason: ApplyReason };
    const current = currentOf(service, target);
    if (current?.hash === row.target_hash) {
      // The file on disk is the document the intent named by hash: remembered as it is.
      completeApply(service, target, record, context.from, context.reason, current, { recovered: true });
      afterBaseMoved(service, target, current, { cause: 'applied', applied: record.card });
      outcomes.push({ proposalId: row.proposal_id, outcome: 'completed' });
    } else {
      markFailed(service, target, record.card, 'The service stopped before the document was replaced.');
      outcomes.push({ proposalId: row.proposal_id, outcome: 'failed' });
    }
  }
  return outcomes;
}

/** The file as it is, with its hash, without recording drift: reconciliation must look before judging. */
function currentOf(service: Service, target: TargetRuntime): CurrentDocument | null {
  try {
    const text = readDocumentText(target.path);
    const value = parseDocument(text, target.path);
    return { text, value, hash: documentHash(service.hashKey, value) };
  } catch {
    return null;
  }
}
