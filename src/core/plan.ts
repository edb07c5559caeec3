import fastJsonPatch from 'fast-json-patch';
import type { Change } from './card.js';
import { diffDocuments, type Leaf, type PlacedOperation } from './diff.js';
import { fail } from './errors.js';
import { documentHash, type HashKey } from './hash.js';
import { identityLeaves } from './identity.js';
import { isIdKeyed, isObject, type Json, type JsonObject } from './json.js';
import { type NewKey, newKeysOf } from './new-keys.js';
import type { Operation } from './operations.js';
import { applyPatchForm, type PatchForm } from './patch.js';
import { child, element, formatPath, type Path } from './path.js';
import { type CompiledPolicy, classify, higherTier, type Tier, tierRank } from './policy.js';
import {
  containsMarker,
  formatVeiledPath,
  isMarker,
  type MarkedDocument,
  markSecrets,
  movedSecrets,
  type Placement,
  remarkUnchanged,
  type SoftSecrets,
  softContextChanged,
  unmark,
  veil,
} from './provenance.js';
import { isRedactedPath, isUnderRedactedPath, REDACTED, redactValue, restoreRedacted } from './redact.js';

/** Everything the decision needs, computed without I/O from the current document and a patch. */
export type Plan = {
  target: JsonObject;
  baseHash: string;
  targetHash: string;
  patchHash: string;
  tier: Tier;
  /** The owner's view: document secrets veiled, values the proposer wrote shown as written. */
  changes: Change[];
  operations: Operation[];
  /**
   * The exact RFC 6902 operations that turn the base into `target`, real values included (the
   * card's `operations` veil the document's secrets, so they cannot rebuild it). What the
   * proposal stores instead of a second copy of the document; `patchHash` is their hash.
   */
  writeOperations: Operation[];
  /** The same with every value at a redacted place veiled: for chat cards, events, webhooks, logs. */
  publicChanges: Change[];
  publicOperations: Operation[];
  /** The proposed document with every secret of the current one shown as "[redacted]": what reviews are built from. */
  shownTarget: JsonObject;
  /** Redacted paths whose current secret this change copies or moves elsewhere. */
  secretSources: string[];
  /** Keys the change adds that the document did not have there (a typo shows up here). */
  newKeys: NewKey[];
  restartRequired: boolean;
  review: 'mcp' | null;
  refusedPaths: string[];
  ruleIds: string[];
};

export type PlanResult = { kind: 'unchanged' } | ({ kind: 'change' } & Plan);

export type PlanOptions = {
  /** Keys the hashes (SPEC §1). */
  hashKey: HashKey;
  /** Secrets recognised by content rather than path (MCP server arguments). */
  softSecrets?: SoftSecrets;
  /**
   * The proposed document comes from the service itself (a rollback to a document it wrote),
   * not from the proposer: its values at redacted paths are secrets, not the proposer's words.
   */
  trusted?: boolean;
  /** The document's secrets marked once per base: a cache the caller may keep (see `markSecrets`). */
  marked?: MarkedDocument;
};

export function planChange(
  policy: CompiledPolicy,
  base: JsonObject,
  baseHash: string,
  form: PatchForm,
  options: PlanOptions,
): PlanResult {
  const redact = policy.redactPatterns;
  const marked = options.marked ?? markSecrets(redact, base, options.softSecrets);
  const isSecret = (value: Json | undefined) => isMarker(marked, value);
  const veiled = (value: Json) => veil(marked, value);

  let proposed = applyMarkedForm(marked, form);
  if (options.trusted) proposed = remarkUnchanged(redact, marked, proposed);
  const target = restoreRedacted(redact, marked.document, proposed, isSecret, veiled);

  // A secret of the document may only travel to a place that is redacted too, whatever its
  // value: the refusal names paths, never values, so it answers every guess the same way.
  const moved = movedSecrets(marked, target);
  for (const { path, secret } of moved) {
    if (!isRedactedPath(redact, path) && !options.trusted) {
      const to = formatVeiledPath(marked, path);
      fail(
        'invalid_patch',
        `${to} would receive the value of the redacted setting ${formatVeiledPath(marked, secret.path)}, and ${to} is not redacted. A secret can only be copied or moved to a redacted place.`,
        { path: to, from: formatVeiledPath(marked, secret.path), secretRefusal: 'secret_exposure' },
      );
    }
  }

  const unrecognised = options.trusted ? null : softContextChanged(marked, target);
  if (unrecognised) {
    const at = formatVeiledPath(marked, unrecognised);
    fail(
      'invalid_patch',
      `${at} is a redacted argument recognised by the one before it; that one must stay as it is, or the secret would no longer be recognised and would show. Send the argument's value yourself to change both.`,
      { path: at, secretRefusal: 'secret_context' },
    );
  }

  const diff = diffDocuments(marked.document, target);
  const leaves = [...diff.leaves, ...identityLeaves(policy, marked.document, target, diff.leaves)];
  if (leaves.length === 0) return { kind: 'unchanged' };

  let tier: Tier = 'allowlisted';
  let restartRequired = false;
  let review: 'mcp' | null = null;
  const ruleIds = new Set<string>();
  const secretSources = new Set<string>();
  let blind = false;
  const changes: Change[] = [];
  const publicChanges: Change[] = [];
  for (const leaf of leaves) {
    const decision = classify(policy, leaf);
    let changeTier = decision.tier;
    let ruleId = decision.ruleId;
    let explain = decision.explain;
    const from = sourceOf(moved, leaf);
    if (from) {
      // A copied secret is at least as sensitive as the setting it came from (judged by path, never value).
      const source = classify(policy, { path: from.secret.path, op: 'remove' });
      secretSources.add(formatPath(from.secret.path));
      if (higherTier(changeTier, source.tier) !== changeTier) {
        changeTier = source.tier;
        ruleId = source.ruleId;
        explain = `Copies the secret at ${formatPath(from.secret.path)} here. ${source.explain}`;
      }
    }
    const secretWritten = !options.trusted && writesSecret(redact, marked, leaf);
    if (secretWritten && tierRank(changeTier) < tierRank('protected')) {
      // The proposer writing a secret always takes an owner: applied at once, the new document's
      // hash would tell the agent whether what it wrote equals the secret that was there.
      changeTier = 'protected';
      explain = `Writes a value at a redacted setting, which always needs an owner. ${explain}`;
    }
    blind ||= secretWritten;
    tier = higherTier(tier, changeTier);
    restartRequired ||= decision.restart;
    review ??= decision.review;
    if (ruleId) ruleIds.add(ruleId);
    const change: Change = {
      path: formatVeiledPath(marked, leaf.path),
      op: leaf.op,
      tier: changeTier,
      ruleId,
      explain,
      restart: decision.restart,
    };
    if (from) change.from = formatPath(from.secret.path);
    const shown = { ...change };
    if (leaf.before !== undefined) {
      change.before = veiled(leaf.before);
      shown.before = publicValue(redact, marked, leaf.before, leaf.path);
    }
    if (leaf.after !== undefined) {
      change.after = veiled(leaf.after);
      shown.after = publicValue(redact, marked, leaf.after, leaf.path);
    }
    if (options.trusted) {
      changes.push(shown);
    } else {
      changes.push(change);
    }
    publicChanges.push(shown);
  }

  const realOperations = diff.operations.map((placed) => realOperation(marked, placed.operation));
  const publicOperations = diff.operations.map((placed) => publicOperation(redact, marked, placed));
  const realTarget = unmark(marked, target) as JsonObject;
  const targetHash = documentHash(options.hashKey, realTarget);
  const patchHash = documentHash(options.hashKey, realOperations);
  const refusedPaths = changes
    .filter((change) => change.tier === 'blocked' || (policy.mode === 'hard-block' && change.tier !== 'allowlisted'))
    .map((change) => change.path);

  return {
    kind: 'change',
    target: realTarget,
    baseHash,
    targetHash: blind ? blindedHash(options.hashKey, targetHash, patchHash) : targetHash,
    patchHash,
    tier,
    changes,
    operations: options.trusted
      ? publicOperations
      : diff.operations.map((placed) => ownerOperation(marked, placed.operation)),
    writeOperations: realOperations,
    publicChanges,
    publicOperations,
    shownTarget: veil(marked, target) as JsonObject,
    secretSources: [...secretSources],
    newKeys: newKeysOf(
      marked.document,
      leaves,
      (path) => formatVeiledPath(marked, path),
      (path) => isUnderRedactedPath(redact, path),
    ),
    restartRequired,
    review,
    refusedPaths,
    ruleIds: [...ruleIds],
  };
}

/**
 * The patch applied to the marked document. A `test` that reaches a secret is refused with one
 * answer whatever its value (SPEC §4): it could otherwise confirm a guess.
 */
function applyMarkedForm(marked: MarkedDocument, form: PatchForm): JsonObject {
  return applyPatchForm(marked.document, form, (operation, index, document) => {
    if (operation.op !== 'test') return;
    const tested = valueAt(document, operation.path);
    if (tested !== undefined && containsMarker(marked, tested)) {
      fail('invalid_patch', `Operation ${index} tests a redacted value; "test" cannot look at secrets.`, {
        operation: index,
        secretRefusal: 'secret_test',
      });
    }
  });
}

function valueAt(document: Json, pointer: string): Json | undefined {
  try {
    return fastJsonPatch.getValueByPointer(document, pointer) as Json | undefined;
  } catch {
    return undefined;
  }
}

/** The moved secret that makes up this leaf's new value, if any. */
function sourceOf(moved: readonly Placement[], leaf: Leaf): Placement | undefined {
  if (leaf.after === undefined) return undefined;
  return moved.find((placement) => startsWith(placement.path, leaf.path));
}

function startsWith(path: Path, prefix: Path): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((segment, index) => {
    const other = path[index];
    return other !== undefined && other.key === segment.key && other.id === segment.id && other.index === segment.index;
  });
}

/** Elsewhere than the owner's card, even the proposer's own values at redacted places are veiled. */
function publicValue(redact: CompiledPolicy['redactPatterns'], marked: MarkedDocument, value: Json, path: Path): Json {
  if (isUnderRedactedPath(redact, path)) return REDACTED;
  return redactValue(redact, veil(marked, value), path);
}

function realOperation(marked: MarkedDocument, operation: Operation): Operation {
  return 'value' in operation ? { ...operation, value: unmark(marked, operation.value) } : operation;
}

function ownerOperation(marked: MarkedDocument, operation: Operation): Operation {
  return 'value' in operation ? { ...operation, value: veil(marked, operation.value) } : operation;
}

function publicOperation(
  redact: CompiledPolicy['redactPatterns'],
  marked: MarkedDocument,
  placed: PlacedOperation,
): Operation {
  const { operation, at } = placed;
  return 'value' in operation ? { ...operation, value: publicValue(redact, marked, operation.value, at) } : operation;
}

/** A leaf that puts a value the proposer wrote (not one of the document's secrets) at a redacted place. */
function writesSecret(redact: CompiledPolicy['redactPatterns'], marked: MarkedDocument, leaf: Leaf): boolean {
  if (leaf.after === undefined) return false;
  const walk = (value: Json, path: Path): boolean => {
    if (isMarker(marked, value)) return false;
    if (isUnderRedactedPath(redact, path)) return true;
    if (Array.isArray(value)) {
      const byId = isIdKeyed(value);
      return value.some((item, index) =>
        walk(item, element(path, byId ? { id: (item as JsonObject).id as string } : { index })),
      );
    }
    if (isObject(value)) return Object.keys(value).some((key) => walk(value[key] as Json, child(path, key)));
    return false;
  };
  return walk(leaf.after, leaf.path);
}

/**
 * The target hash shown when the proposer wrote a secret. The real one would equal the base hash
 * exactly when the written value equals the current secret — a free oracle. This one is keyed
 * on the change too, so it never equals any document's hash; the apply computes the real hash
 * of what it writes.
 */
export function blindedHash(key: HashKey, targetHash: string, patchHash: string): string {
  return documentHash(key, ['countersign blinded target', targetHash, patchHash]);
}
