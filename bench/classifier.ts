import type { Leaf } from '../src/core/diff.js';
import type { Json } from '../src/core/json.js';
import type { Path } from '../src/core/path.js';
import type { CompiledPolicy, CompiledRule, Rule } from '../src/core/policy.js';
import { json, pattern, policy as policies } from './lib/dist.js';
import { readJson, shippedPolicyFile } from './lib/fixtures.js';
import { ms, type Row, ratio, type Section } from './lib/report.js';
import { compare, timing } from './lib/stats.js';

const channels = ['telegram', 'discord', 'slack', 'whatsapp', 'signal', 'matrix', 'imessage', 'teams', 'line', 'irc'];
const tools = ['exec', 'fs', 'browser', 'web', 'memory', 'canvas'];
const plugins = Array.from({ length: 30 }, (_, index) => `plugin-${index}`);
const agents = Array.from({ length: 25 }, (_, index) => `agent-${index}`);
const skills = Array.from({ length: 40 }, (_, index) => `skill-${index}`);

/** The shipped policy's 53 rules plus per-channel, per-plugin, per-agent, per-skill and suffix rules: 500 in all. */
export function policyWith500Rules(): CompiledPolicy {
  const shipped = readJson<{ rules: Rule[] } & Record<string, unknown>>(shippedPolicyFile);
  const rules: Rule[] = [...shipped.rules];
  const add = (rule: Omit<Rule, 'id'>) => rules.push({ id: `generated-${rules.length}`, ...rule } as Rule);
  for (const channel of channels) {
    add({ match: [`channels.${channel}.groups.*.requireMention`], tier: 'allowlisted' });
    add({ match: [`channels.${channel}.dmPolicy`], tier: 'dangerous', when: { to: ['open'] } });
    add({
      match: [`channels.${channel}.allowFrom.**`, `channels.${channel}.groups.*.allowFrom.**`],
      tier: 'dangerous',
    });
    for (const tool of tools) add({ match: [`channels.${channel}.groups.*.tools.${tool}.**`], tier: 'protected' });
  }
  for (const plugin of plugins) {
    add({ match: [`plugins.entries.${plugin}.enabled`], tier: 'dangerous', when: { to: [true] } });
    add({ match: [`plugins.entries.${plugin}.config.**`], tier: 'protected', restart: true });
    add({ match: [`plugins.entries.${plugin}.config.secrets.*`], tier: 'blocked' });
  }
  for (const agent of agents) {
    for (const tool of tools) add({ match: [`agents.entries.${agent}.tools.${tool}.**`], tier: 'protected' });
  }
  for (const skill of skills) add({ match: [`skills.entries.${skill}.enabled`], tier: 'allowlisted' });
  for (let index = 0; rules.length < 495; index++) {
    add({ match: [`**.unsafeOption${index}`], tier: 'dangerous', when: { to: [true] } });
  }
  add({ match: ['**.experimental*'], tier: 'dangerous' });
  add({ match: ['*.debug.**'], tier: 'protected' });
  add({ match: ['**.hooks.*.command'], tier: 'dangerous' });
  add({ match: ['agents.entries.*.**.sandbox.**'], tier: 'dangerous', when: { toNot: ['all'] } });
  add({ match: ['models.providers.*.baseUrl'], tier: 'protected' });
  return policies.compilePolicy({ ...shipped, rules });
}

/** 10,000 changed leaves spread over the places a large config changes. */
export function changedLeaves(count = 10_000): Leaf[] {
  const leaves: Leaf[] = [];
  const key = (k: string) => ({ key: k });
  for (let index = 0; leaves.length < count; index++) {
    const pick = <T>(list: readonly T[]) => list[index % list.length] as T;
    let path: Path;
    let before: Json = false;
    let after: Json = true;
    switch (index % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
        path = [key('channels'), key(pick(channels)), key('groups'), key(`-100${index}`), key('requireMention')];
        break;
      case 4:
        path = [key('agents'), key('entries'), key(pick(agents)), key('tools'), key(pick(tools)), key('enabled')];
        break;
      case 5:
        path = [key('plugins'), key('entries'), key(pick(plugins)), key('config'), key(`option${index % 7}`)];
        before = 'a';
        after = 'b';
        break;
      case 6:
        path = [key('skills'), key('entries'), key(pick(skills)), key('enabled')];
        break;
      case 7:
        path = [key('agents'), { key: 'list', id: pick(agents) }, key('model'), key('primary')];
        before = 'anthropic/claude-sonnet-4-6';
        after = 'anthropic/claude-opus-4-6';
        break;
      case 8:
        path = [key('mcp'), key('servers'), key(`server${index % 13}`), key('command')];
        before = 'npx';
        after = 'node';
        break;
      default:
        path = [key('gateway'), key('controlUi'), key(`unsafeOption${index % 400}`)];
        break;
    }
    leaves.push({ path, op: 'replace', before, after });
  }
  return leaves;
}

function whenHolds(rule: Rule, leaf: Leaf): boolean {
  const when = rule.when;
  if (!when) return true;
  if (when.to && !json.includesJson(when.to, leaf.after)) return false;
  if (when.from && !json.includesJson(when.from, leaf.before)) return false;
  if (when.toNot && json.includesJson(when.toNot, leaf.after)) return false;
  return true;
}

/** The per-rule scan `classify` did before the compiled index: every pattern of every rule, for every path. */
function naiveTier(policy: CompiledPolicy, leaf: Leaf): string {
  let top: CompiledRule | null = null;
  for (const rule of policy.compiledRules) {
    if (!rule.patterns.some((compiled) => pattern.matchesPattern(compiled, leaf.path)) || !whenHolds(rule, leaf))
      continue;
    if (top === null || policies.tierRank(rule.tier) > policies.tierRank(top.tier)) top = rule;
  }
  return top?.tier ?? policy.defaultTier;
}

export async function run(): Promise<Section> {
  const policy = policyWith500Rules();
  const leaves = changedLeaves();
  for (const leaf of leaves) {
    if (policies.classify(policy, leaf).tier !== naiveTier(policy, leaf))
      throw new Error('the compiled classifier disagrees');
  }
  const results = compare(
    [
      { name: 'compiled', fn: () => leaves.map((leaf) => policies.classify(policy, leaf)) },
      { name: 'naive', fn: () => leaves.map((leaf) => naiveTier(policy, leaf)) },
    ],
    { time: 600, iterations: 10 },
  );
  const compiled = timing(results, 'compiled');
  const naive = timing(results, 'naive');
  const row: Row = {
    id: 'classifier',
    benchmark: `classifier: ${leaves.length.toLocaleString('en-US')} paths × ${policy.rules.length} rules`,
    result: `${ms(compiled.p50)} compiled`,
    floor: `${ms(naive.p50)} naive per-rule scan`,
    ratio: `${ratio(naive.p50 / compiled.p50, 1)} faster`,
    target: '≤ 10 ms',
    met: compiled.p50 <= 10,
    figures: { paths: leaves.length, rules: policy.rules.length, compiledMs: compiled.p50, naiveMs: naive.p50 },
  };
  return { rows: [row] };
}
