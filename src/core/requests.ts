import { z } from 'zod';
import { ProposalStatusSchema } from './card.js';
import { hashPattern } from './hash.js';
import { OperationSchema } from './operations.js';
import { recoveryCodeSource } from './recovery-codes.js';

const hash = z
  .string()
  .regex(hashPattern, 'a hash is "hmac-sha256:" and 64 lowercase hex digits, as the service gave it');
const targetName = z.string().min(1).max(63).optional();

/** Body of `POST /v1/proposals` (SPEC §4, Propose). */
export const ProposeRequestSchema = z
  .object({
    baseHash: hash,
    patch: z.json().optional(),
    operations: z.array(OperationSchema).max(10_000).optional(),
    replace: z.json().optional(),
    replacePaths: z.array(z.string().max(1000)).max(1000).optional(),
    sessionKey: z.string().min(1).max(256).optional(),
    reason: z.string().max(4000).optional(),
    dryRun: z.boolean().optional(),
    target: targetName,
  })
  .strict()
  .refine((body) => [body.patch, body.operations, body.replace].filter((form) => form !== undefined).length === 1, {
    message: 'exactly one of "patch", "operations" or "replace" is required',
  });
export type ProposeRequest = z.infer<typeof ProposeRequestSchema>;

/**
 * A code from the owner's authenticator app (6 to 8 digits) or one of their one-time recovery
 * codes (`XXXX-XXXX-XXXX`, SPEC §6), for config approvals and exec resolutions alike.
 */
export const TotpCodeSchema = z
  .string()
  .regex(
    new RegExp(`^(?:\\d{6,8}|${recoveryCodeSource})$`),
    'a TOTP code is 6 to 8 digits; a recovery code is XXXX-XXXX-XXXX',
  );

export const ApproveRequestSchema = z
  .object({
    patchHash: hash,
    totp: TotpCodeSchema.optional(),
    confirm: z.string().max(200).optional(),
  })
  .strict();
export type ApproveRequest = z.infer<typeof ApproveRequestSchema>;

export const DenyRequestSchema = z.object({ reason: z.string().max(4000).optional() }).strict();
export type DenyRequest = z.infer<typeof DenyRequestSchema>;

export const AgentApplyRequestSchema = z.object({ sessionKey: z.string().min(1).max(256) }).strict();
export type AgentApplyRequest = z.infer<typeof AgentApplyRequestSchema>;

export const ProposalIdSchema = z.object({ id: z.string().min(1).max(100) });

export const ListProposalsQuerySchema = z
  .object({
    status: ProposalStatusSchema.optional(),
    target: targetName,
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

export const TargetQuerySchema = z.object({ target: targetName }).strict();

export const CardQuerySchema = z.object({ format: z.enum(['markdown', 'text', 'json']).default('markdown') }).strict();

export const AuditQuerySchema = z
  .object({
    after: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(500),
    proposalId: z.string().max(100).optional(),
  })
  .strict();

/** `expectHead=SEQ:HASH`, as printed by `countersign audit head`. */
export const VerifyQuerySchema = z
  .object({
    expectHead: z
      .string()
      .regex(/^\d+:sha256:[0-9a-f]{64}$/, 'expectHead is SEQ:HASH')
      .optional(),
  })
  .strict();

export function parseHead(text: string): { seq: number; hash: string } {
  const colon = text.indexOf(':');
  return { seq: Number(text.slice(0, colon)), hash: text.slice(colon + 1) };
}

/** `POST /v1/proposals/:id/smoke-test`: which reviewed server (default the first), and consent to reach a remote one. */
export const SmokeTestRequestSchema = z
  .object({ server: z.string().min(1).max(200).optional(), allowRemote: z.boolean().optional() })
  .strict();
export type SmokeTestRequest = z.infer<typeof SmokeTestRequestSchema>;

export const SmokeTestQuerySchema = z.object({ server: z.string().min(1).max(200).optional() }).strict();
