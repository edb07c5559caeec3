import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DrillRequestSchema } from '../../core/drill.js';
import { RestoreRequestSchema } from '../../core/restore.js';
import type { Service } from '../../service/context.js';
import { runDrill } from '../../service/drill.js';
import { actorOf } from '../../service/propose.js';
import { requireOwner } from '../../service/queries.js';
import { reloadAfterApply } from '../../service/reload.js';
import { restore } from '../../service/restore.js';
import { callerOf } from '../auth.js';

const tags = ['takeover'];

/** Rollback drills and point-in-time restore (SPEC §11, issue 13); both for owners only. */
export const drillRoutes: FastifyPluginAsyncZod<{ service: Service }> = async (app, { service }) => {
  app.post(
    '/v1/drill',
    {
      schema: {
        summary: 'Rehearse rolling back the last N applied changes on a scratch copy (owner)',
        tags,
        // An empty POST is a drill with the defaults.
        body: DrillRequestSchema.optional(),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      requireOwner(caller);
      return runDrill(service, actorOf(caller), request.body ?? DrillRequestSchema.parse({}));
    },
  );

  app.post(
    '/v1/restore',
    {
      schema: {
        summary: 'Propose the document as it was after an audit event, through the normal gate (owner)',
        tags,
        body: RestoreRequestSchema,
      },
    },
    async (request, reply) => {
      const outcome = restore(service, callerOf(request), request.body);
      const body = outcome.body;
      // An all-allowlisted restore applies at once; report its reload hook as every apply does.
      if (body.status === 'applied') {
        const reload = await reloadAfterApply(service, body.proposal);
        if (reload) return reply.status(outcome.httpStatus).send({ ...body, reload });
      }
      return reply.status(outcome.httpStatus).send(body);
    },
  );
};
