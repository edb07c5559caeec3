/**
 * `npm run bench`: every benchmark, each measured against the floor of the stack in the same
 * run, printed as one table (plus the growth tables). `npm run bench -- --json` also writes
 * bench/results/latest.json. `--only=http,audit` runs a subset. Only 127.0.0.1 is used.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { formatGrowth, formatRows, type GrowthTable, machine, type Row, type Section } from './lib/report.js';

type Benchmark = { name: string; run: () => Promise<Section> };

const benchmarks: Benchmark[] = [
  { name: 'startup', run: async () => (await import('./startup.js')).run() },
  { name: 'http', run: async () => (await import('./http.js')).run() },
  { name: 'config', run: async () => (await import('./config.js')).run() },
  { name: 'inprocess', run: async () => (await import('./inprocess.js')).run() },
  { name: 'classifier', run: async () => (await import('./classifier.js')).run() },
  { name: 'apply', run: async () => (await import('./apply.js')).run() },
  { name: 'growth', run: async () => (await import('./growth.js')).run() },
  { name: 'audit', run: async () => (await import('./audit.js')).run() },
  { name: 'exec', run: async () => (await import('./exec.js')).run() },
  { name: 'schema', run: async () => (await import('./schema.js')).run() },
  { name: 'storage', run: async () => (await import('./storage.js')).run() },
];

const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const selected = only ? benchmarks.filter((benchmark) => only.includes(benchmark.name)) : benchmarks;
if (selected.length === 0) {
  process.stderr.write(`no such benchmark; choose from ${benchmarks.map((benchmark) => benchmark.name).join(', ')}\n`);
  process.exit(2);
}

const host = machine();
process.stdout.write(
  `countersign benchmarks — ${host.cpu}, ${host.cores} cores, ${host.node}, load ${host.loadBefore.join(' ')}\n`,
);
const rows: Row[] = [];
const tables: GrowthTable[] = [];
const notes: string[] = [];
const started = performance.now();
let crashed = false;
for (const benchmark of selected) {
  const began = performance.now();
  process.stdout.write(`  running ${benchmark.name}…`);
  try {
    const section = await benchmark.run();
    rows.push(...section.rows);
    tables.push(...(section.tables ?? []));
    notes.push(...(section.notes ?? []));
    process.stdout.write(` ${((performance.now() - began) / 1000).toFixed(1)} s\n`);
  } catch (error) {
    crashed = true;
    process.stdout.write(' failed\n');
    rows.push({
      id: benchmark.name,
      benchmark: `${benchmark.name}: did not run`,
      result: (error as Error).message.split('\n')[0] ?? 'error',
      floor: '—',
      ratio: '—',
      target: '—',
      met: false,
      figures: {},
    });
  }
}
host.loadAfter = loadavg().map((value) => Math.round(value * 100) / 100);

process.stdout.write(`\n${formatRows(rows)}\n`);
for (const table of tables) process.stdout.write(`\n${formatGrowth(table)}\n`);
if (notes.length > 0) process.stdout.write(`\n${notes.map((note) => `- ${note}`).join('\n')}\n`);
process.stdout.write(
  `\n${host.cpu}, ${host.cores} cores, ${host.memory}; ${host.node}; load ${host.loadBefore.join(' ')} → ${host.loadAfter.join(' ')}; ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
);

if (json) {
  const directory = new URL('./results/', import.meta.url);
  mkdirSync(directory, { recursive: true });
  const file = new URL('latest.json', directory);
  writeFileSync(
    file,
    `${JSON.stringify({ takenAt: new Date().toISOString(), machine: host, rows, tables, notes }, null, 2)}\n`,
  );
  process.stdout.write(`figures written to ${file.pathname}\n`);
}
process.exitCode = crashed ? 1 : 0;
