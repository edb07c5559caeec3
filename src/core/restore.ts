import { z } from 'zod';

/*
 * Point-in-time restore (issue 13): which document a target held right after an audit event.
 *
 * Only two kinds of event change a managed document: `change.applied` (its `targetHash` is the
 * document written) and `config.drift` (an outside edit; `targetHash` is what the service found).
 * The document after event SEQ is therefore the one named by the last of those at or before
 * SEQ; before the first of them it is the one countersign started with, which is the `baseHash`
 * of the first. The hash is known from the audit chain; the text itself is looked up among the
 * documents the service keeps (src/service/restore.ts).
 */

/** Body of `POST /v1/restore`. */
export const RestoreRequestSchema = z
  .object({
    // 0 is accepted here and answered with `unknown_seq`, as any other seq the log does not hold.
    toSeq: z.number().int().min(0),
    reason: z.string().max(4000).optional(),
    target: z.string().min(1).max(63).optional(),
  })
  .strict();
export type RestoreRequest = z.infer<typeof RestoreRequestSchema>;

/** A `change.applied` or `config.drift` event of one target, in chain order. */
export type DocumentEvent = {
  seq: number;
  kind: 'change.applied' | 'config.drift';
  proposalId: string | null;
  baseHash: string | null;
  targetHash: string | null;
};

export type DocumentAtSeq =
  /** The document event SEQ left (or the last one before it). */
  | { kind: 'after'; hash: string; event: DocumentEvent }
  /** No document event at or before SEQ: the document countersign started with, as the first event found it. */
  | { kind: 'initial'; hash: string; event: DocumentEvent }
  /** No document event at all: the document never changed, so it is the one remembered now. */
  | { kind: 'unchanged' }
  /** The event that decides it names no document (never written so; kept for old or damaged rows). */
  | { kind: 'unknown'; event: DocumentEvent };

/** Which document (by hash) the target held after event `seq`. `events` are in seq order. */
export function documentAtSeq(events: readonly DocumentEvent[], seq: number): DocumentAtSeq {
  let last: DocumentEvent | null = null;
  for (const event of events) {
    if (event.seq > seq) break;
    last = event;
  }
  if (last?.targetHash) return { kind: 'after', hash: last.targetHash, event: last };
  if (last) return { kind: 'unknown', event: last };
  const first = events[0];
  if (!first) return { kind: 'unchanged' };
  if (first.baseHash) return { kind: 'initial', hash: first.baseHash, event: first };
  return { kind: 'unknown', event: first };
}
