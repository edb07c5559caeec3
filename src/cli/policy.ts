import type { Leaf } from '../core/diff.js';
import type { Json } from '../core/json.js';
import { formatPath, parsePath } from '../core/path.js';
import { classify, rulesMatching } from '../core/policy.js';
import { isRedactedPath } from '../core/redact.js';
import { loadPolicy, openService } from '../service/context.js';
import { defaultPolicyFile } from '../service/install.js';
import { dataDirFrom, requireInitialised } from './data-dir.js';
import { CliError, printJson } from './io.js';

function parseJson(text: string | undefined, option: string): Json | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new CliError(`${option} must be JSON (for a string, quote it: '"off"').`);
  }
}

/** `--policy`, else the target's policy in `--data` / $COUNTERSIGN_DATA, else the shipped default. */
function policyFile(options: { policy?: string; data?: string; target?: string }): string {
  if (options.policy) return options.policy;
  const data = dataDirFrom(options.data);
  if (data) {
    const service = openService(requireInitialised(data), { readonlyDatabase: true });
    try {
      const target = service.targets.get(options.target ?? service.defaultTarget);
      if (!target) throw new CliError(`No target "${options.target}" in ${data}.`, 1, 'not_found');
      return service.settings.targets.find((entry) => entry.name === target.name)?.policy ?? defaultPolicyFile;
    } finally {
      service.close();
    }
  }
  return defaultPolicyFile;
}

/** Which rule decides a path, and why — the same classifier the service uses. */
export function explain(
  path: string,
  options: { value?: string; from?: string; policy?: string; data?: string; target?: string; json?: boolean },
): void {
  let segments: ReturnType<typeof parsePath>;
  try {
    segments = parsePath(path);
  } catch (error) {
    throw new CliError(`Cannot read the path: ${(error as Error).message}`);
  }
  const file = policyFile(options);
  const { policy } = loadPolicy(file);
  const after = parseJson(options.value, '--value');
  const before = parseJson(options.from, '--from');
  const leaf: Leaf = { path: segments, op: before === undefined ? 'add' : after === undefined ? 'remove' : 'replace' };
  if (before !== undefined) leaf.before = before;
  if (after !== undefined) leaf.after = after;
  const decision = classify(policy, leaf);
  const matching = rulesMatching(policy, leaf).map((rule) => ({ id: rule.id, tier: rule.tier, match: rule.match }));
  const redacted = isRedactedPath(policy.redactPatterns, segments);
  const result = {
    path: formatPath(segments),
    policy: file,
    mode: policy.mode,
    ...decision,
    redacted,
    matchingRules: matching,
  };
  if (options.json) return printJson(result);
  const lines = [
    `${result.path} → ${decision.tier.toUpperCase()}${policy.mode === 'hard-block' && decision.tier !== 'allowlisted' ? ' (refused: hard-block mode)' : ''}`,
    `  decided by: ${decision.ruleId ? `rule "${decision.ruleId}"` : `no rule (defaultTier ${policy.defaultTier})`}`,
    `  why:        ${decision.explain}`,
    `  restart:    ${decision.restart ? 'yes' : 'no'}${redacted ? '\n  redacted:   yes (values never shown)' : ''}`,
  ];
  if (matching.length > 1)
    lines.push(
      `  also matched: ${matching
        .filter((rule) => rule.id !== decision.ruleId)
        .map((rule) => `${rule.id} (${rule.tier})`)
        .join(', ')}`,
    );
  if (after === undefined && before === undefined)
    lines.push('  (pass --value JSON / --from JSON to test value conditions such as "to": [true])');
  process.stdout.write(`${lines.join('\n')}\n`);
}
