/**
 * Issue 14: `GET /v1/config` on a ~4 MB document. Before: every request read, parsed, redacted
 * and serialised the document (`/bench/config-uncached`, the old handler behind the same hooks).
 * After: the redacted body is kept per file stamp and sent as it is, and a poller that sends
 * `If-None-Match` gets a bodiless 304. Both against a bare fastify route sending the same bytes.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startServer } from './lib/child.js';
import { configWithGroups, documentText, formatBytes, groupsForSize } from './lib/fixtures.js';
import { install } from './lib/install.js';
import { latency } from './lib/load.js';
import { perSecond, type Row, ratio, type Section } from './lib/report.js';

const connections = 10;
const seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 8);
const documentBytes = 4 * 1024 * 1024;

type Get = { requests: number; p99: number; total: number; bytesPerSecond: number; status: number };

async function get(url: string, headers: Record<string, string>, expect: number, duration: number): Promise<Get> {
  const result = await autocannon({ url, connections, duration, headers });
  const counts = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  const unexpected = Object.entries(counts).filter(([code]) => Number(code) !== expect);
  if (unexpected.length > 0 || result.errors + result.timeouts > 0) {
    throw new Error(`GET ${url}: answers ${JSON.stringify(counts)}, ${result.errors + result.timeouts} errors`);
  }
  const throughput = (result as unknown as { throughput: { average: number } }).throughput;
  return {
    requests: result.requests.average,
    p99: result.latency.p99,
    total: result.requests.total,
    bytesPerSecond: throughput.average,
    status: expect,
  };
}

/** Warm up for 2 s, then measure. */
async function measure(url: string, headers: Record<string, string>, expect = 200): Promise<Get> {
  await get(url, headers, expect, 2);
  return get(url, headers, expect, seconds);
}

export async function run(): Promise<Section> {
  const document = configWithGroups(groupsForSize(documentBytes));
  const installation = install(document);
  const bodyFile = join(installation.root, 'body.json');
  const auth = { authorization: `Bearer ${installation.agentToken}` };

  const server = await startServer('config.ts', [installation.data], 'countersign');
  let uncached: Get;
  let cached: Get;
  let notModified: Get;
  let stackFloor: Get;
  let bodyBytes: number;
  let etag: string;
  try {
    const first = await fetch(`${server.address}/v1/config`, { headers: auth });
    const body = await first.text();
    etag = first.headers.get('etag') ?? '';
    if (first.status !== 200 || !etag) throw new Error(`GET /v1/config answered ${first.status} without an ETag`);
    const old = await (await fetch(`${server.address}/bench/config-uncached`, { headers: auth })).text();
    if (old !== body) throw new Error('the cached body differs from the one the old handler sends');
    bodyBytes = Buffer.byteLength(body);
    writeFileSync(bodyFile, body);
    uncached = await measure(`${server.address}/bench/config-uncached`, auth);
    cached = await measure(`${server.address}/v1/config`, auth);
    notModified = await measure(`${server.address}/v1/config`, { ...auth, 'if-none-match': etag }, 304);
    // The stack's own floor for a tiny authenticated answer (token lookup and hooks, no document work).
    stackFloor = await measure(`${server.address}/healthz`, auth);
  } finally {
    await server.stop();
  }

  const bare = await startServer('bare-config.ts', [bodyFile], 'bare');
  let floor: Get;
  let floor304: Get;
  try {
    floor = await measure(`${bare.address}/v1/config`, {});
    floor304 = await measure(`${bare.address}/v1/config-304`, {}, 304);
  } finally {
    await bare.stop();
    installation.remove();
    rmSync(bodyFile, { force: true });
  }

  const mbps = (value: number) => `${(value / 1024 / 1024).toFixed(0)} MB/s`;
  const row = (
    id: string,
    label: string,
    result: Get,
    against: Get,
    target: number | null,
    floorName = 'bare fastify',
  ): Row => {
    const factor = result.requests / against.requests;
    return {
      id,
      benchmark: label,
      result: `${perSecond(result.requests)}, p99 ${latency(result.p99)}, ${mbps(result.bytesPerSecond)}`,
      floor: `${perSecond(against.requests)}, p99 ${latency(against.p99)} ${floorName}`,
      ratio: ratio(factor),
      target: target === null ? '— (reported)' : `≥ ${target}×`,
      met: target === null ? null : factor >= target,
      figures: {
        requestsPerSecond: result.requests,
        p99Ms: result.p99,
        bytesPerSecond: result.bytesPerSecond,
        requests: result.total,
        floorRequestsPerSecond: against.requests,
        floorBytesPerSecond: against.bytesPerSecond,
        ratio: factor,
        bodyBytes,
        connections,
        seconds,
      },
    };
  };
  const size = `${formatBytes(documentText(document).length)} document`;
  return {
    rows: [
      row('config-get-before', `GET /v1/config ${size}, before (parse + redact per request)`, uncached, floor, null),
      row('config-get-200', `GET /v1/config ${size}, cached body (200)`, cached, floor, 0.5),
      row('config-get-304', `GET /v1/config ${size}, If-None-Match (304)`, notModified, floor304, null),
      row(
        'config-get-304-stack',
        `GET /v1/config ${size}, 304 vs the stack's tiny authenticated GET`,
        notModified,
        stackFloor,
        0.8,
        'GET /healthz with a token, same server',
      ),
    ],
    notes: [
      `GET /v1/config, ${size} body: before ${perSecond(uncached.requests)}, cached ${perSecond(cached.requests)} (${ratio(cached.requests / uncached.requests)} before), 304 ${perSecond(notModified.requests)} sending ${formatBytes(Math.round(notModified.bytesPerSecond / Math.max(1, notModified.requests)))} per answer instead of ${formatBytes(bodyBytes)} (the redacted body, compact JSON).`,
    ],
  };
}
