import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Card } from '../../core/card.js';
import { renderMarkdown, renderText } from '../../core/render.js';
import {
  AgentApplyRequestSchema,
  ApproveRequestSchema,
  CardQuerySchema,
  DenyRequestSchema,
  ListProposalsQuerySchema,
  ProposalIdSchema,
  ProposeRequestSchema,
  SmokeTestQuerySchema,
  SmokeTestRequestSchema,
} from '../../core/requests.js';
import type { Service } from '../../service/context.js';
import { applyGrant, approve, deny, withdraw } from '../../service/decide.js';
import { smokeTest } from '../../service/mcp.js';
import { waitForProposal } from '../../service/proposal-wait.js';
import { propose } from '../../service/propose.js';
import { getProposalRecord, listProposals, requireOwner } from '../../service/queries.js';
import { reloadAfterApply } from '../../service/reload.js';
import { rollback } from '../../service/rollback.js';
import { callerOf } from '../auth.js';
import { cardLink, cardReply } from '../card-reply.js';
import { whileConnected } from '../client-gone.js';

const tags = ['proposals'];
/** A long poll longer than this is cut short: each one holds a socket, and clients simply ask again. */
const ProposalWaitQuerySchema = z.object({ wait: z.coerce.number().int().min(0).max(120).optional() }).strict();

/** Every response that reports an apply also reports the reload hook it triggered, if any. */
async function withReload<T extends { status: string; proposal?: Card }>(service: Service, body: T): Promise<T> {
  if (body.status !== 'applied' || !body.proposal) return body;
  const reload = await reloadAfterApply(service, body.proposal);
  return reload ? { ...body, reload } : body;
}

export const proposalRoutes: FastifyPluginAsyncZod<{ service: Service }> = async (app, { service }) => {
  app.post(
    '/v1/proposals',
    {
      schema: {
        summary: 'Propose a change (merge patch, RFC 6902 operations or whole document)',
        tags,
        body: ProposeRequestSchema,
      },
    },
    async (request, reply) => {
      const outcome = propose(service, callerOf(request), request.body);
      return reply.status(outcome.httpStatus).send(await withReload(service, outcome.body));
    },
  );

  app.get(
    '/v1/proposals',
    {
      schema: {
        summary: 'List proposals (owners: all; agents: their own)',
        tags,
        querystring: ListProposalsQuerySchema,
      },
    },
    async (request) => ({ proposals: listProposals(service, callerOf(request), request.query) }),
  );

  app.get(
    '/v1/proposals/:id',
    {
      schema: {
        summary: 'One proposal card; with ?wait=S, answers once it is no longer pending (at most S seconds)',
        tags,
        params: ProposalIdSchema,
        querystring: ProposalWaitQuerySchema,
      },
    },
    async (request, reply) =>
      whileConnected(reply, (signal) =>
        waitForProposal(service, callerOf(request), request.params.id, request.query.wait ?? 0, signal),
      ),
  );

  app.get(
    '/v1/proposals/:id/card',
    {
      schema: {
        summary: 'The card rendered for chat (markdown) or a terminal (text)',
        tags,
        params: ProposalIdSchema,
        querystring: CardQuerySchema,
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      requireOwner(caller);
      const record = getProposalRecord(service, caller, request.params.id);
      const { card } = record;
      // A chat card is read by everyone in the channel: it shows the public card (SPEC §4).
      return cardReply(reply, request.query.format, {
        json: card,
        markdown: () => renderMarkdown(record.publicCard, { link: cardLink(service, 'proposal', card.id) }),
        text: () => renderText(card),
      });
    },
  );

  app.post(
    '/v1/proposals/:id/approve',
    {
      schema: {
        summary: 'Countersign the exact change (owner)',
        tags,
        params: ProposalIdSchema,
        body: ApproveRequestSchema,
      },
    },
    async (request) => {
      const outcome = approve(service, callerOf(request), request.params.id, request.body);
      if (outcome.status === 'approved') return outcome;
      return withReload(service, {
        status: outcome.status,
        hash: outcome.hash,
        restartRequired: outcome.restartRequired,
        proposal: outcome.proposal,
      });
    },
  );

  app.post(
    '/v1/proposals/:id/deny',
    {
      schema: {
        summary: 'Refuse a proposal (owner)',
        tags,
        params: ProposalIdSchema,
        body: DenyRequestSchema.nullish(),
      },
    },
    async (request) => ({
      status: 'denied',
      proposal: deny(service, callerOf(request), request.params.id, request.body ?? {}),
    }),
  );

  app.post(
    '/v1/proposals/:id/withdraw',
    {
      schema: {
        summary: 'Withdraw your own proposal (agent)',
        tags,
        params: ProposalIdSchema,
        body: z.object({}).strict().nullish(),
      },
    },
    async (request) => ({ status: 'withdrawn', proposal: withdraw(service, callerOf(request), request.params.id) }),
  );

  app.post(
    '/v1/proposals/:id/apply',
    {
      schema: {
        summary: 'Use a grant (proposing agent, apply: "by-agent")',
        tags,
        params: ProposalIdSchema,
        body: AgentApplyRequestSchema,
      },
    },
    async (request) => {
      const applied = applyGrant(service, callerOf(request), request.params.id, request.body);
      return withReload(service, {
        status: 'applied',
        hash: applied.hash,
        restartRequired: applied.restartRequired,
        proposal: applied.proposal,
      });
    },
  );

  app.post(
    '/v1/proposals/:id/smoke-test',
    {
      schema: {
        summary: 'Start a reviewed MCP server and list its tools (owner; never automatic)',
        tags,
        params: ProposalIdSchema,
        querystring: SmokeTestQuerySchema,
        body: SmokeTestRequestSchema.nullish(),
      },
    },
    async (request) => {
      const body = request.body ?? {};
      return smokeTest(service, callerOf(request), request.params.id, {
        ...body,
        server: body.server ?? request.query.server,
      });
    },
  );

  app.post(
    '/v1/proposals/:id/rollback',
    { schema: { summary: 'Propose the inverse of an applied change (owner)', tags, params: ProposalIdSchema } },
    async (request, reply) => {
      const outcome = rollback(service, callerOf(request), request.params.id);
      return reply.status(outcome.httpStatus).send(await withReload(service, outcome.body));
    },
  );
};
