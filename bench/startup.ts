import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { profileFlags } from './lib/child.js';
import { openclawSchemaFile, shippedConfig } from './lib/fixtures.js';
import { install } from './lib/install.js';
import { ms, type Row, ratio, type Section } from './lib/report.js';
import { median } from './lib/stats.js';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 5);

type Started = { ms: number; rssMb: number | null; error: string | null };

function rssOf(child: ChildProcess): number | null {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Spawns a server, waits for the address it prints, and times spawn → first answered
 * `GET /healthz`. With `idleMs`, the resident set is read after that long idle.
 */
async function firstAnswer(args: string[], pattern: RegExp, name: string, idleMs = 0): Promise<Started> {
  const started = performance.now();
  const child = spawn(process.execPath, [...profileFlags(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  try {
    const address = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const found = pattern.exec(output)?.[1];
        if (found) resolve(found);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${errors.trim() || output.trim()}`)));
    });
    const response = await fetch(`${address}/healthz`);
    await response.text();
    const elapsed = performance.now() - started;
    if (!response.ok) throw new Error(`/healthz answered ${response.status}`);
    let rssMb: number | null = null;
    if (idleMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, idleMs));
      rssMb = rssOf(child);
    }
    return { ms: elapsed, rssMb, error: null };
  } catch (error) {
    return { ms: performance.now() - started, rssMb: null, error: (error as Error).message };
  } finally {
    if (child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
}

const bareServer = `require('node:http').createServer((q, s) => s.end('{"ok":true}')).listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });`;

export async function run(): Promise<Section> {
  if (!existsSync(cli)) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  const plain = install(shippedConfig());
  const notes: string[] = [];
  const rows: Row[] = [];
  try {
    const serve = ['serve', '--data', plain.data, '--port', '0', '--rate-limit', 'off'];
    const listening = /countersign listening on (http:\/\/\S+)/;
    const floors: number[] = [];
    const starts: Started[] = [];
    for (let index = 0; index < runs; index++) {
      const floor = await firstAnswer(['-e', bareServer], /listening on (http:\/\/\S+)/, 'bare-node');
      if (floor.error) throw new Error(`bare node server: ${floor.error}`);
      floors.push(floor.ms);
      starts.push(await firstAnswer([cli, ...serve], listening, 'serve', index === 0 ? 2000 : 0));
    }
    const failed = starts.find((start) => start.error !== null);
    if (failed) throw new Error(`countersign serve: ${failed.error}`);
    const startup = median(starts.map((start) => start.ms));
    const floor = median(floors);
    const rss = starts[0]?.rssMb ?? null;
    rows.push({
      id: 'startup',
      benchmark: 'start-up to first answer, `serve`, no schema',
      result: `${ms(startup)} median`,
      floor: `${ms(floor)} bare node http server`,
      ratio: ratio(startup / floor),
      target: '≤ 400 ms',
      met: startup <= 400,
      figures: { startupMs: startup, floorMs: floor, runs },
    });
    rows.push({
      id: 'idle-rss',
      benchmark: 'idle RSS after start-up, `serve`, no schema',
      result: rss === null ? 'n/a' : `${rss.toFixed(1)} MB`,
      floor: '—',
      ratio: '—',
      target: '≤ 80 MB',
      met: rss === null ? null : rss <= 80,
      figures: { rssMb: rss },
    });
  } finally {
    plain.remove();
  }

  if (existsSync(openclawSchemaFile)) {
    const withSchema = install(shippedConfig(), { schema: openclawSchemaFile });
    try {
      const start = await firstAnswer(
        [cli, 'serve', '--data', withSchema.data, '--port', '0', '--rate-limit', 'off'],
        /countersign listening on (http:\/\/\S+)/,
        'serve-schema',
        2000,
      );
      rows.push({
        id: 'startup-schema',
        benchmark: 'start-up to first answer, 2.4 MB OpenClaw schema',
        result: start.error ? 'did not start' : `${ms(start.ms)}, RSS ${start.rssMb?.toFixed(1) ?? 'n/a'} MB`,
        floor: '—',
        ratio: '—',
        target: 'report',
        met: null,
        figures: { startupMs: start.error ? null : start.ms, rssMb: start.rssMb, error: start.error },
      });
      if (start.error) notes.push(`With the OpenClaw schema the server did not start: ${start.error.split('\n')[0]}`);
    } finally {
      withSchema.remove();
    }
  } else {
    notes.push(`${openclawSchemaFile} is not on this machine; start-up with the schema was not measured.`);
  }
  return { rows, notes };
}
