import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { version } from '../../version.js';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness; needs no token',
        tags: ['meta'],
        response: { 200: z.object({ ok: z.literal(true), version: z.string() }) },
      },
    },
    async () => ({ ok: true as const, version }),
  );
};
