import { z } from 'zod';
import { ActorSchema, StepUpSchema } from '../card.js';
import { hashPattern } from '../hash.js';
import { SurfaceSchema } from '../policy.js';
import { TotpCodeSchema } from '../requests.js';
import { ExecDecisionSchema, RiskSchema } from './decide.js';
import { EnvEntrySchema, FileOperandSchema } from './plan.js';

/** The wire shapes of SPEC §9 (contract): what agents send and what everyone reads. */

export const execStatuses = ['pending', 'allowed', 'denied', 'expired', 'consumed'] as const;
export const ExecStatusSchema = z.enum(execStatuses);
export type ExecStatus = z.infer<typeof ExecStatusSchema>;

// NUL can never reach a real argv (execve cuts at it), so a string holding one would run
// something other than what the owner saw: refused at the door.
const arg = z
  .string()
  .max(128 * 1024)
  .refine((text) => !text.includes('\0'), 'must not contain NUL bytes');

/** Body of `POST /v1/exec/requests`. */
export const ExecRequestBodySchema = z
  .object({
    argv: z.array(arg).min(1).max(4096).optional(),
    command: arg.optional(),
    cwd: arg.refine((path) => path.startsWith('/'), 'must be an absolute path'),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names are [A-Za-z_][A-Za-z0-9_]*'), arg).optional(),
    sessionKey: z.string().min(1).max(256),
    elevated: z.boolean().optional(),
    host: z.string().min(1).max(256).optional(),
    dryRun: z.boolean().optional(),
  })
  .strict()
  .refine((body) => (body.argv === undefined) !== (body.command === undefined), {
    message: 'exactly one of "argv" or "command" is required',
  });
export type ExecRequestBody = z.infer<typeof ExecRequestBodySchema>;

export const ExecSegmentSchema = z.object({
  argv: z.array(z.string()),
  resolvedPath: z.string().nullable(),
  matched: z.string().nullable(),
  inlineEval: z.boolean(),
  elevated: z.boolean(),
  destructive: z.boolean(),
});

export const ExecResolutionSchema = z.object({
  status: ExecStatusSchema,
  at: z.string(),
  decision: ExecDecisionSchema.nullable(),
  /** Why, in the audit's words: `security_full`, `allowlist`, `allow_for`, `ask_fallback`, `owner`, … */
  reason: z.string(),
  by: ActorSchema.nullable(),
  stepUp: StepUpSchema.nullable(),
  pattern: z.string().nullable(),
  grantId: z.string().nullable(),
  /** Until when the agent may consume an allowed request (`grantTtlSeconds`). */
  grantExpiresAt: z.string().nullable(),
});
export type ExecResolution = z.infer<typeof ExecResolutionSchema>;

/** The request as everyone reads it (SPEC §9, contract). Secret env values are "[redacted]". */
export const ExecRequestSchema = z.object({
  id: z.string(),
  status: ExecStatusSchema,
  agentId: z.string(),
  sessionKey: z.string(),
  argv: z.array(z.string()).nullable(),
  commandText: z.string().nullable(),
  cwd: z.string(),
  env: z.array(EnvEntrySchema),
  resolvedPath: z.string().nullable(),
  fileOperand: FileOperandSchema.nullable(),
  segments: z.array(ExecSegmentSchema),
  risk: RiskSchema,
  /** The rules of policies/exec-risk.json the request meets, each with its plain-words `explain`. */
  riskRules: z.array(z.object({ ruleId: z.string(), explain: z.string() })).optional(),
  reason: z.string(),
  planHash: z.string(),
  allowedDecisions: z.array(ExecDecisionSchema),
  approval: z.object({ totp: z.boolean(), surfaces: z.array(SurfaceSchema) }),
  createdAt: z.string(),
  expiresAt: z.string(),
  resolution: ExecResolutionSchema.nullable(),
});
export type ExecRequest = z.infer<typeof ExecRequestSchema>;

const hash = z
  .string()
  .regex(hashPattern, 'a hash is "hmac-sha256:" and 64 lowercase hex digits, as the service gave it');

/** Body of `POST /v1/exec/requests/:id/resolve`. */
export const ExecResolveBodySchema = z
  .object({
    decision: ExecDecisionSchema,
    planHash: hash,
    durationSeconds: z.number().int().min(1).max(604_800).optional(),
    totp: TotpCodeSchema.optional(),
    reason: z.string().max(4000).optional(),
  })
  .strict();
export type ExecResolveBody = z.infer<typeof ExecResolveBodySchema>;

/** Body of `POST /v1/exec/requests/:id/consume`. */
export const ExecConsumeBodySchema = z.object({ planHash: hash, sessionKey: z.string().min(1).max(256) }).strict();
export type ExecConsumeBody = z.infer<typeof ExecConsumeBodySchema>;
