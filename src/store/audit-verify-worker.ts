/**
 * Worker thread for `countersign audit verify --jobs N` (src/store/audit-verify-parallel.ts):
 * verifies one range of the chain over its own read-only connection and posts the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ChainRange } from '../core/audit.js';
import { AuditLog } from './audit-log.js';
import { openDatabase } from './database.js';

export type RangeJob = { file: string; range: ChainRange; prevHash: string; first: boolean; last: boolean };

const job = workerData as RangeJob;
const db = openDatabase(job.file, { readonly: true });
try {
  parentPort?.postMessage(new AuditLog(db).verifyChain(job));
} finally {
  db.close();
}
