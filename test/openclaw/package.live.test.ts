// What the installed OpenClaw 2026.9.6 itself says, compared with what countersign's shipped
// policies say (issue 12): its own dangerous-flag checks (read from its dist modules by
// openclaw-package.mjs, run under its Node 24) and its own reload plan. No gateway is started.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Json, JsonObject } from '../../src/core/json.js';
import { parsePath } from '../../src/core/path.js';
import { planChange } from '../../src/core/plan.js';
import { reloadKind } from '../../src/core/reload-plan.js';
import { loadPolicy } from '../../src/service/context.js';
import { fixtures, shippedPolicy } from '../support/harness.js';

const run = promisify(execFile);
const openclawBin = process.env.OPENCLAW_BIN;
const nodeBin = process.env.OPENCLAW_NODE_BIN;
const helper = fileURLToPath(new URL('./openclaw-package.mjs', import.meta.url));
const KEY = Buffer.alloc(32, 9);
const BASE_HASH = `hmac-sha256:${'c'.repeat(64)}`;

type Scan = {
  core: { path: string; value: boolean; label: string }[];
  lists: string[];
  perEntry: { list: string; key: string; value: boolean }[];
  dockerKeys: string[];
  plugins: { pluginId: string; path: string; equals: Json }[];
  pushes: number;
};

async function askOpenClaw<T>(request: object): Promise<T> {
  if (!openclawBin || !nodeBin) throw new Error('OPENCLAW_BIN and OPENCLAW_NODE_BIN must be set (.ci/openclaw)');
  const packageDir = dirname(openclawBin);
  const { stdout } = await run(nodeBin, [helper, packageDir, JSON.stringify(request)], {
    maxBuffer: 64 * 1024 * 1024,
    cwd: packageDir,
  });
  return JSON.parse(stdout) as T;
}

const policies = ['openclaw.json', 'openclaw-hard-block.json'].map((name) => ({
  name,
  policy: loadPolicy(join(shippedPolicy, '..', name)).policy,
}));
const base = JSON.parse(readFileSync(join(fixtures, 'openclaw.json'), 'utf8')) as JsonObject;

/** Sets a dotted path in a copy of `document`, creating objects on the way. */
function withValue(document: JsonObject, dotted: string, value: Json): JsonObject {
  const copy = structuredClone(document);
  const keys = dotted.split('.');
  let node = copy;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) node[key] = {};
    node = node[key] as JsonObject;
  }
  node[keys.at(-1) as string] = value;
  return copy;
}

/** One way of switching a flag on: the document before, the document after, and the label OpenClaw should print. */
type Case = { name: string; before: JsonObject; after: JsonObject; label: string };

function cases(scan: Scan): Case[] {
  const out: Case[] = [];
  for (const { path, value, label } of scan.core) {
    const before = value === false ? withValue(base, path, true) : base;
    out.push({ name: label, before, after: withValue(base, path, value), label });
  }
  for (const list of scan.lists) {
    out.push({
      name: `${list}: first entry`,
      before: base,
      after: withValue(base, list, [{ checkId: 'gateway.bind_no_auth' }]),
      label: `${list} configured (1)`,
    });
  }
  for (const { list, key, value } of scan.perEntry) {
    const mapping = { id: 'github', match: { path: 'github' }, action: 'agent' };
    const existing = withValue(base, list, [mapping]);
    out.push({
      name: `${list}: a new entry with ${key}=${value}`,
      before: base,
      after: withValue(base, list, [{ ...mapping, [key]: value }]),
      label: `${list}[0].${key}=${value}`,
    });
    out.push({
      name: `${list}: ${key}=${value} on an existing entry`,
      before: existing,
      after: withValue(base, list, [{ ...mapping, [key]: value }]),
      label: `${list}[0].${key}=${value}`,
    });
  }
  for (const key of scan.dockerKeys) {
    out.push({
      name: `agents.defaults.sandbox.docker.${key}`,
      before: base,
      after: withValue(base, `agents.defaults.sandbox.docker.${key}`, true),
      label: `agents.defaults.sandbox.docker.${key}=true`,
    });
    // The fixture keys its agents by name (agents.entries.ops) …
    out.push({
      name: `agents.entries.ops.sandbox.docker.${key}`,
      before: base,
      after: withValue(base, `agents.entries.ops.sandbox.docker.${key}`, true),
      label: `agents.entries.ops.sandbox.docker.${key}=true`,
    });
    // … older configs list them (agents.list[], read only when there is no agents.entries), which
    // OpenClaw labels by id.
    const { entries: _entries, ownership: _ownership, ...agents } = base.agents as JsonObject;
    const legacy = { ...base, agents };
    const listed = withValue(legacy, 'agents.list', [{ id: 'worker', sandbox: { mode: 'all' } }]);
    out.push({
      name: `agents.list[id=worker].sandbox.docker.${key}`,
      before: listed,
      after: withValue(legacy, 'agents.list', [{ id: 'worker', sandbox: { mode: 'all', docker: { [key]: true } } }]),
      label: `agents.entries.worker.sandbox.docker.${key}=true`,
    });
  }
  for (const { pluginId, path, equals } of scan.plugins) {
    const concrete = path.replaceAll('*', 'work');
    out.push({
      name: `plugins.entries.${pluginId}.config.${path}=${String(equals)}`,
      before: base,
      after: withValue(base, `plugins.entries.${pluginId}.config.${concrete}`, equals),
      label: `plugins.entries.${pluginId}.config.${concrete}=${String(equals)}`,
    });
  }
  return out;
}

describe.skipIf(!openclawBin || !nodeBin)("the shipped policies against the installed OpenClaw's own code", () => {
  it('classifies every flag OpenClaw calls insecure or dangerous as dangerous, in both shipped policies', async () => {
    const { scan } = await askOpenClaw<{ scan: Scan }>({ scan: true });
    // Every check in OpenClaw's module is one the scan understood: a check written in a new shape
    // (and so missed below) changes the count and fails here rather than passing unexamined.
    const understood =
      scan.core.length +
      scan.lists.length +
      scan.perEntry.length +
      (scan.dockerKeys.length > 0 ? 1 : 0) +
      (scan.plugins.length > 0 ? 1 : 0);
    expect(scan.pushes).toBe(understood);
    expect(scan.core.length).toBeGreaterThanOrEqual(5);
    expect(scan.dockerKeys.length).toBeGreaterThanOrEqual(3);
    expect(scan.plugins.length).toBeGreaterThanOrEqual(1);

    const all = cases(scan);
    const { flags } = await askOpenClaw<{ flags: Record<string, string[]> }>({
      flagConfigs: all.flatMap((item, index) => [
        { id: `before-${index}`, config: item.before },
        { id: `after-${index}`, config: item.after },
      ]),
    });
    const failures: string[] = [];
    all.forEach((item, index) => {
      const before = new Set(flags[`before-${index}`]);
      const raised = (flags[`after-${index}`] ?? []).filter((label) => !before.has(label));
      // OpenClaw itself says this change switches the flag on (so the case is a real one) …
      if (!raised.includes(item.label)) failures.push(`${item.name}: OpenClaw printed ${JSON.stringify(raised)}`);
      // … and countersign's shipped policies put the change in the dangerous tier.
      for (const { name, policy } of policies) {
        const plan = planChange(
          policy,
          item.before,
          BASE_HASH,
          { kind: 'replace', document: item.after },
          { hashKey: KEY },
        );
        const tier = plan.kind === 'change' ? plan.tier : 'unchanged';
        if (tier !== 'dangerous' && tier !== 'blocked') failures.push(`${name}: ${item.name} is ${tier}`);
      }
    });
    expect(failures).toEqual([]);
    expect(all.length).toBeGreaterThanOrEqual(20);
  });

  it("says restart exactly where OpenClaw's reload plan restarts the gateway", async () => {
    const { policy } = policies[0] as (typeof policies)[number];
    const table = policy.reload;
    const compiled = policy.compiledReload;
    if (!table || !compiled) throw new Error('the shipped policy has no reload table');
    // The corpus: every prefix of the table (a `*` made concrete) and the paths one level under
    // it, every leaf of the fixture, and every top-level key of OpenClaw's schema.
    const schema = JSON.parse(readFileSync(join(fixtures, 'openclaw.schema.json'), 'utf8')) as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    const corpus = new Set<string>();
    for (const prefix of [...table.hot, ...table.none, ...table.restart]) {
      const concrete = prefix.replaceAll('*', 'main');
      corpus.add(concrete);
      corpus.add(`${concrete}.someSetting`);
    }
    const leaves = (node: unknown, path: string[]): void => {
      if (node && typeof node === 'object' && !Array.isArray(node)) {
        for (const [key, child] of Object.entries(node)) leaves(child, [...path, key]);
      } else if (path.length > 0) corpus.add(path.join('.'));
    };
    leaves(base, []);
    for (const [key, property] of Object.entries(schema.properties)) {
      corpus.add(key);
      for (const child of Object.keys(property.properties ?? {})) corpus.add(`${key}.${child}`);
    }
    const paths = [...corpus].sort();
    const { reload } = await askOpenClaw<{ reload: Record<string, 'hot' | 'none' | 'restart'> }>({ paths });
    const disagreements = paths.filter(
      (path) => (reloadKind(compiled, parsePath(path)) === 'restart') !== (reload[path] === 'restart'),
    );
    expect(disagreements.map((path) => `${path}: OpenClaw ${reload[path]}`)).toEqual([]);
    expect(paths.length).toBeGreaterThan(300);
  });
});
