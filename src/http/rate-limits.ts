import { createHash } from 'node:crypto';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { CountersignError } from '../core/errors.js';
import type { RateLimits } from '../core/settings.js';

/** Limits apply per credential, so one noisy agent cannot starve an owner trying to deny it. */
function keyOf(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header) return `token:${createHash('sha256').update(header).digest('hex')}`;
  return `ip:${request.ip}`;
}

const perRoute: Array<{ match: (request: FastifyRequest) => boolean; limit: keyof RateLimits; what: string }> = [
  {
    match: (request) => request.method === 'POST' && request.routeOptions.url === '/v1/proposals',
    limit: 'proposalsPerMinute',
    what: 'proposals',
  },
  {
    match: (request) => request.method === 'POST' && request.routeOptions.url === '/v1/proposals/:id/approve',
    limit: 'approvalsPerMinute',
    what: 'approval attempts',
  },
];

export const rateLimits = fp(
  async (app: FastifyInstance, options: { limits: RateLimits }) => {
    await app.register(fastifyRateLimit, {
      global: true,
      timeWindow: 60_000,
      max: (request) => {
        const route = perRoute.find((entry) => entry.match(request));
        return options.limits[route?.limit ?? 'requestsPerMinute'];
      },
      keyGenerator: (request) => {
        const route = perRoute.find((entry) => entry.match(request));
        return `${keyOf(request)}:${route?.what ?? 'requests'}`;
      },
      allowList: (request) => request.url === '/healthz',
      errorResponseBuilder: (request, context) => {
        const route = perRoute.find((entry) => entry.match(request));
        return new CountersignError(
          'rate_limited',
          `Too many ${route?.what ?? 'requests'}; try again in ${Math.ceil(context.ttl / 1000)} s.`,
          {
            retryAfter: Math.ceil(context.ttl / 1000),
          },
        );
      },
    });
  },
  { name: 'countersign-rate-limits' },
);
