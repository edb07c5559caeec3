import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { TargetQuerySchema } from '../../core/requests.js';
import type { Service } from '../../service/context.js';
import { readConfig } from '../../service/queries.js';
import { callerOf } from '../auth.js';

export const configRoutes: FastifyPluginAsyncZod<{ service: Service }> = async (app, { service }) => {
  app.get(
    '/v1/config',
    {
      schema: {
        summary: 'The current document, secrets redacted, and its hash',
        tags: ['config'],
        querystring: TargetQuerySchema,
      },
    },
    async (request) => {
      callerOf(request);
      return readConfig(service, request.query.target);
    },
  );
};
