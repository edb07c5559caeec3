import { homedir } from 'node:os';
import { type EffectivePolicy, effectivePolicy, parseExecDocument } from '../../core/exec/document.js';
import { type CompiledAllowlist, compileAllowlist } from '../../core/exec/glob.js';
import { compileRiskRules, type RiskRules } from '../../core/exec/risk.js';
import { readJson, type Service, type TargetRuntime } from '../context.js';
import { currentDocument } from '../document.js';
import { packageRoot } from '../install.js';
import { execTarget } from './records.js';

/** The exec policy an agent's request is judged by, or why there is none (then every request is denied). */
export type LoadedExecPolicy =
  | {
      ok: true;
      target: TargetRuntime;
      hash: string;
      policy: EffectivePolicy;
      allowlist: CompiledAllowlist;
      risk: RiskRules;
    }
  | { ok: false; reason: string };

let cachedRisk: RiskRules | null = null;

/** The shipped, editable risk rules (policies/exec-risk.json), checked once. */
export function riskRules(): RiskRules {
  cachedRisk ??= compileRiskRules(readJson(`${packageRoot}/policies/exec-risk.json`, 'exec risk rules'));
  return cachedRisk;
}

/**
 * Fails closed: no exec-approvals target, an unreadable or malformed document, or broken risk
 * rules all mean "deny, and say why" — never "allow because nothing said no".
 */
export function loadExecPolicy(service: Service, agentId: string, home = homedir()): LoadedExecPolicy {
  const target = execTarget(service);
  if (!target) {
    return {
      ok: false,
      reason:
        'This installation has no exec-approvals target, so every command is denied; initialise a new data directory with `countersign init` (optionally `--exec-approvals FILE`).',
    };
  }
  let document: ReturnType<typeof currentDocument>;
  try {
    document = currentDocument(service, target);
  } catch (error) {
    return { ok: false, reason: `The exec approvals document cannot be read: ${(error as Error).message}` };
  }
  const parsed = parseExecDocument(document.value);
  if (!parsed.ok) return { ok: false, reason: `The exec approvals document is invalid (${parsed.reason}).` };
  let risk: RiskRules;
  try {
    risk = riskRules();
  } catch (error) {
    return { ok: false, reason: `The exec risk rules are invalid: ${(error as Error).message}` };
  }
  const key = `${document.hash}\u0000${agentId}\u0000${home}`;
  let compiled = compiledCache.get(target);
  if (compiled?.key !== key) {
    const policy = effectivePolicy(parsed.document, agentId);
    compiled = { key, policy, allowlist: compileAllowlist(policy.allowlist, home) };
    compiledCache.set(target, compiled);
  }
  return { ok: true, target, hash: document.hash, policy: compiled.policy, allowlist: compiled.allowlist, risk };
}

/**
 * The last compiled policy per target: compiling a large allowlist (RE2 for every argPattern)
 * costs milliseconds, and the document rarely changes between requests. Keyed by the
 * document's hash, the agent and the home directory, the three things the result depends on.
 */
const compiledCache = new WeakMap<
  TargetRuntime,
  { key: string; policy: EffectivePolicy; allowlist: CompiledAllowlist }
>();
