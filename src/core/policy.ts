import { z } from 'zod';
import { innerLeaves, type Leaf } from './diff.js';
import { includesJson } from './json.js';
import { compilePattern, compilePatternSet, type Pattern, type PatternSet } from './pattern.js';

export const tiers = ['allowlisted', 'protected', 'dangerous', 'blocked'] as const;
export const TierSchema = z.enum(tiers);
export type Tier = z.infer<typeof TierSchema>;

export const surfaces = ['cli', 'web', 'chat-dm', 'chat-group'] as const;
export const SurfaceSchema = z.enum(surfaces);
export type Surface = z.infer<typeof SurfaceSchema>;

export function tierRank(tier: Tier): number {
  return tiers.indexOf(tier);
}

export function higherTier(a: Tier, b: Tier): Tier {
  return tierRank(a) >= tierRank(b) ? a : b;
}

const PatternSchema = z.string().superRefine((source, context) => {
  try {
    compilePattern(source);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

export const RuleSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]+$/, 'rule ids are letters, digits, ".", "_" or "-"'),
    match: z.array(PatternSchema).min(1),
    tier: TierSchema,
    when: z
      .object({ to: z.array(z.json()), from: z.array(z.json()), toNot: z.array(z.json()) })
      .partial()
      .strict()
      .optional(),
    explain: z.string().optional(),
    restart: z.boolean().optional(),
    review: z.enum(['mcp']).optional(),
  })
  .strict();
export type Rule = z.infer<typeof RuleSchema>;

const tierList = z.array(TierSchema);

export const ApprovalSettingsSchema = z
  .object({
    proposalTtlSeconds: z.number().int().min(1).max(604_800).default(900),
    grantTtlSeconds: z.number().int().min(1).max(86_400).default(120),
    apply: z.enum(['on-approve', 'by-agent']).default('on-approve'),
    totp: z
      .object({ tiers: tierList, cooldownSeconds: z.number().int().min(0).max(86_400).default(300) })
      .strict()
      .default({ tiers: ['dangerous'], cooldownSeconds: 300 }),
    confirm: z
      .object({ tiers: tierList })
      .strict()
      .default({ tiers: ['dangerous'] }),
    // A tier missing from `surfaces` can be approved from no surface at all: fail closed.
    surfaces: z
      .partialRecord(TierSchema, z.array(SurfaceSchema))
      .default({ protected: [...surfaces], dangerous: ['cli', 'web', 'chat-dm'] }),
  })
  .strict();
export type ApprovalSettings = z.infer<typeof ApprovalSettingsSchema>;

export const PolicySchema = z
  .object({
    version: z.literal(1),
    mode: z.enum(['approve', 'hard-block']),
    defaultTier: TierSchema.default('protected'),
    redact: z.array(PatternSchema).default([]),
    rules: z.array(RuleSchema),
    approval: ApprovalSettingsSchema.default(ApprovalSettingsSchema.parse({})),
  })
  .strict()
  .superRefine((policy, context) => {
    const seen = new Set<string>();
    policy.rules.forEach((rule, index) => {
      if (seen.has(rule.id)) {
        context.addIssue({ code: 'custom', path: ['rules', index, 'id'], message: `duplicate rule id "${rule.id}"` });
      }
      seen.add(rule.id);
    });
  });
export type Policy = z.infer<typeof PolicySchema>;

export type CompiledRule = Rule & { patterns: Pattern[]; order: number };
export type CompiledPolicy = Policy & { compiledRules: CompiledRule[]; redactPatterns: Pattern[] };

/** Parses and compiles a policy; the error names the bad field (e.g. `rules[3].tier`). */
export function compilePolicy(input: unknown): CompiledPolicy {
  const parsed = PolicySchema.safeParse(input);
  if (!parsed.success) throw new PolicyError(z.prettifyError(parsed.error));
  const policy = parsed.data;
  return {
    ...policy,
    compiledRules: policy.rules.map((rule, order) => ({ ...rule, patterns: rule.match.map(compilePattern), order })),
    redactPatterns: policy.redact.map(compilePattern),
  };
}

export class PolicyError extends Error {
  override name = 'PolicyError';
}

export type Classification = {
  tier: Tier;
  ruleId: string | null;
  explain: string;
  restart: boolean;
  review: 'mcp' | null;
};

function whenHolds(rule: Rule, leaf: Leaf): boolean {
  const when = rule.when;
  if (!when) return true;
  if (when.to && !includesJson(when.to, leaf.after)) return false;
  if (when.from && !includesJson(when.from, leaf.before)) return false;
  // A removal has no new value, and "absent" is never one of the listed values.
  if (when.toNot && includesJson(when.toNot, leaf.after)) return false;
  return true;
}

/** Every rule's patterns in one set, each pattern remembering its rule, built once per rule list. */
type RuleIndex = { set: PatternSet; ruleOf: number[]; length: number };
const ruleIndexes = new WeakMap<readonly CompiledRule[], RuleIndex>();

function ruleIndex(rules: readonly CompiledRule[]): RuleIndex {
  const known = ruleIndexes.get(rules);
  if (known && known.length === rules.length) return known;
  const patterns: Pattern[] = [];
  const ruleOf: number[] = [];
  rules.forEach((rule, index) => {
    for (const pattern of rule.patterns) {
      patterns.push(pattern);
      ruleOf.push(index);
    }
  });
  const built = { set: compilePatternSet(patterns), ruleOf, length: rules.length };
  ruleIndexes.set(rules, built);
  return built;
}

/** The rules whose patterns match the leaf and whose `when` holds, in policy order. */
export function rulesMatching(policy: CompiledPolicy, leaf: Leaf): CompiledRule[] {
  const rules = policy.compiledRules;
  const { set, ruleOf } = ruleIndex(rules);
  const matching: CompiledRule[] = [];
  let last = -1;
  // Pattern indices come back ascending, and a rule's patterns are contiguous: rules come out in order, once.
  for (const patternIndex of set.matching(leaf.path)) {
    const index = ruleOf[patternIndex] as number;
    if (index === last) continue;
    last = index;
    const rule = rules[index] as CompiledRule;
    if (whenHolds(rule, leaf)) matching.push(rule);
  }
  return matching;
}

const defaultExplain = 'No rule names this path, so the policy default applies.';

/**
 * Highest tier wins among all matching rules (SPEC §3). Lists that are not id-keyed are one
 * change, but the classifier also looks at what changed inside them, so a dangerous edit
 * cannot hide inside a list with duplicate ids. Inside such a list only rules that name the
 * inner path count: a path no rule names is covered by the list's own classification (its
 * rules, or the default). Giving unnamed inner paths the default tier instead would make
 * every allowlisted list (a list of fallback models, of allowed tools) need approval on any
 * edit, since the list's elements are never named by the rule that names the list.
 */
export function classify(policy: CompiledPolicy, leaf: Leaf): Classification {
  const own = rulesMatching(policy, leaf);
  const matching = isContainerChange(leaf)
    ? [...own, ...innerLeaves(leaf).flatMap((inner) => rulesMatching(policy, inner))]
    : own;
  let restart = false;
  let review: 'mcp' | null = null;
  let winner: CompiledRule | null = null;
  for (const rule of matching) {
    if (rule.restart === true) restart = true;
    // The last matching rule that names a review decides it.
    review = rule.review ?? review;
    // The first rule with the highest tier wins.
    if (winner === null || tierRank(rule.tier) > tierRank(winner.tier)) winner = rule;
  }
  // With no rule naming the change itself, the default still applies to it, and wins ties.
  if (winner === null || (own.length === 0 && tierRank(policy.defaultTier) >= tierRank(winner.tier))) {
    return { tier: policy.defaultTier, ruleId: null, explain: defaultExplain, restart, review };
  }
  const explain = winner.explain ?? `Matched rule "${winner.id}".`;
  return { tier: winner.tier, ruleId: winner.id, explain, restart, review };
}

function isContainerChange(leaf: Leaf): boolean {
  const { before, after } = leaf;
  return (Array.isArray(before) && before.length > 0) || (Array.isArray(after) && after.length > 0);
}
