import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ExecResolveBodySchema } from '../../core/exec/request.js';
import type { Service } from '../../service/context.js';
import { reloadAfterApply } from '../../service/reload.js';
import { callerOf } from '../auth.js';

/** The owner's side of exec approvals (SPEC §9): deciding a request, and the standing grants. */

const tags = ['exec'];

// Loaded on use, with the rest of the exec engine (see execRequests in exec.ts).
const execResolve = () => import('../../service/exec/resolve.js');
const execGrants = () => import('../../service/exec/grants.js');
const IdParamsSchema = z.object({ id: z.string().min(1).max(100) });

export const execResolveRoutes: FastifyPluginAsyncZod<{ service: Service }> = async (app, { service }) => {
  app.post(
    '/v1/exec/requests/:id/resolve',
    {
      schema: {
        summary: 'Decide a pending exec request: allow-once, allow-for, allow-always or deny (owner)',
        tags,
        params: IdParamsSchema,
        body: ExecResolveBodySchema,
      },
    },
    async (request) => {
      const { resolveExecRequest } = await execResolve();
      const { applied, ...outcome } = resolveExecRequest(service, callerOf(request), request.params.id, request.body);
      // allow-always changed the exec approvals document: its target's reload hook runs as for any apply.
      const reload = applied ? await reloadAfterApply(service, applied) : null;
      return reload ? { ...outcome, reload } : outcome;
    },
  );

  app.get('/v1/exec/grants', { schema: { summary: 'Standing allow-for grants (owner)', tags } }, async (request) => {
    const { listGrants } = await execGrants();
    return { grants: listGrants(service, callerOf(request)) };
  });

  app.delete(
    '/v1/exec/grants/:id',
    { schema: { summary: 'Revoke a standing allow-for grant (owner)', tags, params: IdParamsSchema } },
    async (request) => {
      const { revokeGrant } = await execGrants();
      return { status: 'revoked', grant: revokeGrant(service, callerOf(request), request.params.id) };
    },
  );
};
