import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { fail } from '../core/errors.js';
import type { Service } from '../service/context.js';
import type { Credential } from '../store/tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Credential | null;
  }
}

/** The caller's identity, role and surface come only from the bearer token, never from the body. */
export function callerOf(request: FastifyRequest): Credential {
  if (!request.caller) fail('unauthorized', 'Send "Authorization: Bearer <token>".');
  return request.caller;
}

export const authentication = fp(
  async (app: FastifyInstance, options: { service: Service }) => {
    app.decorateRequest('caller', null);
    app.addHook('onRequest', async (request) => {
      const header = request.headers.authorization;
      if (!header) return;
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const credential = match?.[1] ? options.service.tokens.authenticate(match[1]) : null;
      if (!credential) fail('unauthorized', 'That token is not valid or was revoked.');
      request.caller = credential;
    });
  },
  { name: 'countersign-authentication' },
);
