/**
 * Issue 14: the footprint of validating against OpenClaw's 2.4 MB JSON Schema. Each way of
 * validating is started as a server (bench/servers/schema-option.mjs: the countersign app from
 * dist/ plus that validator, made ready before it listens) and timed from spawn to the first
 * answered `GET /healthz`, alternated with the same server without a schema; the resident set is
 * read after 2 s idle, and its peak (VmHWM) too. Then the real thing: `countersign serve` with
 * the shipped schema attached (the default) against `--schema none`, same run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileFlags } from './lib/child.js';
import { installer } from './lib/dist.js';
import { repoRoot, shippedConfig, shippedConfigFile } from './lib/fixtures.js';
import { install } from './lib/install.js';
import { ms, type Row, ratio, type Section } from './lib/report.js';
import { median } from './lib/stats.js';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const optionServer = fileURLToPath(new URL('./servers/schema-option.mjs', import.meta.url));
const schemaFile = `${repoRoot}schemas/openclaw-2026.9.schema.json`;
const runs = Number(process.env.BENCH_SCHEMA_RUNS ?? 3);
const listening = /countersign listening on (http:\/\/\S+)/;

type Started = { ms: number; rssMb: number | null; peakMb: number | null; inside: Record<string, unknown> };

function memoryOf(child: ChildProcess): { rssMb: number | null; peakMb: number | null } {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const read = (field: string) => {
      const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
      return Number.isFinite(kb) ? kb / 1024 : null;
    };
    return { rssMb: read('VmRSS'), peakMb: read('VmHWM') };
  } catch {
    return { rssMb: null, peakMb: null };
  }
}

/** Spawn → first answered /healthz; then 2 s idle, the resident set, and the child's own JSON line. */
async function start(args: string[], name: string): Promise<Started> {
  const began = performance.now();
  const child = spawn(process.execPath, [...profileFlags(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = listening.exec(output)?.[1];
        if (found) resolve(found);
      };
      child.stdout?.on('data', check);
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${errors.trim() || output.trim()}`)));
    });
    const response = await fetch(`${address}/healthz`);
    await response.text();
    const elapsed = performance.now() - began;
    if (!response.ok) throw new Error(`/healthz answered ${response.status}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const inside = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)[0];
    return { ms: elapsed, ...memoryOf(child), inside: inside ?? {} };
  } finally {
    if (child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
}

const options = ['ajv-compile', 'ajv-standalone', 'ajv-lazy', 'cfworker'] as const;
const described: Record<(typeof options)[number], string> = {
  'ajv-compile': 'ajv, whole schema compiled at start (before)',
  'ajv-standalone': 'ajv standalone code cached by schema hash',
  'ajv-lazy': 'ajv, top-level subschemas compiled on first use',
  cfworker: '@cfworker/json-schema, interpreted (shipped)',
};

function mb(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(1)} MB`;
}

export async function run(): Promise<Section> {
  if (!existsSync(cli)) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  const rows: Row[] = [];
  const notes: string[] = [];
  const plain = install(shippedConfig());
  const cache = mkdtempSync(join(tmpdir(), 'countersign-bench-schema-cache-'));
  try {
    const optionArgs = (option: string) => [optionServer, option, plain.data, schemaFile, cache, shippedConfigFile];
    for (const option of options) {
      const floors: Started[] = [];
      const starts: Started[] = [];
      let cold: Started | null = null;
      for (let index = 0; index < runs; index++) {
        floors.push(await start(optionArgs('none'), 'schema-none'));
        const started = await start(optionArgs(option), `schema-${option}`);
        // The standalone option's first start generates the cached code: reported on its own.
        if (option === 'ajv-standalone' && started.inside.cached === false) cold = started;
        else starts.push(started);
      }
      if (starts.length === 0) starts.push(await start(optionArgs(option), `schema-${option}`));
      const startup = median(starts.map((started) => started.ms));
      const floor = median(floors.map((started) => started.ms));
      const rss = median(starts.map((started) => started.rssMb ?? Number.NaN));
      const peak = Math.max(...starts.map((started) => started.peakMb ?? 0));
      const inside = starts[0]?.inside ?? {};
      const firstCheck = typeof inside.firstCheckMs === 'number' ? inside.firstCheckMs : null;
      rows.push({
        id: `schema-${option}`,
        benchmark: `start with OpenClaw schema: ${described[option]}`,
        result: `${ms(startup)}, RSS ${mb(rss)} (peak ${mb(peak)}), first check ${firstCheck === null ? 'n/a' : ms(firstCheck)}`,
        floor: `${ms(floor)}, RSS ${mb(median(floors.map((started) => started.rssMb ?? Number.NaN)))} no schema`,
        ratio: ratio(startup / floor),
        target: '≤ 2×, RSS ≤ 150 MB',
        met: startup / floor <= 2 && rss <= 150,
        figures: {
          startupMs: startup,
          floorMs: floor,
          rssMb: rss,
          peakMb: peak,
          runs,
          firstCheckMs: firstCheck,
          checkMs: typeof inside.checkMs === 'number' ? inside.checkMs : null,
          readyMs: typeof inside.readyMs === 'number' ? inside.readyMs : null,
        },
      });
      if (cold) {
        notes.push(
          `ajv standalone, first start (generates ${((cold.inside.codeBytes as number) / 1e6).toFixed(1)} MB of code in ${ms(cold.inside.generateMs as number)}): ${ms(cold.ms)}, peak RSS ${mb(cold.peakMb)}.`,
        );
      }
    }
  } finally {
    plain.remove();
    rmSync(cache, { recursive: true, force: true });
  }

  // The product as shipped: `serve` on an installation made by plain init (the schema attached
  // by default), alternated with one made with --schema none.
  const root = mkdtempSync(join(tmpdir(), 'countersign-bench-schema-'));
  try {
    const make = (name: string, schema: string | null | undefined) => {
      const data = join(root, name);
      installer.initInstallation(data, { config: join(root, `${name}.json`), schema, demoDocument: shippedConfig() });
      return ['serve', '--data', data, '--port', '0', '--rate-limit', 'off'];
    };
    const withSchema = make('default', undefined);
    const without = make('none', null);
    const floors: Started[] = [];
    const starts: Started[] = [];
    for (let index = 0; index < runs; index++) {
      floors.push(await start([cli, ...without], 'serve-no-schema'));
      starts.push(await start([cli, ...withSchema], 'serve-default-schema'));
    }
    const startup = median(starts.map((started) => started.ms));
    const floor = median(floors.map((started) => started.ms));
    const rss = median(starts.map((started) => started.rssMb ?? Number.NaN));
    const floorRss = median(floors.map((started) => started.rssMb ?? Number.NaN));
    rows.push({
      id: 'serve-default-schema',
      benchmark: '`serve`, shipped OpenClaw schema (default) vs --schema none',
      result: `${ms(startup)}, RSS ${mb(rss)}`,
      floor: `${ms(floor)}, RSS ${mb(floorRss)} --schema none`,
      ratio: ratio(startup / floor),
      target: '≤ 2×, RSS ≤ 150 MB',
      met: startup / floor <= 2 && rss <= 150,
      figures: { startupMs: startup, floorMs: floor, rssMb: rss, floorRssMb: floorRss, runs },
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return { rows, notes };
}
