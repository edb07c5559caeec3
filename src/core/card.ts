import { z } from 'zod';
import { hashDigits } from './hash.js';
import { McpReviewSchema } from './mcp-review.js';
import { type NewKey, NewKeySchema } from './new-keys.js';
import { OperationSchema } from './operations.js';
import { type ApprovalSettings, SurfaceSchema, type Tier, TierSchema } from './policy.js';

export const proposalStatuses = [
  'pending',
  'approved',
  'applied',
  'denied',
  'expired',
  'stale',
  'withdrawn',
  'failed',
] as const;
export const ProposalStatusSchema = z.enum(proposalStatuses);
export type ProposalStatus = z.infer<typeof ProposalStatusSchema>;

export const RoleSchema = z.enum(['agent', 'owner']);
export type Role = z.infer<typeof RoleSchema>;

/** Who did something, as the credential says; never taken from a request body. */
export const ActorSchema = z.object({
  role: RoleSchema,
  name: z.string(),
  agentId: z.string().nullable(),
  sessionKey: z.string().nullable(),
  surface: SurfaceSchema.nullable(),
});
export type Actor = z.infer<typeof ActorSchema>;

export const ChangeSchema = z.object({
  path: z.string(),
  op: z.enum(['add', 'remove', 'replace']),
  before: z.json().optional(),
  after: z.json().optional(),
  tier: TierSchema,
  ruleId: z.string().nullable(),
  explain: z.string(),
  restart: z.boolean(),
  /**
   * Where the value came from when a `copy`/`move` (or a kept secret) put it here, in dotted
   * form: "same value as gateway.auth.token". Absent for values the proposer wrote itself.
   */
  from: z.string().optional(),
});
export type Change = z.infer<typeof ChangeSchema>;

/** How an approval passed step-up; `recovery`: a one-time recovery code in place of a TOTP code (SPEC §6). */
export const StepUpSchema = z.enum(['totp', 'recovery', 'cooldown', 'none']);
export type StepUp = z.infer<typeof StepUpSchema>;

export const ResolutionSchema = z.object({
  status: ProposalStatusSchema,
  at: z.string(),
  by: ActorSchema.nullable(),
  reason: z.string().nullable(),
  stepUp: StepUpSchema.nullable(),
  hash: z.string().nullable(),
});
export type Resolution = z.infer<typeof ResolutionSchema>;

export const ApprovalRequirementsSchema = z.object({
  totp: z.boolean(),
  confirmPhrase: z.string().nullable(),
  surfaces: z.array(SurfaceSchema),
  /**
   * Redacted settings whose secret this change copies or moves to another place. An owner
   * never approves that unawares: it always takes the typed confirmation.
   */
  secretsFrom: z.array(z.string()).optional(),
});
export type ApprovalRequirements = z.infer<typeof ApprovalRequirementsSchema>;

export const CardSchema = z.object({
  id: z.string(),
  target: z.string(),
  status: z.union([ProposalStatusSchema, z.literal('dry-run')]),
  tier: TierSchema,
  createdAt: z.string(),
  expiresAt: z.string(),
  requestedBy: ActorSchema,
  reason: z.string().nullable(),
  baseHash: z.string(),
  patchHash: z.string(),
  targetHash: z.string(),
  changes: z.array(ChangeSchema),
  /** Keys new to the document (absent when there are none): what an owner checks for typos. */
  newKeys: z.array(NewKeySchema).optional(),
  operations: z.array(OperationSchema),
  restartRequired: z.boolean(),
  review: z.object({ mcp: z.array(McpReviewSchema) }),
  approval: ApprovalRequirementsSchema,
  resolution: ResolutionSchema.nullable(),
});
export type Card = z.infer<typeof CardSchema>;

/** Short enough to type, derived from the exact change so it cannot be reused for another. */
export function confirmPhraseFor(patchHash: string): string {
  return `apply ${hashDigits(patchHash).slice(0, 8)}`;
}

/** What an owner must present to approve a change of this tier (SPEC §4, Approve). */
export function approvalRequirements(
  settings: ApprovalSettings,
  tier: Tier,
  patchHash: string,
  secretsFrom: readonly string[] = [],
): ApprovalRequirements {
  if (tier === 'allowlisted') return { totp: false, confirmPhrase: null, surfaces: [] };
  const requirements: ApprovalRequirements = {
    totp: settings.totp.tiers.includes(tier),
    confirmPhrase: settings.confirm.tiers.includes(tier) || secretsFrom.length > 0 ? confirmPhraseFor(patchHash) : null,
    surfaces: tier === 'blocked' ? [] : (settings.surfaces[tier] ?? []),
  };
  if (secretsFrom.length > 0) requirements.secretsFrom = [...secretsFrom];
  return requirements;
}

export type CardInput = {
  id: string;
  target: string;
  status: Card['status'];
  createdAt: Date;
  ttlSeconds: number;
  requestedBy: Actor;
  reason: string | null;
  settings: ApprovalSettings;
  plan: {
    tier: Tier;
    baseHash: string;
    patchHash: string;
    targetHash: string;
    changes: Change[];
    operations: Card['operations'];
    restartRequired: boolean;
    secretSources?: readonly string[];
    newKeys?: readonly NewKey[];
  };
};

/** The card of SPEC §4: everything an owner needs to judge the exact change, secrets already redacted. */
export function buildCard(input: CardInput): Card {
  const { plan } = input;
  return {
    id: input.id,
    target: input.target,
    status: input.status,
    tier: plan.tier,
    createdAt: input.createdAt.toISOString(),
    expiresAt: new Date(input.createdAt.getTime() + input.ttlSeconds * 1000).toISOString(),
    requestedBy: input.requestedBy,
    reason: input.reason,
    baseHash: plan.baseHash,
    patchHash: plan.patchHash,
    targetHash: plan.targetHash,
    changes: plan.changes,
    ...(plan.newKeys?.length ? { newKeys: [...plan.newKeys] } : {}),
    operations: plan.operations,
    restartRequired: plan.restartRequired,
    review: { mcp: [] },
    approval: approvalRequirements(input.settings, plan.tier, plan.patchHash, plan.secretSources),
    resolution: null,
  };
}

export function resolution(
  status: ProposalStatus,
  at: Date,
  fields: Partial<Omit<Resolution, 'status' | 'at'>> = {},
): Resolution {
  return { status, at: at.toISOString(), by: null, reason: null, stepUp: null, hash: null, ...fields };
}
