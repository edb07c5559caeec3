import fastJsonPatch from 'fast-json-patch';
import { fail } from './errors.js';
import { documentHash, type HashKey } from './hash.js';
import { isObject, type Json, type JsonObject } from './json.js';
import type { Operation } from './operations.js';
import { blindedHash } from './plan.js';

/*
 * Content-addressed documents (issue 14). A proposal keeps no document of its own: it names its
 * base by hash (a row of the `documents` table, shared by every proposal, state and history
 * entry with that content) and keeps the exact operations that turn the base into its target.
 * The target is rebuilt from the two whenever it is needed and must hash to what the card says.
 */

/** How a document is written to disk and kept: two-space JSON and a final newline, as propose always wrote it. */
export function documentTextOf(value: JsonObject): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * `base` with `operations` applied. `base` is consumed (changed in place): callers pass a
 * document they parsed for this purpose. The operations come from the service's own records,
 * but a damaged row must not reach outside the document: every pointer is resolved by
 * fast-json-patch with validation on, and a failure is the caller's `document_mismatch`.
 */
export function rebuildDocument(base: JsonObject, operations: readonly Operation[]): JsonObject {
  let working: Json = base;
  try {
    for (const [index, operation] of operations.entries()) {
      working = fastJsonPatch.applyOperation(working, operation, true, true, true, index).newDocument as Json;
    }
  } catch (error) {
    fail(
      'document_mismatch',
      `The stored operations no longer apply to the stored base document: ${(error as Error).message}`,
    );
  }
  if (!isObject(working)) fail('document_mismatch', 'The stored operations do not produce a JSON object.');
  return working;
}

/**
 * Whether `realHash` (the hash of a rebuilt target) is the document `card` promised. A card
 * whose proposer wrote a secret shows a blinded target hash (plan.ts): it is checked through
 * the same blinding, so no extra hash is ever stored next to the card.
 */
export function isPromisedTarget(
  key: HashKey,
  card: { targetHash: string; patchHash: string },
  realHash: string,
): boolean {
  return card.targetHash === realHash || card.targetHash === blindedHash(key, realHash, card.patchHash);
}

/** The hash and text of a rebuilt document, checked against the card; throws `document_mismatch` otherwise. */
export function verifiedTarget(
  key: HashKey,
  card: { id: string; targetHash: string; patchHash: string },
  value: JsonObject,
): { text: string; value: JsonObject; hash: string } {
  const hash = documentHash(key, value);
  if (!isPromisedTarget(key, card, hash)) {
    fail(
      'document_mismatch',
      `The document rebuilt for proposal ${card.id} does not have the target hash on its card; nothing was changed.`,
      { proposalId: card.id, targetHash: card.targetHash },
    );
  }
  return { text: documentTextOf(value), value, hash };
}
