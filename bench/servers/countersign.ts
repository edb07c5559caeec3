/** Child process: the countersign app on 127.0.0.1 with rate limits and request logs off. Prints its address. */
import pino from 'pino';
import { app, context } from '../lib/dist.js';

const data = process.argv[2];
if (!data) throw new Error('usage: countersign.ts DATA_DIR');
const service = context.openService(data, { logger: pino({ level: 'silent' }) });
const server = await app.buildApp(service, { rateLimit: false, logRequests: false });
const address = await server.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ address })}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => {
    service.close();
    process.exit(0);
  });
});
