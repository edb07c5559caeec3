import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, freemem, loadavg, totalmem } from 'node:os';

/** One line of the results table: a measurement, the floor it is compared with in the same run, and its target. */
export type Row = {
  id: string;
  benchmark: string;
  result: string;
  floor: string;
  ratio: string;
  target: string;
  /** null: reported only, no target. */
  met: boolean | null;
  /** The raw figures behind the row, for --json. */
  figures: Record<string, number | string | null>;
};

export type GrowthTable = { title: string; columns: string[]; rows: Array<{ label: string; cells: string[] }> };

export type Section = { rows: Row[]; tables?: GrowthTable[]; notes?: string[] };

export type Machine = {
  cpu: string;
  cores: number;
  memory: string;
  node: string;
  platform: string;
  loadBefore: number[];
  loadAfter?: number[];
};

export function machine(): Machine {
  let cpu = 'unknown';
  try {
    cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  let memory = `${(totalmem() / 1024 ** 3).toFixed(1)} GiB total, ${(freemem() / 1024 ** 3).toFixed(1)} GiB free`;
  try {
    memory = execFileSync('free', ['-h'], { encoding: 'utf8' }).split('\n')[1]?.replace(/\s+/g, ' ').trim() ?? memory;
  } catch {
    // no `free`
  }
  return {
    cpu,
    cores: availableParallelism(),
    memory,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadBefore: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

export function ms(value: number): string {
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  if (value >= 1) return `${value.toFixed(2)} ms`;
  return `${(value * 1000).toFixed(1)} µs`;
}

export function perSecond(value: number, unit = 'req/s'): string {
  return `${Math.round(value).toLocaleString('en-US')} ${unit}`;
}

export function ratio(value: number, digits = 2): string {
  return `${value.toFixed(digits)}×`;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length));
}

/** A plain-text table with a header rule, columns padded to their widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => [...(row[column] ?? '')].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => pad(cell, widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

export function metText(met: boolean | null): string {
  if (met === null) return '—';
  return met ? 'yes' : 'NO';
}

export function formatRows(rows: Row[]): string {
  return formatTable(
    ['benchmark', 'result', 'floor (same run)', 'ratio', 'target', 'met'],
    rows.map((row) => [row.benchmark, row.result, row.floor, row.ratio, row.target, metText(row.met)]),
  );
}

export function formatGrowth(table: GrowthTable): string {
  return `${table.title}\n${formatTable(
    ['', ...table.columns],
    table.rows.map((row) => [row.label, ...row.cells]),
  )}`;
}
