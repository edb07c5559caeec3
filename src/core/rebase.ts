import { diffDocuments, type Leaf } from './diff.js';
import { CountersignError } from './errors.js';
import { canonical } from './hash.js';
import type { JsonObject } from './json.js';
import { applyOperations } from './patch.js';
import type { Path, Segment } from './path.js';
import type { Tier } from './policy.js';

/**
 * SPEC §4 / issue 10 item 11: when the document moves under a pending proposal, the proposal is
 * usually void (`stale`). Voiding it whenever anything moved would let an agent turn every owner
 * approval into `stale_base` by applying an allowlisted change just before it. So a proposal is
 * carried over to the new base (rebased) when, and only when, what moved is allowlisted changes
 * the service itself applied, none of them at or around a path the proposal changes or reads.
 * Anything else — an outside edit, a change an owner approved, a shared path — voids it.
 */

/** One leaf that differs between the proposal's base and the current document. */
export type InterveningChange = { path: Path; tier: Tier };

export type RebaseInput = {
  /** How the base moved: an apply through the service, or an edit made outside it (drift). */
  cause: 'applied' | 'outside';
  /** The paths the proposal changes, and the paths it copies values from. */
  proposalPaths: readonly Path[];
  /** The leaves that moved under it, each with the tier of the change that carried it. */
  intervening: readonly InterveningChange[];
};

export type StaleReason = 'outside_edit' | 'needs_approval' | 'same_path' | 'no_change';

export type RebaseVerdict = { rebase: true } | { rebase: false; reason: StaleReason; paths: Path[] };

/**
 * Two segments may name the same place unless they are provably different: same key and the
 * same selector, or one of them names the array as a whole (no selector), or the selectors are
 * of different kinds (an id and an index could be the same element). Erring this way only
 * turns a rebase into `stale`, never the reverse.
 */
function segmentsMeet(a: Segment, b: Segment): boolean {
  if (a.key !== b.key) return false;
  const aSelected = a.id !== undefined || a.index !== undefined;
  const bSelected = b.id !== undefined || b.index !== undefined;
  if (!aSelected || !bSelected) return true;
  if (a.id !== undefined && b.id !== undefined) return a.id === b.id;
  if (a.index !== undefined && b.index !== undefined) return a.index === b.index;
  return true;
}

/** One path is inside (or is) the other: a change at either touches the other. */
export function pathsMeet(a: Path, b: Path): boolean {
  const shared = Math.min(a.length, b.length);
  for (let index = 0; index < shared; index++) {
    if (!segmentsMeet(a[index] as Segment, b[index] as Segment)) return false;
  }
  return true;
}

/** The rule itself: rebase only over allowlisted, service-applied changes at other paths. */
export function rebaseVerdict(input: RebaseInput): RebaseVerdict {
  if (input.cause === 'outside') {
    return { rebase: false, reason: 'outside_edit', paths: input.intervening.map((change) => change.path) };
  }
  if (input.proposalPaths.length === 0) return { rebase: false, reason: 'no_change', paths: [] };
  const approved = input.intervening.filter((change) => change.tier !== 'allowlisted');
  if (approved.length > 0) return { rebase: false, reason: 'needs_approval', paths: approved.map((c) => c.path) };
  const shared = input.intervening.filter((change) => input.proposalPaths.some((path) => pathsMeet(path, change.path)));
  if (shared.length > 0) return { rebase: false, reason: 'same_path', paths: shared.map((change) => change.path) };
  return { rebase: true };
}

function leafKey(leaf: Leaf): string {
  return canonical([leaf.path, leaf.op, leaf.before ?? null, 'before' in leaf, leaf.after ?? null, 'after' in leaf]);
}

/** The same leaves, in any order. */
export function sameLeaves(a: readonly Leaf[], b: readonly Leaf[]): boolean {
  if (a.length !== b.length) return false;
  const left = a.map(leafKey).sort();
  const right = b.map(leafKey).sort();
  return left.every((key, index) => key === right[index]);
}

/**
 * The proposal's change (`base` → `target`) carried over to `current`: its RFC 6902 operations
 * applied to the current document. Accepted only if the result differs from `current` by exactly
 * the proposal's leaves (what the owner reviews is what they approve) and from `target` by
 * exactly the intervening leaves (nothing that moved is lost). Null when it does not carry over.
 */
export function replayChange(base: JsonObject, target: JsonObject, current: JsonObject): JsonObject | null {
  const change = diffDocuments(base, target);
  let result: unknown;
  try {
    result = applyOperations(
      current,
      change.operations.map((placed) => placed.operation),
    );
  } catch (error) {
    if (error instanceof CountersignError) return null;
    throw error;
  }
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return null;
  const rebased = result as JsonObject;
  if (!sameLeaves(diffDocuments(current, rebased).leaves, change.leaves)) return null;
  if (!sameLeaves(diffDocuments(target, rebased).leaves, diffDocuments(base, current).leaves)) return null;
  return rebased;
}
