import type { Change } from './card.js';
import { diffDocuments } from './diff.js';
import { fail } from './errors.js';
import { documentHash } from './hash.js';
import type { JsonObject } from './json.js';
import type { Operation } from './operations.js';
import { applyPatchForm, type PatchForm } from './patch.js';
import { formatPath } from './path.js';
import { type CompiledPolicy, classify, higherTier, type Tier } from './policy.js';
import { findHiddenString, hiddenStringsAmong, REDACTED, redactValue, restoreRedacted, stringsIn } from './redact.js';

/** Everything the decision needs, computed without I/O from the current document and a patch. */
export type Plan = {
  target: JsonObject;
  baseHash: string;
  targetHash: string;
  patchHash: string;
  tier: Tier;
  changes: Change[];
  operations: Operation[];
  restartRequired: boolean;
  review: 'mcp' | null;
  refusedPaths: string[];
  ruleIds: string[];
};

export type PlanResult = { kind: 'unchanged' } | ({ kind: 'change' } & Plan);

export function planChange(policy: CompiledPolicy, base: JsonObject, baseHash: string, form: PatchForm): PlanResult {
  const redact = policy.redactPatterns;
  const target = restoreRedacted(redact, base, applyPatchForm(base, form));
  const diff = diffDocuments(base, target);
  if (diff.leaves.length === 0) return { kind: 'unchanged' };

  // Operations can carry a secret to a path that is not redacted without anyone seeing it:
  // `copy`/`move` out of a token, renaming the id an `[id=…]` redact pattern names, or making
  // an id-keyed list plain. The card, the audit and GET /v1/config would then show it, so any
  // change that would show a string the base keeps only at redacted paths is refused.
  // Only strings the change writes can expose anything, so only those are looked for in the base.
  const written = new Set<string>();
  for (const leaf of diff.leaves) if (leaf.after !== undefined) stringsIn(leaf.after, written);
  const hidden = hiddenStringsAmong(redact, base, written);
  for (const leaf of diff.leaves) {
    const exposed = leaf.after === undefined ? null : findHiddenString(redact, leaf.after, leaf.path, hidden);
    if (exposed) {
      // The secret may be an id on that very path; the message must not carry it either.
      const path = formatPath(
        exposed.map((s) => (s.id !== undefined && hidden.has(s.id) ? { ...s, id: REDACTED } : s)),
      );
      fail('invalid_patch', `${path} would show the value of a redacted setting at a path that is not redacted.`, {
        path,
      });
    }
  }

  let tier: Tier = 'allowlisted';
  let restartRequired = false;
  let review: 'mcp' | null = null;
  const ruleIds = new Set<string>();
  const changes = diff.leaves.map((leaf): Change => {
    const decision = classify(policy, leaf);
    tier = higherTier(tier, decision.tier);
    restartRequired ||= decision.restart;
    review ??= decision.review;
    if (decision.ruleId) ruleIds.add(decision.ruleId);
    const change: Change = {
      path: formatPath(leaf.path),
      op: leaf.op,
      tier: decision.tier,
      ruleId: decision.ruleId,
      explain: decision.explain,
      restart: decision.restart,
    };
    if (leaf.before !== undefined) change.before = redactValue(redact, leaf.before, leaf.path);
    if (leaf.after !== undefined) change.after = redactValue(redact, leaf.after, leaf.path);
    return change;
  });

  const refusedPaths = changes
    .filter((change) => change.tier === 'blocked' || (policy.mode === 'hard-block' && change.tier !== 'allowlisted'))
    .map((change) => change.path);

  return {
    kind: 'change',
    target,
    baseHash,
    targetHash: documentHash(target),
    patchHash: documentHash(diff.operations.map((placed) => placed.operation)),
    tier,
    changes,
    operations: diff.operations.map(({ operation, at }) =>
      'value' in operation ? { ...operation, value: redactValue(redact, operation.value, at) } : operation,
    ),
    restartRequired,
    review,
    refusedPaths,
    ruleIds: [...ruleIds],
  };
}
