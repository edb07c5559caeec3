import { z } from 'zod';

/** `DATA/countersign.json`: what an installation manages and how. Relative paths are relative to the data directory. */
/**
 * A command run after an apply, e.g. to restart the gateway: an argv array (never a shell
 * string), a timeout, and the only environment variables it may see.
 */
export const ReloadHookSchema = z
  .object({
    command: z.array(z.string().min(1)).min(1),
    when: z.enum(['restart', 'always']).default('restart'),
    timeoutSeconds: z.number().int().min(1).max(600).default(30),
    env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default(['PATH', 'HOME']),
  })
  .strict();
export type ReloadHook = z.infer<typeof ReloadHookSchema>;

export const TargetSettingsSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, "-" and "_"'),
    /**
     * `document`: any JSON document (OpenClaw's config). `exec-approvals`: the exec policy of
     * SPEC §9, validated as OpenClaw's exec approvals file and read by exec requests.
     */
    kind: z.enum(['document', 'exec-approvals']).default('document'),
    path: z.string().min(1),
    policy: z.string().min(1),
    schema: z.string().min(1).nullable().default(null),
    reload: ReloadHookSchema.nullable().default(null),
  })
  .strict();
export type TargetSettings = z.infer<typeof TargetSettingsSchema>;

export const LimitsSchema = z
  .object({
    bodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(8 * 1024 * 1024),
    maxDepth: z.number().int().min(4).max(1000).default(64),
    // A body with more keys than this is refused before anything is planned: a 5 MB OpenClaw
    // document has tens of thousands, and 300,000 invented keys took seconds to refuse as changes.
    maxKeys: z.number().int().min(100).max(10_000_000).default(200_000),
  })
  .strict();
export type Limits = z.infer<typeof LimitsSchema>;

/** Requests per minute per token (or per address for unauthenticated calls). */
export const RateLimitsSchema = z
  .object({
    requestsPerMinute: z.number().int().min(1).default(1200),
    proposalsPerMinute: z.number().int().min(1).default(120),
    approvalsPerMinute: z.number().int().min(1).default(30),
  })
  .strict();
export type RateLimits = z.infer<typeof RateLimitsSchema>;

/**
 * How far back the service keeps documents (issue 14): the bases of each target's last
 * `keepApplied` applied proposals, so that rollback, drills and point-in-time restore reach back
 * that many changes. Older documents are pruned (src/store/documents.ts has the whole rule).
 */
export const HistorySchema = z
  .object({
    keepApplied: z.number().int().min(1).max(100_000).default(50),
  })
  .strict();
export type History = z.infer<typeof HistorySchema>;

/** The events a webhook can subscribe to: the ones `service.events` emits (SPEC §8). */
export const webhookEvents = [
  'proposal.created',
  'proposal.resolved',
  'change.applied',
  'exec.requested',
  'exec.resolved',
  // Manual takeover (SPEC §11): an owner froze or unfroze agents.
  'freeze.applied',
  'freeze.lifted',
] as const;
export const WebhookEventSchema = z.enum(webhookEvents);
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

/** One receiver: every delivery is signed with its secret; `events` narrows what it gets (default: all). */
export const WebhookSettingsSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'a webhook URL is an http: or https: URL' }),
    secret: z.string().min(16, 'a webhook secret is at least 16 characters'),
    events: z.array(WebhookEventSchema).min(1).optional(),
  })
  .strict();
export type WebhookSettings = z.infer<typeof WebhookSettingsSchema>;

export const SettingsSchema = z
  .object({
    version: z.literal(1),
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(7070),
        /** Where owners reach this server (behind a proxy, say); chat cards then link to the web page. */
        publicUrl: z
          .url({ protocol: /^https?$/ })
          .nullable()
          .default(null),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 7070, publicUrl: null }),
    targets: z
      .array(TargetSettingsSchema)
      .min(1)
      .refine((targets) => new Set(targets.map((target) => target.name)).size === targets.length, {
        message: 'target names must be unique',
      }),
    limits: LimitsSchema.default(LimitsSchema.parse({})),
    rateLimits: RateLimitsSchema.default(RateLimitsSchema.parse({})),
    webhooks: z.array(WebhookSettingsSchema).default([]),
    history: HistorySchema.default(HistorySchema.parse({})),
  })
  .strict();
export type Settings = z.infer<typeof SettingsSchema>;
