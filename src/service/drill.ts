import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Actor, Card } from '../core/card.js';
import {
  type DrillChange,
  type DrillReport,
  type DrillRequest,
  drillSummary,
  explainConflict,
  unrestoredPaths,
} from '../core/drill.js';
import { CountersignError } from '../core/errors.js';
import { documentHash } from '../core/hash.js';
import type { JsonObject } from '../core/json.js';
import { checkLimits } from '../core/limits.js';
import type { McpReview } from '../core/mcp-review.js';
import { planChange } from '../core/plan.js';
import { planRollback } from '../core/rollback.js';
import { readDocumentText, writeDocumentAtomic } from '../store/document-file.js';
import { type AppliedEvent, documentEvents, latestApplied } from '../store/history.js';
import { appendAudit, withAudit } from './audit.js';
import type { Service, TargetRuntime } from './context.js';
import { parseDocument, resolveTarget } from './document.js';
import { executableDrift, reviewMcpServers, touchesMcpServers } from './mcp.js';
import { proposalDocuments } from './proposal-documents.js';
import { markedDocument } from './secrets.js';

/*
 * Rollback drills (SPEC §11): for each of the last N applied changes, build the rollback exactly
 * as `countersign rollback` would (planRollback against the live document), validate it as
 * propose would (policy, limits, schema, pinned MCP programs), write it to a scratch file in the
 * data directory, read it back and check the touched paths hold their old values again.
 *
 * Nothing here writes the live document or the proposals table: the live document is read
 * directly (not through currentDocument, which would record drift and void proposals), no
 * proposal is made, and the scratch files are removed before the drill is audited.
 */

type Verdict = Omit<DrillChange, 'proposalId' | 'target' | 'ms'>;

function notRestorable(code: NonNullable<DrillChange['code']>, reason: string, extra: Partial<Verdict> = {}): Verdict {
  return { restorable: false, code, reason, ...extra };
}

/** How long a step took, in milliseconds to a tenth (the report is for people, not benchmarks). */
function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/**
 * The program the owner last approved for `review`'s server before `beforeSeq`: the MCP review
 * on the card of the latest applied proposal that added or changed it. Null when none did (the
 * server was there before countersign, or only ever changed by hand).
 */
function pinFor(
  service: Service,
  target: string,
  review: McpReview,
  beforeSeq: number,
): { card: Card; pin: McpReview } | null {
  for (const event of latestApplied(service.db, { limit: 500, target, beforeSeq })) {
    const card = service.proposals.get(event.proposalId)?.card;
    const pin = card?.review.mcp.find(
      (entry) =>
        entry.server === review.server &&
        (entry.location ?? 'gateway') === (review.location ?? 'gateway') &&
        entry.action !== 'remove' &&
        entry.transport === 'stdio',
    );
    if (card && pin) return { card, pin };
  }
  return null;
}

/**
 * Why the rolled-back document would start an MCP server whose program is not the one approved
 * (or is gone), or null. Only servers the rollback adds or changes are looked at.
 */
function executableProblem(
  service: Service,
  target: TargetRuntime,
  current: JsonObject,
  rolledBack: JsonObject,
  changes: ReadonlyArray<{ path: string }>,
  beforeSeq: number,
): string | null {
  if (!touchesMcpServers(changes)) return null;
  const text = JSON.stringify(rolledBack);
  for (const review of reviewMcpServers(current, rolledBack)) {
    if (review.action === 'remove' || review.transport !== 'stdio') continue;
    const pinned = pinFor(service, target.name, review, beforeSeq);
    if (pinned) {
      const drift = executableDrift({ ...pinned.card, review: { ...pinned.card.review, mcp: [pinned.pin] } }, text);
      if (drift) return `The rollback would register MCP server "${review.server}" again, but ${drift.reason}`;
    } else if (!review.exists) {
      return `The rollback would register MCP server "${review.server}" again, but its executable ${review.resolvedPath ?? review.command ?? ''} no longer exists.`;
    }
  }
  return null;
}

function drillOne(service: Service, event: AppliedEvent, scratch: string, index: number): Verdict {
  const target = service.targets.get(event.target);
  if (!target) return notRestorable('invalid_rollback', `The target "${event.target}" is no longer configured.`);
  const record = service.proposals.get(event.proposalId);
  if (!record) return notRestorable('invalid_rollback', `Proposal ${event.proposalId} is not in the database.`);
  let documents: ReturnType<typeof proposalDocuments>;
  try {
    documents = proposalDocuments(service, target, record);
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    if (error.code === 'document_not_kept') {
      return notRestorable(
        'base_not_kept',
        'The document this change was made against is no longer kept (it predates rollback support, or is older than the documents the installation keeps).',
      );
    }
    return notRestorable('invalid_rollback', error.message);
  }
  const before = documents.base.value;
  const after = documents.target.value;
  // The live file, read as is: a drill must not record drift or void proposals (see above).
  const currentText = readDocumentText(target.path);
  const current = parseDocument(currentText, target.path);
  const currentHash = documentHash(service.hashKey, current);

  const plan = planRollback(before, after, current);
  if (plan.kind === 'conflict') {
    const later = documentEvents(service.db, target.name, event.seq).map((change) => ({
      seq: change.seq,
      proposalId: change.kind === 'change.applied' ? change.proposalId : null,
      paths: change.paths,
    }));
    const explained = explainConflict(plan.paths, later);
    return notRestorable('later_change', explained.reason, {
      paths: plan.paths,
      laterProposalIds: explained.proposalIds,
    });
  }

  let rolledBack = current;
  let tier: string | undefined;
  try {
    const planned = planChange(
      target.policy,
      current,
      currentHash,
      { kind: 'replace', document: plan.document },
      { hashKey: service.hashKey, marked: markedDocument(target, current, currentHash), trusted: true },
    );
    if (planned.kind === 'change') {
      const text = `${JSON.stringify(planned.target, null, 2)}\n`;
      checkLimits(target.policy.limits, {
        baseBytes: Buffer.byteLength(currentText),
        targetBytes: Buffer.byteLength(text),
        changes: planned.changes.length,
      });
      if (planned.refusedPaths.length > 0) {
        return notRestorable(
          'blocked',
          target.policy.mode === 'hard-block'
            ? 'The policy is in hard-block mode and the rollback changes paths that are not allowlisted.'
            : 'The current policy blocks the rollback: it would change paths that are never allowed.',
          { paths: planned.refusedPaths },
        );
      }
      const issues = target.validate ? target.validate(planned.target) : [];
      if (issues.length > 0) {
        return notRestorable(
          'invalid_config',
          "The target's JSON Schema no longer accepts the old values: the rollback would be refused (invalid_config).",
          { issues, paths: [...new Set(issues.map((issue) => issue.path))] },
        );
      }
      const executable = executableProblem(service, target, current, planned.target, planned.changes, event.seq);
      if (executable) return notRestorable('executable_changed', executable);
      rolledBack = planned.target;
      tier = planned.tier;
    }
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    if (error.code === 'too_large' || error.code === 'too_many_changes')
      return notRestorable('too_large', `The rollback would exceed the policy's limits: ${error.message}`);
    return notRestorable('invalid_rollback', `The rollback would be refused (${error.code}): ${error.message}`);
  }

  // Rehearse the write itself: the same atomic write an apply uses, to a scratch file, read back.
  const file = join(scratch, `change-${index}.json`);
  writeDocumentAtomic(file, `${JSON.stringify(rolledBack, null, 2)}\n`);
  const result = parseDocument(readDocumentText(file), file);
  const missing = unrestoredPaths(before, after, result);
  if (missing.length > 0) {
    return notRestorable(
      'not_restored',
      'The rollback did not put back the values these paths held before the change.',
      {
        paths: missing,
      },
    );
  }
  return { restorable: true, ...(tier ? { tier } : {}) };
}

/**
 * Runs a drill over the last `request.last` applied changes (newest first) and audits it as
 * `drill.ran` with `{ ok, changes, restorable }` in its details (what `lastDrill` reads). The
 * audit is written last and fails closed: a drill that cannot be recorded reports 503.
 */
export function runDrill(service: Service, actor: Actor | null, request: DrillRequest): DrillReport {
  const targetName = request.target === undefined ? undefined : resolveTarget(service, request.target).name;
  const events = latestApplied(service.db, { limit: request.last, target: targetName });
  const changes: DrillChange[] = [];
  // Inside the data directory (0700): a rolled-back document holds the document's secrets.
  const scratch = mkdtempSync(join(service.dataDir, '.drill-'));
  try {
    events.forEach((event, index) => {
      const started = performance.now();
      const verdict = drillOne(service, event, scratch, index);
      changes.push({ proposalId: event.proposalId, target: event.target, ...verdict, ms: elapsed(started) });
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const summary = drillSummary(changes);
  const recorded = withAudit(service, () =>
    appendAudit(service, {
      kind: 'drill.ran',
      actor,
      target: targetName ?? null,
      paths: [...new Set(changes.flatMap((change) => (change.restorable ? [] : (change.paths ?? []))))],
      reason: summary.ok
        ? null
        : `${summary.changes - summary.restorable} of ${summary.changes} changes not restorable`,
      details: {
        ...summary,
        last: request.last,
        results: changes.map((change) => ({
          proposalId: change.proposalId,
          target: change.target,
          restorable: change.restorable,
          ...(change.code ? { code: change.code } : {}),
          ms: change.ms,
        })),
      },
    }),
  );
  return { ok: summary.ok, changes, at: recorded.at, seq: recorded.seq };
}
