import { z } from 'zod';
import { ActorSchema, StepUpSchema } from './card.js';
import { canonical, sha256 } from './hash.js';
import { TierSchema } from './policy.js';

export const auditKinds = [
  'proposal.created',
  'proposal.refused',
  'proposal.approved',
  'proposal.denied',
  'proposal.withdrawn',
  'proposal.expired',
  'proposal.stale',
  'proposal.rebased',
  'change.applied',
  'change.failed',
  'config.drift',
  'token.created',
  'token.revoked',
  'reload.ran',
  'totp.enrolled',
  'totp.disabled',
  'totp.recovery_used',
  'totp.recovery_regenerated',
  'mcp.smoke_test',
  // Exec approvals (SPEC §9): each says why (reason, pattern, risk, approver, step-up); never env values.
  'exec.requested',
  'exec.allowed',
  'exec.approved',
  'exec.denied',
  'exec.expired',
  'exec.fallback',
  'exec.consumed',
  'exec.allowlist_added',
  'exec.grant_revoked',
  // Manual takeover and drills (SPEC §11).
  'freeze.applied',
  'freeze.lifted',
  'drill.ran',
] as const;
export const AuditKindSchema = z.enum(auditKinds);
export type AuditKind = z.infer<typeof AuditKindSchema>;

/** What an audit record says, before it is placed in the chain. Values are never stored, only paths and hashes. */
export const AuditEntrySchema = z.object({
  kind: AuditKindSchema,
  at: z.string(),
  target: z.string().nullable(),
  actor: ActorSchema.nullable(),
  proposalId: z.string().nullable(),
  tier: TierSchema.nullable(),
  ruleIds: z.array(z.string()),
  policyHash: z.string().nullable(),
  baseHash: z.string().nullable(),
  targetHash: z.string().nullable(),
  patchHash: z.string().nullable(),
  paths: z.array(z.string()),
  stepUp: StepUpSchema.nullable(),
  reason: z.string().nullable(),
  details: z.record(z.string(), z.json()),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const AuditEventSchema = AuditEntrySchema.extend({
  seq: z.number().int().positive(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

/** hash = sha256(prevHash + canonical(event without hash)) — SPEC §5. */
export function chainHash(event: Omit<AuditEvent, 'hash'>): string {
  return sha256(event.prevHash + canonical(event));
}

export function sealEvent(entry: AuditEntry, seq: number, prevHash: string): AuditEvent {
  return sealEventWithBody(entry, seq, prevHash).event;
}

/**
 * `sealEvent`, also returning the stored body: the canonical JSON of the event without its
 * hash, which is exactly the text the hash covers after `prevHash` — computed once.
 */
export function sealEventWithBody(
  entry: AuditEntry,
  seq: number,
  prevHash: string,
): { event: AuditEvent; body: string } {
  // `{ ...entry, seq, prevHash }`: the same object (an audit entry has none of the keys where
  // assigning and defining differ, like `__proto__`), but V8 builds a spread followed by more
  // properties on a slow path, and the object it makes is slower to serialise: this halves the
  // cost of sealing an event.
  const unsealed: Omit<AuditEvent, 'hash'> = Object.assign({}, entry, { seq, prevHash });
  const body = canonical(unsealed);
  // The same object `{ ...unsealed, hash }` would be (hash last), without copying it again.
  const event: AuditEvent = Object.assign(unsealed, { hash: sha256(prevHash + body) });
  return { event, body };
}

export type ChainHead = { seq: number; hash: string };
export type Verification =
  | { ok: true; count: number; head: ChainHead }
  | { ok: false; brokenAt: number; reason: string };

/**
 * Incremental verifier so a million events can be checked while streaming rows. A deleted,
 * inserted or reordered event breaks the sequence or the prevHash link; an edited one breaks
 * its own hash.
 */
export class ChainVerifier {
  private expectedSeq: number;
  private prevHash: string;
  private broken: { brokenAt: number; reason: string } | null = null;

  /**
   * From the first event, or (`from`) from event `from.seq` on, whose stored previous event
   * has hash `from.prevHash`: what each part of a log verified in parallel starts from.
   */
  constructor(private readonly from: { seq: number; prevHash: string } = { seq: 1, prevHash: GENESIS_HASH }) {
    this.expectedSeq = from.seq;
    this.prevHash = from.prevHash;
  }

  /**
   * `seq` and `hash` are the stored columns and `text` the stored body: the canonical JSON the
   * event was sealed with. Each event's hash covers the previous event's hash and its own text,
   * so checking `sha256(previous hash + text)` row by row proves the chain without parsing a
   * single body: an edit (even one that keeps the meaning) breaks that row, and a deleted,
   * inserted or moved row breaks the link after it.
   */
  push(seq: number, hash: string, text: string): boolean {
    if (this.broken) return false;
    if (seq !== this.expectedSeq) {
      this.broken = {
        brokenAt: Math.min(seq, this.expectedSeq),
        reason: `expected event ${this.expectedSeq}, found ${seq}`,
      };
      return false;
    }
    if (sha256(this.prevHash + text) !== hash) {
      this.broken = {
        brokenAt: seq,
        reason: `event ${seq} does not match its hash or does not follow the event before it`,
      };
      return false;
    }
    this.expectedSeq = seq + 1;
    this.prevHash = hash;
    return true;
  }

  result(): Verification {
    if (this.broken) return { ok: false, ...this.broken };
    return {
      ok: true,
      count: this.expectedSeq - this.from.seq,
      head: { seq: this.expectedSeq - 1, hash: this.prevHash },
    };
  }
}

/** A contiguous run of events `from`..`to` (inclusive), verified on its own. */
export type ChainRange = { from: number; to: number };

/** Events 1..`last` in at most `parts` contiguous ranges of near-equal size, in order. */
export function chainRanges(last: number, parts: number): ChainRange[] {
  const count = Math.max(1, Math.min(parts, last));
  const ranges: ChainRange[] = [];
  for (let index = 0; index < count; index++) {
    const from = Math.floor((last * index) / count) + 1;
    const to = Math.floor((last * (index + 1)) / count);
    ranges.push({ from, to });
  }
  return ranges;
}

/**
 * The whole log's verification from its ranges' (in order), each started from the stored hash
 * of the event before it. Each event's check needs only its own text and the previous event's
 * stored hash, so the ranges together check exactly what one pass checks — provided each range
 * ends where the next begins: a range that stops short (events missing at its end) breaks at
 * the first missing event, as one pass would. The first break, in log order, is the answer.
 */
export function combineVerifications(parts: readonly { range: ChainRange; result: Verification }[]): Verification {
  let head: ChainHead | null = null;
  for (const [index, { range, result }] of parts.entries()) {
    if (!result.ok) return result;
    const last = index === parts.length - 1;
    if (!last && result.head.seq !== range.to) {
      return { ok: false, brokenAt: result.head.seq + 1, reason: `expected event ${result.head.seq + 1}, found none` };
    }
    head = result.head;
  }
  if (!head) return { ok: true, count: 0, head: { seq: 0, hash: GENESIS_HASH } };
  return { ok: true, count: head.seq, head };
}
