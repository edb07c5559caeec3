import { z } from 'zod';
import { innerLeaves, type Leaf } from './diff.js';
import { includesJson, type Json } from './json.js';
import { compilePattern, compilePatternSet, type Pattern, type PatternSet } from './pattern.js';
import { type CompiledReload, compileReload, ReloadTableSchema, reloadKind } from './reload-plan.js';

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

/**
 * The JSON Schema keywords a rule's `toSchema` may use. zod's converter silently ignores a
 * keyword it does not know, and an ignored `maxItems` (or a typo of it) would quietly widen an
 * allowlist, so anything outside this list stops start-up instead.
 */
const shapeKeywords = new Set([
  'type',
  'enum',
  'const',
  'minLength',
  'maxLength',
  'pattern',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'properties',
  'required',
  'additionalProperties',
  'anyOf',
  'oneOf',
  'allOf',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'title',
  'description',
  '$comment',
]);
/** Keywords whose value is a map of names to schemas, or a list of schemas. */
const schemaMaps = new Set(['properties']);
const schemaLists = new Set(['anyOf', 'oneOf', 'allOf']);
const schemaValues = new Set(['items', 'additionalProperties']);

function unsupportedKeyword(schema: unknown, at: string): string | null {
  if (typeof schema === 'boolean') return null;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return `${at} is not a schema`;
  for (const [keyword, value] of Object.entries(schema)) {
    if (!shapeKeywords.has(keyword)) return `${at}: "${keyword}" is not a supported keyword`;
    let found: string | null = null;
    if (schemaValues.has(keyword)) found = unsupportedKeyword(value, `${at}.${keyword}`);
    else if (schemaLists.has(keyword)) {
      if (!Array.isArray(value)) return `${at}.${keyword} must be a list of schemas`;
      for (const [index, item] of value.entries()) found ??= unsupportedKeyword(item, `${at}.${keyword}[${index}]`);
    } else if (schemaMaps.has(keyword)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return `${at}.${keyword} must be an object`;
      for (const [name, item] of Object.entries(value)) found ??= unsupportedKeyword(item, `${at}.${keyword}.${name}`);
    }
    if (found) return found;
  }
  return null;
}

/** A `toSchema` compiled to a check of the new value (zod is loaded anyway; ajv would cost start-up time). */
export function compileShape(schema: Json): (value: Json) => boolean {
  const problem = unsupportedKeyword(schema, 'toSchema');
  if (problem) throw new Error(problem);
  const shape = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  return (value) => shape.safeParse(value).success;
}

const ShapeSchema = z.json().superRefine((schema, context) => {
  try {
    compileShape(schema);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

export const RuleSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]+$/, 'rule ids are letters, digits, ".", "_" or "-"'),
    match: z.array(PatternSchema).min(1),
    tier: TierSchema,
    // `toSchema`: the new value has this JSON Schema shape. A removal leaves no value of the
    // wrong shape behind, so it passes (unlike `to`, where "absent" is never a listed value).
    when: z
      .object({ to: z.array(z.json()), from: z.array(z.json()), toNot: z.array(z.json()), toSchema: ShapeSchema })
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

/**
 * Per-proposal caps (`checkLimits`): a change that is allowlisted path by path can still be
 * hostile by its sheer size. Sizes are bytes of the document's JSON text. The defaults leave
 * room for a 5 MB document and a 10,000-path change.
 */
export const PolicyLimitsSchema = z
  .object({
    /** The largest document a proposal may produce. */
    maxDocumentBytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024),
    /** How much larger than the current document one proposal may make it. */
    maxGrowthBytes: z
      .number()
      .int()
      .min(0)
      .default(1024 * 1024),
    /** The most changed paths one proposal may carry. */
    maxChanges: z.number().int().min(1).default(20_000),
  })
  .strict();
export type PolicyLimits = z.infer<typeof PolicyLimitsSchema>;

export const PolicySchema = z
  .object({
    version: z.literal(1),
    mode: z.enum(['approve', 'hard-block']),
    defaultTier: TierSchema.default('protected'),
    redact: z.array(PatternSchema).default([]),
    /**
     * Entries whose existence matters on its own (an agent, an MCP server, a channel account):
     * adding or removing one is a change at the entry's path (`identityLeaves`, SPEC §2).
     */
    identities: z.array(PatternSchema).default([]),
    rules: z.array(RuleSchema),
    approval: ApprovalSettingsSchema.default(ApprovalSettingsSchema.parse({})),
    limits: PolicyLimitsSchema.default(PolicyLimitsSchema.parse({})),
    /** The target program's reload plan: which paths restart it when they change (reload-plan.ts). */
    reload: ReloadTableSchema.optional(),
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

export type CompiledRule = Rule & { patterns: Pattern[]; order: number; toShape: ((value: Json) => boolean) | null };
export type CompiledPolicy = Policy & {
  compiledRules: CompiledRule[];
  redactPatterns: Pattern[];
  identityPatterns: Pattern[];
  compiledReload: CompiledReload | null;
};

/** Parses and compiles a policy; the error names the bad field (e.g. `rules[3].tier`). */
export function compilePolicy(input: unknown): CompiledPolicy {
  const parsed = PolicySchema.safeParse(input);
  if (!parsed.success) throw new PolicyError(z.prettifyError(parsed.error));
  const policy = parsed.data;
  return {
    ...policy,
    compiledRules: policy.rules.map((rule, order) => ({
      ...rule,
      patterns: rule.match.map(compilePattern),
      order,
      toShape: rule.when?.toSchema === undefined ? null : compileShape(rule.when.toSchema),
    })),
    redactPatterns: policy.redact.map(compilePattern),
    identityPatterns: policy.identities.map(compilePattern),
    compiledReload: policy.reload ? compileReload(policy.reload) : null,
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

function whenHolds(rule: CompiledRule, leaf: Leaf): boolean {
  const when = rule.when;
  if (!when) return true;
  if (when.to && !includesJson(when.to, leaf.after)) return false;
  if (when.from && !includesJson(when.from, leaf.before)) return false;
  // A removal has no new value, and "absent" is never one of the listed values.
  if (when.toNot && includesJson(when.toNot, leaf.after)) return false;
  if (rule.toShape && leaf.after !== undefined && !rule.toShape(leaf.after)) return false;
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
  // A rule may say a path restarts the program; the reload plan, when the policy has one, says so by fact.
  let restart = policy.compiledReload !== null && reloadKind(policy.compiledReload, leaf.path) === 'restart';
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
