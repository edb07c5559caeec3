/**
 * Child process: the countersign app on 127.0.0.1 with rate limits and request logs off. Prints its address.
 * `countersign.ts DATA_DIR fsync-per-commit` turns group commit off (every commit fsyncs, as before issue 14).
 */
import pino from 'pino';
import { app, context } from '../lib/dist.js';
import { listenForBench } from '../lib/listen.js';

const data = process.argv[2];
if (!data) throw new Error('usage: countersign.ts DATA_DIR');
const service = context.openService(data, { logger: pino({ level: 'silent' }) });
const groupCommit = process.argv[3] !== 'fsync-per-commit';
const server = await app.buildApp(service, { rateLimit: false, logRequests: false, groupCommit });
await listenForBench(server, () => {
  // How many requests shared each fsync, for the notes (stderr: stdout carries only the address).
  if (process.env.BENCH_SYNCS) process.stderr.write(`countersign: ${service.durability.syncs} group fsyncs\n`);
  service.close();
});
