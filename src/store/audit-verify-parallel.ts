import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ChainHead, chainRanges, combineVerifications, GENESIS_HASH, type Verification } from '../core/audit.js';
import type { AuditLog } from './audit-log.js';
import type { RangeJob } from './audit-verify-worker.js';

/** Below this many events one pass is quicker than starting threads (each opens the database). */
export const parallelFromEvents = 100_000;

/** `--jobs` when not given: the cores there are, at most 4 (reading the database is shared). */
export function defaultJobs(events: number): number {
  return events < parallelFromEvents ? 1 : Math.min(4, availableParallelism());
}

// Built next to this module in dist/; absent when the sources run untranspiled (the unit tests),
// where the chain is then verified in one pass, which checks exactly the same.
const workerFile = fileURLToPath(new URL('./audit-verify-worker.js', import.meta.url));

function runJob(job: RangeJob): Promise<Verification> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile, { workerData: job });
    worker.once('message', (result: Verification) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`audit verify worker exited with code ${code}`));
    });
  });
}

/**
 * `AuditLog.verify` split over `jobs` threads: every event's check needs only its own stored
 * text and the stored hash of the event before it, so contiguous ranges, each started from the
 * stored hash before it, check exactly what one pass checks (core/audit.ts combineVerifications).
 * The ranges are fixed from the head read first; events appended meanwhile fall in the last one.
 */
export async function verifyAuditLog(
  file: string,
  audit: AuditLog,
  options: {
    jobs?: number;
    expectHead?: ChainHead;
    /** How a range is verified: in a worker thread; tests pass the same check run in-thread. */
    runRange?: (job: RangeJob) => Verification | Promise<Verification>;
  } = {},
): Promise<Verification> {
  const head = audit.head();
  const jobs = options.jobs ?? defaultJobs(head?.seq ?? 0);
  const runRange = options.runRange ?? (existsSync(workerFile) ? runJob : null);
  if (!head || jobs <= 1 || !runRange) return audit.verify(options.expectHead);
  const ranges = chainRanges(head.seq, jobs);
  const parts = await Promise.all(
    ranges.map(async (range, index) => {
      const prevHash = index === 0 ? GENESIS_HASH : audit.storedHash(range.from - 1);
      // The event before this range is missing: the range before it stops short, and reports it.
      if (prevHash === null) {
        const result: Verification = {
          ok: false,
          brokenAt: range.from - 1,
          reason: `expected event ${range.from - 1}, found none`,
        };
        return { range, result };
      }
      const job: RangeJob = {
        file,
        range,
        prevHash,
        first: index === 0,
        last: index === ranges.length - 1,
      };
      return { range, result: await runRange(job) };
    }),
  );
  return audit.checkExpectedHead(combineVerifications(parts), options.expectHead);
}
