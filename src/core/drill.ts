import { z } from 'zod';
import { diffDocuments } from './diff.js';
import { deepEqual, isObject, type Json, type JsonObject } from './json.js';
import { formatPath, type Path, parsePath } from './path.js';
import { overlaps } from './rollback.js';

/*
 * Rollback drills (SPEC §11): pure rules. The service (src/service/drill.ts) builds each
 * rollback, validates it and writes it to a scratch file; what is checked, and how each
 * outcome is explained, is decided here.
 */

/** Body of `POST /v1/drill`: how many of the latest applied changes to rehearse, optionally of one target. */
export const DrillRequestSchema = z
  .object({
    last: z.number().int().min(1).max(500).default(10),
    target: z.string().min(1).max(63).optional(),
  })
  .strict();
export type DrillRequest = z.infer<typeof DrillRequestSchema>;

/** Why a change could not be restored: one code per way recovery can break. */
export const DrillCodeSchema = z.enum([
  // The proposal predates migration 004: the document it was made against was not kept.
  'base_not_kept',
  // A later change (or an outside edit) touched the same paths: the rollback would undo it too.
  'later_change',
  // The current policy refuses the rollback (a blocked path, or hard-block mode).
  'blocked',
  // The target's JSON Schema no longer accepts the old value.
  'invalid_config',
  // The rollback would exceed the policy's size limits.
  'too_large',
  // The rollback would register an MCP server whose pinned program is gone or changed.
  'executable_changed',
  // The rollback was built but did not put the touched paths back (a bug, or a document that moved under it).
  'not_restored',
  // Any other refusal while building the rollback (the message says which).
  'invalid_rollback',
]);
export type DrillCode = z.infer<typeof DrillCodeSchema>;

export const DrillChangeSchema = z.object({
  proposalId: z.string(),
  target: z.string(),
  restorable: z.boolean(),
  /** A sentence for the owner; present when not restorable. */
  reason: z.string().optional(),
  code: DrillCodeSchema.optional(),
  /** The paths the reason is about. */
  paths: z.array(z.string()).optional(),
  /** Later proposals that touched the same paths (code `later_change`). */
  laterProposalIds: z.array(z.string()).optional(),
  /** Schema issues of the rolled-back document (code `invalid_config`). */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  /** The tier the rollback would be classified as: who would have to countersign it. */
  tier: z.string().optional(),
  ms: z.number(),
});
export type DrillChange = z.infer<typeof DrillChangeSchema>;

/** SPEC §11: `{ ok, changes: [{ proposalId, restorable, reason?, ms }] }`, plus the audit event's seq. */
export const DrillReportSchema = z.object({
  ok: z.boolean(),
  changes: z.array(DrillChangeSchema),
  at: z.string(),
  seq: z.number().int().optional(),
});
export type DrillReport = z.infer<typeof DrillReportSchema>;

/** The value at a semantic path (id-keyed elements found by id), or undefined where there is none. */
export function valueAt(document: JsonObject, path: Path): Json | undefined {
  let current: Json | undefined = document;
  for (const segment of path) {
    if (!isObject(current)) return undefined;
    const container: Json | undefined = current[segment.key];
    if (segment.id === undefined && segment.index === undefined) {
      current = Object.hasOwn(current, segment.key) ? container : undefined;
      continue;
    }
    if (!Array.isArray(container)) return undefined;
    current =
      segment.index !== undefined
        ? container[segment.index]
        : container.find((item) => isObject(item) && item.id === segment.id);
  }
  return current;
}

/** The leaf paths a change from `before` to `after` touched. */
export function touchedPaths(before: JsonObject, after: JsonObject): Path[] {
  return diffDocuments(before, after).leaves.map((leaf) => leaf.path);
}

/**
 * The touched paths where `result` does not hold what `before` held (absent counts as a value):
 * empty when the rollback put back everything the change touched.
 */
export function unrestoredPaths(before: JsonObject, after: JsonObject, result: JsonObject): string[] {
  return touchedPaths(before, after)
    .filter((path) => !deepEqual(valueAt(before, path), valueAt(result, path)))
    .map(formatPath);
}

/** A later event that changed the document: an applied proposal, or an edit made outside countersign. */
export type LaterChange = { seq: number; proposalId: string | null; paths: readonly string[] };

function parsed(path: string): Path | null {
  try {
    return parsePath(path);
  } catch {
    return null;
  }
}

/**
 * Why a rollback conflicts: which later changes touched the conflicting paths. Returns the
 * proposals that did, and the seqs of outside edits (`config.drift`) that did.
 */
export function explainConflict(
  conflictPaths: readonly string[],
  later: readonly LaterChange[],
): { proposalIds: string[]; driftSeqs: number[]; reason: string } {
  const wanted = conflictPaths.map(parsed).filter((path): path is Path => path !== null);
  const proposalIds: string[] = [];
  const driftSeqs: number[] = [];
  for (const change of later) {
    const touches = change.paths.some((text) => {
      const path = parsed(text);
      return path !== null && wanted.some((conflict) => overlaps(conflict, path));
    });
    if (!touches) continue;
    if (change.proposalId === null) driftSeqs.push(change.seq);
    else if (!proposalIds.includes(change.proposalId)) proposalIds.push(change.proposalId);
  }
  const shown =
    conflictPaths.slice(0, 5).join(', ') + (conflictPaths.length > 5 ? ` (+${conflictPaths.length - 5})` : '');
  const by = [
    ...proposalIds.map((id) => `proposal ${id}`),
    ...driftSeqs.map((seq) => `an outside edit (audit event ${seq})`),
  ];
  const reason = `A later change touched the same paths (${shown})${by.length > 0 ? `: ${by.join(', ')}` : ''}; rolling this one back alone would undo it too. Roll back the later change first.`;
  return { proposalIds, driftSeqs, reason };
}

/** What the `drill.ran` audit event and `lastDrill` say about a drill. */
export function drillSummary(changes: readonly DrillChange[]): { ok: boolean; changes: number; restorable: number } {
  const restorable = changes.filter((change) => change.restorable).length;
  return { ok: restorable === changes.length, changes: changes.length, restorable };
}
