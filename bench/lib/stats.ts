import { Bench } from 'tinybench';

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export type Timing = { p50: number; mean: number; p99: number; samples: number };

type Task = { name: string; fn: () => unknown; beforeEach?: () => void };

/**
 * Runs the tasks with tinybench, `rounds` times in alternating order, and keeps each task's
 * median latency (ms) over rounds: a subject and its floor then see the same machine load.
 */
export function compare(
  tasks: Task[],
  options: { time?: number; iterations?: number; rounds?: number } = {},
): Map<string, Timing> {
  const rounds = options.rounds ?? 3;
  const seen = new Map<string, Timing[]>();
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({
      time: options.time ?? 300,
      iterations: options.iterations ?? 10,
      warmupTime: 50,
      warmupIterations: 3,
      throws: true,
    });
    const ordered = round % 2 === 0 ? tasks : [...tasks].reverse();
    for (const task of ordered) {
      bench.add(task.name, task.fn, task.beforeEach ? { beforeEach: task.beforeEach } : {});
    }
    for (const task of bench.runSync()) {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`);
      const timing = {
        p50: result.latency.p50,
        mean: result.latency.mean,
        p99: result.latency.p99,
        samples: result.latency.samplesCount,
      };
      seen.set(task.name, [...(seen.get(task.name) ?? []), timing]);
    }
  }
  const out = new Map<string, Timing>();
  for (const [name, timings] of seen) {
    out.set(name, {
      p50: median(timings.map((timing) => timing.p50)),
      mean: median(timings.map((timing) => timing.mean)),
      p99: median(timings.map((timing) => timing.p99)),
      samples: timings.reduce((sum, timing) => sum + timing.samples, 0),
    });
  }
  return out;
}

export function timing(results: Map<string, Timing>, name: string): Timing {
  const found = results.get(name);
  if (!found) throw new Error(`no result for ${name}`);
  return found;
}
