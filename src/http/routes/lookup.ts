import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdLookupQuerySchema } from '../../core/id-prefix.js';
import type { Service } from '../../service/context.js';
import { lookupIds } from '../../service/lookup.js';
import { callerOf } from '../auth.js';

/** `GET /v1/ids?kind=proposal&prefix=82de4d92` (owners): which ids a short id could mean. */
export const lookupRoutes: FastifyPluginAsyncZod<{ service: Service }> = async (app, { service }) => {
  app.get(
    '/v1/ids',
    {
      schema: {
        summary: 'Ids of proposals, exec requests or exec grants that start with a prefix (8+ hex characters)',
        tags: ['ids'],
        querystring: IdLookupQuerySchema,
      },
    },
    async (request) => lookupIds(service, callerOf(request), request.query.kind, request.query.prefix),
  );
};
