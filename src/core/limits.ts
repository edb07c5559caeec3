import { fail } from './errors.js';
import type { PolicyLimits } from './policy.js';

/** What a proposal would do to the document, measured by the caller in one serialization for both sides. */
export type ProposalSize = { baseBytes: number; targetBytes: number; changes: number };

/**
 * The policy's caps on one proposal (issue 10, item 6): an allowlisted path can still be used to
 * grow the document without bound, and every stored proposal keeps a copy of it. Checked
 * before anything is stored; each refusal names the limit and the value that broke it.
 */
export function checkLimits(limits: PolicyLimits, size: ProposalSize): void {
  const { baseBytes, targetBytes, changes } = size;
  if (changes > limits.maxChanges) {
    fail(
      'too_many_changes',
      `This change touches ${changes} paths; this policy allows at most ${limits.maxChanges} in one proposal. Split it up.`,
      {
        limit: 'maxChanges',
        max: limits.maxChanges,
        actual: changes,
      },
    );
  }
  if (targetBytes > limits.maxDocumentBytes) {
    fail(
      'too_large',
      `The resulting document would be ${targetBytes} bytes; this policy allows at most ${limits.maxDocumentBytes}.`,
      {
        limit: 'maxDocumentBytes',
        max: limits.maxDocumentBytes,
        actual: targetBytes,
      },
    );
  }
  const growth = targetBytes - baseBytes;
  if (growth > limits.maxGrowthBytes) {
    fail(
      'too_large',
      `This change would grow the document by ${growth} bytes; this policy allows at most ${limits.maxGrowthBytes} per proposal.`,
      {
        limit: 'maxGrowthBytes',
        max: limits.maxGrowthBytes,
        actual: growth,
      },
    );
  }
}
