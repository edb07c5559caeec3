import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ExecConsumeBodySchema, ExecRequestBodySchema, ExecStatusSchema } from '../../core/exec/request.js';
import type { Service } from '../../service/context.js';
import { callerOf } from '../auth.js';
import { whileConnected } from '../client-gone.js';

const tags = ['exec'];

/**
 * The exec engine (the shell parser, RE2 for allowlist patterns, the risk rules) loads with the
 * first exec request, as the CLI loads its commands: a server whose agents never ask to run a
 * command does not hold it (about 1.5 MB of heap).
 */
export const execRequests = () => import('../../service/exec/requests.js');

export const ExecRequestIdSchema = z.object({ id: z.string().min(1).max(100) });
const ListQuerySchema = z.object({ status: ExecStatusSchema.optional() }).strict();
/** A long poll longer than this is cut short: each one holds a socket, and clients simply ask again. */
const GetQuerySchema = z.object({ wait: z.coerce.number().int().min(0).max(120).optional() }).strict();

/**
 * Exec requests (SPEC §9) for agents and owners: create, list, read (with a long poll), withdraw
 * and consume. Owners' `…/resolve` and the standing grants are in exec-resolve.ts.
 */
export const execRoutes: FastifyPluginAsyncZod<{ service: Service }> = async (app, { service }) => {
  app.post(
    '/v1/exec/requests',
    {
      schema: {
        summary: 'Ask to run a command (agent): allowed, asked or denied by the exec policy',
        tags,
        body: ExecRequestBodySchema,
      },
    },
    async (request, reply) => {
      const { createExecRequest } = await execRequests();
      const outcome = createExecRequest(service, callerOf(request), request.body);
      return reply.status(outcome.httpStatus).send(outcome.body);
    },
  );

  app.get(
    '/v1/exec/requests',
    { schema: { summary: 'List exec requests (owners: all; agents: their own)', tags, querystring: ListQuerySchema } },
    async (request) => {
      const { listExecRequests } = await execRequests();
      return { requests: listExecRequests(service, callerOf(request), request.query) };
    },
  );

  app.get(
    '/v1/exec/requests/:id',
    {
      schema: {
        summary: 'One exec request; with ?wait=S, answers once it is no longer pending (at most S seconds)',
        tags,
        params: ExecRequestIdSchema,
        querystring: GetQuerySchema,
      },
    },
    async (request, reply) => {
      const { getExecRequest } = await execRequests();
      return {
        request: await whileConnected(reply, (signal) =>
          getExecRequest(service, callerOf(request), request.params.id, request.query.wait ?? 0, signal),
        ),
      };
    },
  );

  app.post(
    '/v1/exec/requests/:id/withdraw',
    {
      schema: {
        summary: 'Withdraw your own pending exec request (agent)',
        tags,
        params: ExecRequestIdSchema,
        body: z.object({}).strict().nullish(),
      },
    },
    async (request) => {
      const { withdrawExecRequest } = await execRequests();
      return { status: 'denied', request: withdrawExecRequest(service, callerOf(request), request.params.id) };
    },
  );

  app.post(
    '/v1/exec/requests/:id/consume',
    {
      schema: {
        summary: 'Take the single-use grant and the exact plan to run (requesting agent, same session)',
        tags,
        params: ExecRequestIdSchema,
        body: ExecConsumeBodySchema,
      },
    },
    async (request) => {
      const { consumeExecRequest } = await execRequests();
      return consumeExecRequest(service, callerOf(request), request.params.id, request.body);
    },
  );
};
