import autocannon from 'autocannon';
import type { JsonObject } from '../src/core/json.js';
import { typicalPatch } from './inprocess.js';
import { startServer } from './lib/child.js';
import { hash } from './lib/dist.js';
import { shippedConfig } from './lib/fixtures.js';
import { install, open } from './lib/install.js';
import { ms, perSecond, type Row, ratio, type Section } from './lib/report.js';

/** autocannon records whole milliseconds: 0 means under one. */
const latency = (value: number) => (value === 0 ? '< 1 ms' : ms(value));

const connections = 10;
const seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 8);

type Load = { requests: number; p50: number; p99: number; non2xx: number; errors: number; total: number };

async function load(url: string, token: string | null, body: string, duration = seconds): Promise<Load> {
  const result = await autocannon({
    url: `${url}/v1/proposals`,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return {
    requests: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

/** Warm the JIT, then measure. */
async function measure(url: string, token: string | null, body: string): Promise<Load> {
  await load(url, token, body, 2);
  const result = await load(url, token, body);
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors out of ${result.total}`);
  }
  return result;
}

export async function run(): Promise<Section> {
  const document: JsonObject = shippedConfig();
  const installation = install(document);
  // Hashes are keyed per installation: read the key through the service, as a client reads the hash.
  const opened = open(installation);
  const baseHash = hash.documentHash(opened.service.hashKey, document);
  opened.service.close();
  // A protected change (gateway.port) as an agent proposes it: it needs an owner, so it stays pending.
  const patch = { gateway: { port: 18790 } };
  const dryRun = JSON.stringify({ baseHash, patch: typicalPatch(document), dryRun: true, reason: 'benchmark' });
  const pending = JSON.stringify({ baseHash, patch, reason: 'benchmark', sessionKey: 'bench' });

  const bare = await startServer('bare.ts', [], 'bare');
  let floorFirst: Load;
  try {
    floorFirst = await measure(bare.address, null, pending);
  } finally {
    await bare.stop();
  }

  const server = await startServer('countersign.ts', [installation.data], 'countersign');
  let dry: Load;
  let stored: Load;
  try {
    dry = await measure(server.address, installation.agentToken, dryRun);
    stored = await measure(server.address, installation.agentToken, pending);
  } finally {
    await server.stop();
    installation.remove();
  }

  const bareAgain = await startServer('bare.ts', [], 'bare');
  let floorSecond: Load;
  try {
    floorSecond = await measure(bareAgain.address, null, pending);
  } finally {
    await bareAgain.stop();
  }
  const floor = (floorFirst.requests + floorSecond.requests) / 2;
  const floorP99 = Math.max(floorFirst.p99, floorSecond.p99);

  const row = (id: string, label: string, result: Load): Row => {
    const factor = result.requests / floor;
    return {
      id,
      benchmark: label,
      result: `${perSecond(result.requests)}, p99 ${latency(result.p99)}`,
      floor: `${perSecond(floor)}, p99 ${latency(floorP99)} bare fastify`,
      ratio: ratio(factor),
      target: '≥ 0.4×, p99 ≤ 15 ms',
      met: factor >= 0.4 && result.p99 <= 15,
      figures: {
        requestsPerSecond: result.requests,
        p50Ms: result.p50,
        p99Ms: result.p99,
        requests: result.total,
        floorRequestsPerSecond: floor,
        floorP99Ms: floorP99,
        ratio: factor,
        connections,
        seconds,
      },
    };
  };
  return {
    rows: [
      row('http-pending', 'propose over HTTP, pending (stored + audited)', stored),
      row('http-dry-run', 'propose over HTTP, dry run (not stored)', dry),
    ],
  };
}
