import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { renderExecMarkdown, renderExecText } from '../../core/exec/render.js';
import { CardQuerySchema } from '../../core/requests.js';
import type { Service } from '../../service/context.js';
import { requireOwner } from '../../service/queries.js';
import { callerOf } from '../auth.js';
import { cardLink, cardReply } from '../card-reply.js';
import { ExecRequestIdSchema, execRequests } from './exec.js';

const tags = ['exec'];

/**
 * The exec request card for a chat bridge (markdown) or a terminal (text), with the approve
 * command spelled out (SPEC §9). Owners only: the card is what an owner decides from, and an
 * agent that could fetch it could also rehearse how its request reads to the owner.
 */
export const execCardRoutes: FastifyPluginAsyncZod<{ service: Service }> = async (app, { service }) => {
  app.get(
    '/v1/exec/requests/:id/card',
    {
      schema: {
        summary: 'The exec request card rendered for chat (markdown) or a terminal (text) (owner)',
        tags,
        params: ExecRequestIdSchema,
        querystring: CardQuerySchema,
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      requireOwner(caller);
      const { readRecord } = await execRequests();
      const exec = readRecord(service, caller, request.params.id).request;
      // Secret env values are already "[redacted]" on the stored request; the renderers make every agent string inert.
      return cardReply(reply, request.query.format, {
        json: exec,
        markdown: () => renderExecMarkdown(exec, { link: cardLink(service, 'exec', exec.id) }),
        text: () => renderExecText(exec),
      });
    },
  );
};
