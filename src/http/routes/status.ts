import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FreezeRequestSchema, statusMarkdown, statusText } from '../../core/freeze.js';
import { TotpCodeSchema } from '../../core/requests.js';
import type { Service } from '../../service/context.js';
import { freezeAsOwner, freezeStatus, unfreezeAsOwner, watchFreeze } from '../../service/freeze.js';
import { requireOwner } from '../../service/queries.js';
import { callerOf } from '../auth.js';
import { cardReply } from '../card-reply.js';

const tags = ['takeover'];

const UnfreezeRequestSchema = z
  .object({
    totp: TotpCodeSchema.optional(),
    reason: z.string().max(1000).optional(),
  })
  .strict();

const StatusQuerySchema = z.object({ format: z.enum(['json', 'markdown', 'text']).default('json') }).strict();

export type StatusRoutesOptions = { service: Service; freezeWatchMs?: number };

/**
 * Manual takeover (SPEC §11): `POST /v1/freeze`, `POST /v1/unfreeze` and `GET /v1/status`, all
 * owner-only. The plugin also watches the stored freeze state, so a freeze made by the CLI on
 * the data directory is announced on this server's event stream and webhooks within a second
 * (it is enforced from the next request whether or not anyone is watching).
 */
export const statusRoutes: FastifyPluginAsyncZod<StatusRoutesOptions> = async (app, { service, freezeWatchMs }) => {
  const stop = watchFreeze(service, freezeWatchMs);
  app.addHook('onClose', async () => stop());

  app.post(
    '/v1/freeze',
    {
      schema: {
        summary: 'Freeze every agent-initiated action; owners keep repairing (owner)',
        tags,
        body: FreezeRequestSchema,
      },
    },
    async (request) => freezeAsOwner(service, callerOf(request), request.body.reason),
  );

  app.post(
    '/v1/unfreeze',
    {
      schema: {
        summary: 'Lift a freeze (owner; a fresh TOTP code when any owner has one enrolled)',
        tags,
        body: UnfreezeRequestSchema,
      },
    },
    async (request) => unfreezeAsOwner(service, callerOf(request), request.body),
  );

  app.get(
    '/v1/status',
    {
      schema: {
        summary: 'Whether agents are frozen, since when and why, and when recovery was last drilled (owner)',
        tags,
        querystring: StatusQuerySchema,
      },
    },
    async (request, reply) => {
      requireOwner(callerOf(request));
      const status = freezeStatus(service);
      return cardReply(reply, request.query.format, {
        json: status,
        markdown: () => statusMarkdown(status, status.lastDrill),
        text: () => statusText(status, status.lastDrill),
      });
    },
  );
};
