import { z } from 'zod';
import type { Surface } from '../policy.js';

/**
 * The decision table of SPEC §9, apart from everything that finds its inputs: the shell text is
 * already split (shell.ts), executables resolved (the service, with I/O), patterns matched
 * (glob.ts), risk assessed (risk.ts). What is left is policy as a table, which is what an
 * auditor reads — so it is one pure function with every row spelled out.
 */

export const SecuritySchema = z.enum(['deny', 'allowlist', 'full']);
export const AskSchema = z.enum(['off', 'on-miss', 'always']);
export const AskFallbackSchema = z.enum(['deny', 'allowlist', 'full']);
export const TotpScopeSchema = z.enum(['elevated', 'destructive', 'all']);
export type Security = z.infer<typeof SecuritySchema>;
export type Ask = z.infer<typeof AskSchema>;
export type AskFallback = z.infer<typeof AskFallbackSchema>;
export type TotpScope = z.infer<typeof TotpScopeSchema>;

/** The agent's entry over `defaults` over OpenClaw's built-in defaults (document.ts builds it). */
export type EffectiveExecPolicy = {
  security: Security;
  ask: Ask;
  askFallback: AskFallback;
  strictInlineEval: boolean;
  totp: { enabled: boolean; scope: TotpScope; cooldownSeconds: number };
};

/** One segment of the request as the evaluation found it. */
export type SegmentVerdict = {
  argv: string[];
  resolvedPath: string | null;
  /** The allowlist pattern that matched, if any. */
  matched: string | null;
  inlineEval: boolean;
  elevated: boolean;
  destructive: boolean;
};

export type RequestFacts = {
  segments: SegmentVerdict[];
  /** Shell text the evaluation could not split honestly: never allowlisted, only asked. */
  unanalysable: boolean;
  /** The runtime says the request runs elevated (SPEC §9). */
  elevated: boolean;
  /** A standing `allow-for` grant that covers exactly this request, if any. */
  standingGrant: string | null;
};

export const ExecDecisionSchema = z.enum(['allow-once', 'allow-for', 'allow-always', 'deny']);
export type ExecDecision = z.infer<typeof ExecDecisionSchema>;

export const RiskSchema = z.object({
  elevated: z.boolean(),
  destructive: z.boolean(),
  inlineEval: z.boolean(),
  unanalysable: z.boolean(),
});
export type Risk = z.infer<typeof RiskSchema>;

export type Verdict =
  | { outcome: 'allow'; reason: 'security_full' | 'allowlist' | 'allow_for'; pattern?: string; grantId?: string }
  // `frozen`: an owner froze agents (SPEC §11); set by the service, never by this table.
  | { outcome: 'deny'; reason: 'security_deny' | 'allowlist_miss' | 'policy_invalid' | 'frozen'; detail?: string }
  | { outcome: 'ask'; reason: 'ask_always' | 'allowlist_miss' };

export type Evaluation = {
  verdict: Verdict;
  risk: Risk;
  /** What an owner may answer; `allow-always` and `allow-for` are absent where SPEC §9 refuses them. */
  allowedDecisions: ExecDecision[];
  approval: { totp: boolean; surfaces: Surface[] };
};

export function riskOf(facts: RequestFacts): Risk {
  return {
    elevated: facts.elevated || facts.segments.some((segment) => segment.elevated),
    destructive: facts.segments.some((segment) => segment.destructive),
    inlineEval: facts.segments.some((segment) => segment.inlineEval),
    unanalysable: facts.unanalysable,
  };
}

/** Every segment matched, and no inline eval while strictInlineEval is on. */
function allowlisted(policy: EffectiveExecPolicy, facts: RequestFacts): boolean {
  if (facts.unanalysable || facts.segments.length === 0) return false;
  return facts.segments.every(
    (segment) => segment.matched !== null && !(policy.strictInlineEval && segment.inlineEval),
  );
}

/** An inline eval while strictInlineEval is on: only ever allowed by an owner, once. */
function strictInline(policy: EffectiveExecPolicy, risk: Risk): boolean {
  return policy.strictInlineEval && risk.inlineEval;
}

/** `allow-always` (and `allow-for`, which stands in for it) never for what could not be pinned to a pattern. */
function permanentAllowed(policy: EffectiveExecPolicy, risk: Risk): boolean {
  return !risk.unanalysable && !strictInline(policy, risk);
}

/** TOTP scope widens in order: elevated, destructive (elevated or destructive), all. */
export function totpRequired(totp: EffectiveExecPolicy['totp'], risk: Risk): boolean {
  if (!totp.enabled) return false;
  switch (totp.scope) {
    case 'all':
      return true;
    case 'destructive':
      return risk.elevated || risk.destructive;
    case 'elevated':
      return risk.elevated;
  }
}

export type SurfaceSettings = { protected: Surface[]; dangerous: Surface[] };

/** SPEC §9: elevated or destructive requests are approved from the dangerous tier's surfaces. */
export function approvalFor(
  policy: EffectiveExecPolicy,
  risk: Risk,
  surfaces: SurfaceSettings,
): { totp: boolean; surfaces: Surface[] } {
  const risky = risk.elevated || risk.destructive;
  return { totp: totpRequired(policy.totp, risk), surfaces: [...(risky ? surfaces.dangerous : surfaces.protected)] };
}

/** The decision table of SPEC §9. */
export function evaluate(policy: EffectiveExecPolicy, facts: RequestFacts, surfaces: SurfaceSettings): Evaluation {
  const risk = riskOf(facts);
  const permanent = permanentAllowed(policy, risk);
  const allowedDecisions: ExecDecision[] = permanent
    ? ['allow-once', 'allow-for', 'allow-always', 'deny']
    : ['allow-once', 'deny'];
  const result = (verdict: Verdict): Evaluation => ({
    verdict,
    risk,
    allowedDecisions,
    approval: approvalFor(policy, risk, surfaces),
  });

  if (policy.security === 'deny') return result({ outcome: 'deny', reason: 'security_deny' });
  if (policy.ask === 'always') return result({ outcome: 'ask', reason: 'ask_always' });
  // OpenClaw: strictInlineEval "treats recognized inline code-eval forms as approval-only, including
  // under ordinary `full`/`off` policy", so full allows everything else; inline eval goes on below
  // (never allowlisted while strict, so asked, or denied under `ask: off` — this table never asks then).
  if (policy.security === 'full' && !strictInline(policy, risk)) {
    return result({ outcome: 'allow', reason: 'security_full' });
  }
  if (allowlisted(policy, facts)) {
    return result({ outcome: 'allow', reason: 'allowlist', pattern: firstPattern(facts) });
  }
  // A standing allow-for grant stands in for an allowlist entry, and is never made for what allow-always refuses.
  if (facts.standingGrant !== null && permanent) {
    return result({ outcome: 'allow', reason: 'allow_for', grantId: facts.standingGrant });
  }
  if (policy.ask === 'off') return result({ outcome: 'deny', reason: 'allowlist_miss' });
  return result({ outcome: 'ask', reason: 'allowlist_miss' });
}

function firstPattern(facts: RequestFacts): string {
  return facts.segments.map((segment) => segment.matched).join(' | ');
}

/**
 * When nobody decides in time, or no owner credential could: `askFallback` decides (SPEC §9),
 * recorded as `ask_fallback`.
 */
export function fallback(
  policy: EffectiveExecPolicy,
  facts: RequestFacts,
): { outcome: 'allow' | 'deny'; reason: 'ask_fallback' } {
  switch (policy.askFallback) {
    case 'full':
      // OpenClaw: "`askFallback: "full"` does not satisfy strict inline-eval approval when detection runs."
      return { outcome: strictInline(policy, riskOf(facts)) ? 'deny' : 'allow', reason: 'ask_fallback' };
    case 'allowlist':
      return { outcome: allowlisted(policy, facts) ? 'allow' : 'deny', reason: 'ask_fallback' };
    case 'deny':
      return { outcome: 'deny', reason: 'ask_fallback' };
  }
}
