import pino from 'pino';
import { buildApp } from '../http/app.js';
import { reconcileIntents } from '../service/apply.js';
import { openService } from '../service/context.js';
import { type Installation, initInstallation, isInitialised } from '../service/install.js';
import { expireOverdue } from '../service/lifecycle.js';
import { pruneUnreferencedDocuments } from '../service/proposal-documents.js';
import { watchDocuments } from '../service/watch.js';
import { requireInitialised } from './data-dir.js';
import { demoOpenClawConfig } from './demo-config.js';
import { installationLines } from './installation-text.js';

export type ServeOptions = {
  data: string;
  json?: boolean;
  host?: string;
  port?: string;
  rateLimit?: string;
  init?: boolean;
  logLevel?: string;
};

/**
 * `serve --json`: the banner as one JSON line on stdout, where every other line is a pino JSON log
 * line too, so a supervisor or a script can read the address and, on a first start, the tokens.
 */
export function startupJson(address: string, installation: Installation | null): Record<string, unknown> {
  return {
    listening: address,
    ui: `${address}/ui/`,
    docs: `${address}/docs`,
    ...(installation ? { initialised: installation } : {}),
  };
}

/**
 * What `serve` prints once it is listening, as one block: the one-time tokens (first start with
 * `--init` only), how to use them, and the addresses. Written in a single call after `listen`, so
 * request logs cannot land between the lines, and before nothing else a user must copy.
 */
export function startupBanner(address: string, data: string, installation: Installation | null): string {
  const lines: string[] = [];
  if (installation) {
    lines.push(
      ...installationLines(installation),
      'Give the agent its token. Keep the owner token for yourself; in another terminal:',
      `  export COUNTERSIGN_URL=${address}`,
      `  export COUNTERSIGN_TOKEN=${installation.ownerToken}`,
      `Lost a token? Mint another (the server can keep running): countersign token create --data ${data} --role owner --name owner`,
      '',
    );
  }
  lines.push(
    `countersign listening on ${address}`,
    `  approval page: ${address}/ui/  (sign in with an owner token)`,
    `  API docs:      ${address}/docs`,
    '',
  );
  return lines.join('\n');
}

export async function serve(options: ServeOptions): Promise<void> {
  const installation =
    options.init && !isInitialised(options.data)
      ? initInstallation(options.data, { demoDocument: demoOpenClawConfig })
      : null;
  const logger = pino({
    level: options.logLevel ?? process.env.COUNTERSIGN_LOG_LEVEL ?? 'info',
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
  });
  // Without --init, a directory never initialised is named with the command that makes it.
  const service = openService(installation ? options.data : requireInitialised(options.data), { logger });
  for (const outcome of reconcileIntents(service)) {
    logger.warn(outcome, 'reconciled an apply interrupted by a previous stop');
  }
  const app = await buildApp(service, { rateLimit: options.rateLimit !== 'off' });
  const host = options.host ?? service.settings.server.host;
  const port = options.port === undefined ? service.settings.server.port : Number(options.port);
  const address = await app.listen({ host, port });
  process.stdout.write(
    options.json
      ? `${JSON.stringify(startupJson(address, installation))}\n`
      : startupBanner(address, options.data, installation),
  );

  // Documents nothing keeps any more are pruned at start and about once a minute (issue 14):
  // expiries and applies are what release them, and a minute's leftovers cost only disk.
  pruneUnreferencedDocuments(service);
  // Overdue exec requests are decided by their fallback here too. The exec engine is loaded only
  // once one is overdue, or by the first exec route (see execRequests in src/http/routes/exec.ts).
  const sweepExec = async () => {
    if (service.exec.overdue(service.now()).length === 0) return;
    const { sweepExecRequests } = await import('../service/exec/requests.js');
    sweepExecRequests(service);
  };
  let ticks = 0;
  const sweep = setInterval(() => {
    expireOverdue(service);
    sweepExec().catch((error) => logger.warn({ err: error }, 'could not decide overdue exec requests'));
    if (++ticks % 12 === 0) pruneUnreferencedDocuments(service);
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
