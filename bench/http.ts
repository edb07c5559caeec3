import type { JsonObject } from '../src/core/json.js';
import { typicalPatch } from './inprocess.js';
import { startServer } from './lib/child.js';
import { hash } from './lib/dist.js';
import { shippedConfig } from './lib/fixtures.js';
import { type BenchInstallation, install, open } from './lib/install.js';
import { type Load, latency, measurePost } from './lib/load.js';
import { perSecond, type Row, ratio, type Section } from './lib/report.js';
import { storageFloorMicros } from './lib/storage-floor.js';

const connections = 10;
const seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 8);

/** Warm the JIT, then measure proposals POSTed to the server at `url`. */
const measure = (url: string, token: string | null, body: string): Promise<Load> =>
  measurePost(`${url}/v1/proposals`, token, body, { seconds, connections });

/**
 * Pending proposals of `patch` measured against a server started (by `serverFor`) on an
 * installation of its own, removed afterwards. Hashes are keyed per installation, so the body
 * is made for it.
 */
async function onFreshInstallation(
  document: JsonObject,
  patch: JsonObject,
  serverFor: (fresh: BenchInstallation) => { script: string; args: string[]; name: string },
): Promise<Load> {
  const fresh = install(document);
  const opened = open(fresh);
  const body = JSON.stringify({
    baseHash: hash.documentHash(opened.service.hashKey, document),
    patch,
    reason: 'benchmark',
    sessionKey: 'bench',
  });
  opened.service.close();
  const { script, args, name } = serverFor(fresh);
  const server = await startServer(script, args, name);
  try {
    return await measure(server.address, fresh.agentToken, body);
  } finally {
    await server.stop();
    fresh.remove();
  }
}

export async function run(): Promise<Section> {
  const document: JsonObject = shippedConfig();
  const installation = install(document);
  // Hashes are keyed per installation: read the key through the service, as a client reads the hash.
  const opened = open(installation);
  const baseHash = hash.documentHash(opened.service.hashKey, document);
  opened.service.close();
  // A protected change (gateway.port) as an agent proposes it: it needs an owner, so it stays pending.
  const patch: JsonObject = { gateway: { port: 18790 } };
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
  let cardBytes: number;
  try {
    // The size of what a pending propose stores and answers, for the required-work floor below.
    const sample = await fetch(`${server.address}/v1/proposals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${installation.agentToken}`, 'content-type': 'application/json' },
      body: pending,
    });
    cardBytes = (await sample.text()).length;
    dry = await measure(server.address, installation.agentToken, dryRun);
    stored = await measure(server.address, installation.agentToken, pending);
  } finally {
    await server.stop();
    installation.remove();
  }

  // The same, on a fresh installation, without group commit: every commit pays its own fsync
  // (what issue 14 measured), so the gain is measured in the same run, on the same machine.
  const storedPerCommit = await onFreshInstallation(document, patch, (fresh) => ({
    script: 'countersign.ts',
    args: [fresh.data, 'fsync-per-commit'],
    name: 'countersign-per-commit',
  }));
  // What the contract alone costs (bench/servers/required.ts), on a fresh installation.
  const required = await onFreshInstallation(document, patch, (fresh) => ({
    script: 'required.ts',
    args: [fresh.data, fresh.configPath, String(cardBytes)],
    name: 'required',
  }));

  const bareAgain = await startServer('bare.ts', [], 'bare');
  let floorSecond: Load;
  try {
    floorSecond = await measure(bareAgain.address, null, pending);
  } finally {
    await bareAgain.stop();
  }
  const floor = (floorFirst.requests + floorSecond.requests) / 2;
  const floorP99 = Math.max(floorFirst.p99, floorSecond.p99);
  // The bound any stored propose meets on this stack: a bare route's request plus the cheapest
  // transaction that stores a card-sized proposal and its audit event (bench/lib/storage-floor.ts),
  // both on the one event loop.
  const storageMicros = storageFloorMicros(cardBytes);
  const bound = 1 / (1 / floor + storageMicros / 1e6);

  const row = (id: string, label: string, result: Load): Row => {
    const factor = result.requests / floor;
    return {
      id,
      benchmark: label,
      result: `${perSecond(result.requests)}, p99 ${latency(result.p99)}`,
      floor: `${perSecond(floor)}, p99 ${latency(floorP99)} bare fastify`,
      ratio: ratio(factor),
      target: '≥ 0.35×, p99 ≤ 10 ms',
      met: factor >= 0.35 && result.p99 <= 10,
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
      row('http-pending-fsync-per-commit', 'the same, one fsync per commit (no group commit)', storedPerCommit),
      row('http-dry-run', 'propose over HTTP, dry run (not stored)', dry),
      {
        ...row('http-required', 'the work a stored propose cannot skip, alone (servers/required.ts)', required),
        target: 'report',
        met: null,
        figures: {
          requestsPerSecond: required.requests,
          p99Ms: required.p99,
          floorRequestsPerSecond: floor,
          ratio: required.requests / floor,
          countersignToRequired: stored.requests / required.requests,
          cardBytes,
        },
      },
      {
        id: 'http-bound',
        benchmark: 'bound for any stored propose: a bare request + the least stored-proposal transaction',
        result: `≤ ${perSecond(bound)} (transaction ${storageMicros.toFixed(0)} µs, ${cardBytes} B card)`,
        floor: `${perSecond(floor)} bare fastify`,
        ratio: ratio(bound / floor),
        target: 'report',
        met: null,
        figures: {
          boundRequestsPerSecond: bound,
          storageMicros,
          floorRequestsPerSecond: floor,
          ratio: bound / floor,
          cardBytes,
        },
      },
    ],
  };
}
