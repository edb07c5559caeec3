import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AuditQuerySchema, parseHead, VerifyQuerySchema } from '../../core/requests.js';
import type { Service } from '../../service/context.js';
import { requireOwner } from '../../service/queries.js';
import { callerOf } from '../auth.js';

export const auditRoutes: FastifyPluginAsyncZod<{ service: Service }> = async (app, { service }) => {
  app.get(
    '/v1/audit',
    {
      schema: {
        summary: 'Audit events, oldest first, after a sequence number',
        tags: ['audit'],
        querystring: AuditQuerySchema,
      },
    },
    async (request) => {
      requireOwner(callerOf(request));
      return { events: service.audit.list(request.query) };
    },
  );

  app.get(
    '/v1/audit/verify',
    { schema: { summary: 'Recompute the hash chain', tags: ['audit'], querystring: VerifyQuerySchema } },
    async (request) => {
      requireOwner(callerOf(request));
      const { expectHead } = request.query;
      return service.audit.verify(expectHead ? parseHead(expectHead) : undefined);
    },
  );
};
