/**
 * Child process for bench/config.ts: the countersign app (rate limits and request logs off), plus
 * `GET /bench/config-uncached`, the handler `GET /v1/config` had before issue 14 (read, parse and
 * redact per request, serialised by fastify), behind the same hooks. Prints its address.
 */
import type { FastifyRequest } from 'fastify';
import pino from 'pino';
import type * as AuthModule from '../../src/http/auth.js';
import type * as ConfigViewModule from '../../src/service/config-view.js';
import { app, context, distRoot } from '../lib/dist.js';
import { listenForBench } from '../lib/listen.js';

const { callerOf } = (await import(new URL('http/auth.js', distRoot).href)) as typeof AuthModule;
const { uncachedConfig } = (await import(new URL('service/config-view.js', distRoot).href)) as typeof ConfigViewModule;

const data = process.argv[2];
if (!data) throw new Error('usage: config.ts DATA_DIR');
const service = context.openService(data, { logger: pino({ level: 'silent' }) });
const server = await app.buildApp(service, { rateLimit: false, logRequests: false });
server.get('/bench/config-uncached', async (request: FastifyRequest) => {
  callerOf(request);
  return uncachedConfig(service, undefined);
});
await listenForBench(server, () => service.close());
