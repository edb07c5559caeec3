import type { JsonObject } from '../src/core/json.js';
import type { CompiledPolicy } from '../src/core/policy.js';
import { card, hash, plan, policy as policies, provenance } from './lib/dist.js';
import {
  configWithGroups,
  documentText,
  formatBytes,
  readJson,
  shippedConfig,
  shippedPolicyFile,
} from './lib/fixtures.js';
import { ms, type Row, ratio, type Section } from './lib/report.js';
import { compare, timing } from './lib/stats.js';

/** A dangerous change and an allowlisted one: `commands.mcp` on, and one group's requireMention flipped. */
export function typicalPatch(document: JsonObject): JsonObject {
  const groups = ((document.channels as JsonObject).telegram as JsonObject).groups as JsonObject;
  const [id, group] = Object.entries(groups)[0] as [string, JsonObject];
  return {
    commands: { mcp: true },
    channels: { telegram: { groups: { [id]: { requireMention: !group.requireMention } } } },
  };
}

const benchKey = Buffer.alloc(32, 1);

/**
 * planChange + buildCard: diff, classify, redact, hash and card, no I/O. The document's secrets
 * are marked once per document, as the service does (service/secrets.ts caches it per hash).
 */
export function planAndCard(
  policy: CompiledPolicy,
  document: JsonObject,
  baseHash: string,
  patch: JsonObject,
  marked = provenance.markSecrets(policy.redactPatterns, document),
) {
  const planned = plan.planChange(
    policy,
    document,
    baseHash,
    { kind: 'merge', patch, replacePaths: [] },
    { hashKey: benchKey, marked },
  );
  if (planned.kind !== 'change') throw new Error('the benchmark patch changes nothing');
  return card.buildCard({
    id: '00000000-0000-4000-8000-000000000000',
    target: 'openclaw',
    status: 'dry-run',
    createdAt: new Date(),
    ttlSeconds: policy.approval.proposalTtlSeconds,
    requestedBy: { role: 'agent', name: 'main', agentId: 'main', sessionKey: null, surface: null },
    reason: null,
    settings: policy.approval,
    plan: planned,
  });
}

export async function run(): Promise<Section> {
  const policy = policies.compilePolicy(readJson(shippedPolicyFile));
  const rows: Row[] = [];
  for (const [label, document] of [
    ['shipped config', shippedConfig()],
    ['20,000 Telegram groups', configWithGroups(20_000)],
  ] as const) {
    const text = documentText(document);
    const baseHash = hash.documentHash(benchKey, document);
    const patch = typicalPatch(document);
    const marked = provenance.markSecrets(policy.redactPatterns, document);
    const large = text.length > 1_000_000;
    const results = compare(
      [
        { name: 'floor', fn: () => JSON.stringify(JSON.parse(text)) },
        { name: 'propose', fn: () => planAndCard(policy, document, baseHash, patch, marked) },
      ],
      large ? { time: 1500, iterations: 8 } : { time: 400, iterations: 200 },
    );
    const floor = timing(results, 'floor');
    const subject = timing(results, 'propose');
    const factor = subject.p50 / floor.p50;
    rows.push({
      id: `inprocess-${large ? '5mb' : '2kb'}`,
      benchmark: `in-process propose, ${label} (${formatBytes(text.length)})`,
      result: `${ms(subject.p50)} median`,
      floor: `${ms(floor.p50)} JSON.parse+stringify`,
      ratio: ratio(factor),
      target: '≤ 5×',
      met: factor <= 5,
      figures: { bytes: text.length, proposeMs: subject.p50, floorMs: floor.p50, ratio: factor },
    });
  }
  return { rows };
}
