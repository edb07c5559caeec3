import pino from 'pino';
import { buildApp } from '../http/app.js';
import { reconcileIntents } from '../service/apply.js';
import { openService } from '../service/context.js';
import { sweepExecRequests } from '../service/exec/requests.js';
import { initInstallation, isInitialised } from '../service/install.js';
import { expireOverdue } from '../service/lifecycle.js';
import { watchDocuments } from '../service/watch.js';
import { printInstallation } from './admin.js';
import { demoOpenClawConfig } from './demo-config.js';

export type ServeOptions = {
  data: string;
  host?: string;
  port?: string;
  rateLimit?: string;
  init?: boolean;
  logLevel?: string;
};

export async function serve(options: ServeOptions): Promise<void> {
  if (options.init && !isInitialised(options.data)) {
    printInstallation(initInstallation(options.data, { demoDocument: demoOpenClawConfig }), false, true);
  }
  const logger = pino({
    level: options.logLevel ?? process.env.COUNTERSIGN_LOG_LEVEL ?? 'info',
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
  });
  const service = openService(options.data, { logger });
  for (const outcome of reconcileIntents(service)) {
    logger.warn(outcome, 'reconciled an apply interrupted by a previous stop');
  }
  const app = await buildApp(service, { rateLimit: options.rateLimit !== 'off' });
  const host = options.host ?? service.settings.server.host;
  const port = options.port === undefined ? service.settings.server.port : Number(options.port);
  const address = await app.listen({ host, port });
  process.stdout.write(`countersign listening on ${address}\n`);

  const sweep = setInterval(() => {
    expireOverdue(service);
    sweepExecRequests(service);
  }, 5000);
  sweep.unref();
  const unwatch = watchDocuments(service);
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    clearInterval(sweep);
    unwatch();
    await app.close();
    service.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
