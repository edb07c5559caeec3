import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { TargetQuerySchema } from '../../core/requests.js';
import { noneMatch, readConfigView } from '../../service/config-view.js';
import type { Service } from '../../service/context.js';
import { callerOf } from '../auth.js';

export const configRoutes: FastifyPluginAsyncZod<{ service: Service }> = async (app, { service }) => {
  app.get(
    '/v1/config',
    {
      schema: {
        summary: 'The current document, secrets redacted, and its hash',
        description:
          'Answers with a strong `ETag`; send it back as `If-None-Match` to get `304 Not Modified` (no body) while the document is unchanged.',
        tags: ['config'],
        querystring: TargetQuerySchema,
      },
    },
    async (request, reply) => {
      // Authentication first: only a caller who may read the document learns whether it changed.
      callerOf(request);
      const view = readConfigView(service, request.query.target);
      // `private`: the body is for the bearer of the token; `no-cache`: revalidate on every use.
      reply.header('etag', view.etag).header('cache-control', 'private, no-cache');
      if (noneMatch(request.headers['if-none-match'], view.etag)) return reply.status(304).send();
      // The body was serialised once per document version; fastify sends the string as it is.
      return reply.type('application/json; charset=utf-8').send(view.body);
    },
  );
};
