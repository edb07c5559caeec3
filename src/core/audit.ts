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
  'change.applied',
  'change.failed',
  'config.drift',
  'token.created',
  'token.revoked',
  'reload.ran',
  'totp.enrolled',
  'totp.disabled',
  'mcp.smoke_test',
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
  const unsealed = { ...entry, seq, prevHash };
  return { ...unsealed, hash: chainHash(unsealed) };
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
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  private broken: { brokenAt: number; reason: string } | null = null;

  /** `seq` and `hash` are the stored columns; `body` is the stored event without its hash. */
  push(seq: number, hash: string, body: Omit<AuditEvent, 'hash'>): boolean {
    if (this.broken) return false;
    const fail = (reason: string) => {
      this.broken = { brokenAt: Math.min(seq, this.expectedSeq), reason };
      return false;
    };
    if (seq !== this.expectedSeq) return fail(`expected event ${this.expectedSeq}, found ${seq}`);
    if (body.seq !== seq) return fail(`event ${seq} claims sequence ${body.seq}`);
    if (body.prevHash !== this.prevHash) return fail(`event ${seq} does not link to the event before it`);
    if (chainHash(body) !== hash) return fail(`event ${seq} does not match its hash`);
    this.expectedSeq = seq + 1;
    this.prevHash = hash;
    return true;
  }

  result(): Verification {
    if (this.broken) return { ok: false, ...this.broken };
    return { ok: true, count: this.expectedSeq - 1, head: { seq: this.expectedSeq - 1, hash: this.prevHash } };
  }
}
