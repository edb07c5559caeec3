/** Child process: the floor of the stack, a bare fastify route on 127.0.0.1 that parses the same JSON body. */
import Fastify from 'fastify';
import { listenForBench } from '../lib/listen.js';

const server = Fastify({ bodyLimit: 8 * 1024 * 1024 });
server.post('/v1/proposals', async (request, reply) => {
  const body = request.body as { baseHash?: unknown };
  return reply.status(200).send({ status: 'ok', baseHash: body.baseHash ?? null });
});
// The same floor for exec requests (bench/exec.ts): parse the body, answer with a small JSON.
server.post('/v1/exec/requests', async (request, reply) => {
  const body = request.body as { sessionKey?: unknown };
  return reply.status(200).send({ decision: 'allow', sessionKey: body.sessionKey ?? null });
});
await listenForBench(server);
