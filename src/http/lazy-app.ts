import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { zodCompilers } from './compilers.js';
import { errorHandler } from './errors.js';

/**
 * inject resolves `..` and `%2e%2e` in the URL it is given (it parses it as a WHATWG URL); the
 * inner instance is handed the URL exactly as the client sent it in this header, so that it
 * routes, and refuses, the same paths the outer one would have.
 */
const rawUrlHeader = 'x-countersign-raw-url';

/** Headers about the inner exchange itself: the outer reply sets its own. */
const ownHeaders = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'content-length']);

/**
 * A route handler that answers from a second Fastify instance, built by `setUp` on the first
 * request that needs it and kept until `outer` closes: for pages few requests ask for (the API
 * docs, the web page's files) whose plugins would otherwise be loaded at start-up and held in
 * memory for the life of the server.
 *
 * The request is replayed with `inject` and the inner answer copied: status, headers, body.
 * A HEAD request is replayed as GET, so that the outer route's HEAD handling sets the length
 * from the body, as it would have for the inner route. An inner 404 is the outer server's own
 * 404, and inner errors get the outer error shape and logger.
 */
export function answerFrom(outer: FastifyInstance, setUp: (inner: FastifyInstance) => Promise<void>) {
  let inner: Promise<FastifyInstance> | null = null;
  const ready = () => {
    if (!inner) {
      const building = build(outer, setUp);
      // A failed build is not kept: the request that met it fails, the next one tries again.
      building.catch(() => {
        if (inner === building) inner = null;
      });
      inner = building;
    }
    return inner;
  };
  outer.addHook('onClose', async () => {
    const app = await inner?.catch(() => null);
    await app?.close();
  });
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const app = await ready();
    const answer = await app.inject({
      method: 'GET',
      url: request.url,
      headers: { ...request.headers, [rawUrlHeader]: request.url },
    });
    if (answer.statusCode === 404) return reply.callNotFound();
    reply.status(answer.statusCode);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !ownHeaders.has(name)) reply.header(name, value);
    }
    // No body is no body: an empty Buffer would be sent as application/octet-stream.
    return reply.send(answer.rawPayload.length > 0 ? answer.rawPayload : undefined);
  };
}

async function build(outer: FastifyInstance, setUp: (inner: FastifyInstance) => Promise<void>) {
  const app = Fastify({
    loggerInstance: outer.log,
    // The outer server logs the request; the inner one logs only what goes wrong.
    logController: new LogController({ disableRequestLogging: true }),
    schemaController: { compilersFactory: zodCompilers },
    rewriteUrl: (request) => {
      const raw = request.headers[rawUrlHeader];
      delete request.headers[rawUrlHeader];
      return typeof raw === 'string' ? raw : (request.url ?? '/');
    },
  });
  app.setErrorHandler(errorHandler);
  await setUp(app);
  await app.ready();
  return app;
}
