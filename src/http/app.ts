import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { CountersignError } from '../core/errors.js';
import type { Service } from '../service/context.js';
import { startWebhooks, type WebhookDispatcher, type WebhookOptions } from '../service/webhooks.js';
import { authentication } from './auth.js';
import { zodCompilers } from './compilers.js';
import { durableReplies } from './durable-replies.js';
import { errorHandler } from './errors.js';
import { registerJsonBodyParser } from './json-body.js';
import { rateLimits } from './rate-limits.js';
import { auditRoutes } from './routes/audit.js';
import { configRoutes } from './routes/config.js';
import { apiDocs } from './routes/docs.js';
import { drillRoutes } from './routes/drill.js';
import { eventRoutes } from './routes/events.js';
import { execRoutes } from './routes/exec.js';
import { execCardRoutes } from './routes/exec-card.js';
import { execResolveRoutes } from './routes/exec-resolve.js';
import { healthRoutes } from './routes/health.js';
import { lookupRoutes } from './routes/lookup.js';
import { policyRoutes } from './routes/policy.js';
import { proposalRoutes } from './routes/proposals.js';
import { statusRoutes } from './routes/status.js';
import { uiRoutes } from './routes/ui.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Webhook delivery for this app's service; null when started with `webhooks: false`. */
    webhooks: WebhookDispatcher | null;
  }
}

export type AppOptions = {
  logRequests?: boolean;
  rateLimit?: boolean;
  /** Retry and timeout settings for webhook deliveries, or false for none (one dispatcher per service). */
  webhooks?: WebhookOptions | false;
  /** The event stream's heartbeat interval (default 15 s). */
  eventHeartbeatMs?: number;
  /** Group commit (default on): answers wait for one shared fsync instead of each commit paying its own. */
  groupCommit?: boolean;
};

/** The HTTP shell: parsing, authentication and error shape; every decision is in the service. */
export async function buildApp(service: Service, options: AppOptions = {}): Promise<FastifyInstance> {
  const { limits } = service.settings;
  const app: FastifyInstance = Fastify({
    loggerInstance: service.log as FastifyBaseLogger,
    // fastify 5.8 moved these two under `logController` and `routerOptions`; the top-level
    // spellings still work but warn (FSTDEP022/023) on every start.
    logController: new LogController({ disableRequestLogging: !(options.logRequests ?? true) }),
    bodyLimit: limits.bodyBytes,
    // Proposal ids are UUIDs; anything long is noise.
    routerOptions: { maxParamLength: 200 },
    // Errors fastify raises before routing (bad URLs, over-long ids) get the same error shape.
    frameworkErrors: errorHandler,
    schemaController: { compilersFactory: zodCompilers },
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    const error = new CountersignError('not_found', `There is no ${request.method} ${request.url.split('?')[0]}.`);
    return reply.status(error.status).send(error.toBody());
  });
  registerJsonBodyParser(app, limits);
  if (options.groupCommit ?? true) service.durability.enableGroupCommit();
  durableReplies(app, service);

  await app.register(apiDocs);
  await app.register(authentication, { service });
  if (options.rateLimit ?? true) await app.register(rateLimits, { limits: service.settings.rateLimits });
  await app.register(healthRoutes);
  await app.register(configRoutes, { service });
  await app.register(proposalRoutes, { service });
  await app.register(execRoutes, { service });
  await app.register(auditRoutes, { service });
  await app.register(drillRoutes, { service });
  await app.register(policyRoutes, { service });
  await app.register(execResolveRoutes, { service });
  await app.register(execCardRoutes, { service });
  await app.register(lookupRoutes, { service });
  await app.register(statusRoutes, { service });
  await app.register(eventRoutes, { service, heartbeatMs: options.eventHeartbeatMs });
  await app.register(uiRoutes);

  const webhooks = options.webhooks === false ? null : startWebhooks(service, options.webhooks ?? {});
  app.decorate('webhooks', webhooks);
  if (webhooks) app.addHook('onClose', async () => webhooks.stop());
  return app;
}
