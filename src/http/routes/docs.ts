import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { version } from '../../version.js';
import { answerFrom } from '../lazy-app.js';

const prefix = '/docs';
const isDocs = (url: string) => url === prefix || url.startsWith(`${prefix}/`);

/**
 * The paths @fastify/swagger-ui serves under the prefix (its page, the document as JSON and
 * YAML, its static files), and no others: another path under /docs stays this server's own 404.
 */
const pages = ['', '/', '/json', '/yaml', '/static/*'].map((path) => `${prefix}${path}`);

/**
 * `GET /docs`: the OpenAPI document, generated from the routes' zod schemas, and Swagger UI.
 *
 * @fastify/swagger, @fastify/swagger-ui and what they load (yaml, a JSON Schema resolver, static
 * file serving) are about 2 MB of heap that only this page uses, so they are loaded with the
 * first request for it, into an instance of their own (`answerFrom`): every route registered on
 * the server after this plugin is recorded here and declared again there, where the document is
 * made from it exactly as it would have been here. Register it before the routes it documents.
 * (The routes declare their schemas inline; none is shared with `addSchema`.)
 */
export const apiDocs = fp(
  async (app: FastifyInstance) => {
    const routes: RouteOptions[] = [];
    app.addHook('onRoute', (route) => {
      if (!isDocs(route.url)) routes.push(route);
    });
    const docs = answerFrom(app, (inner) => documented(inner, routes));
    for (const url of pages) app.get(url, { schema: { hide: true } }, docs);
  },
  { name: 'countersign-api-docs' },
);

async function documented(app: FastifyInstance, routes: readonly RouteOptions[]): Promise<void> {
  const [{ default: fastifySwagger }, { default: fastifySwaggerUi }] = await Promise.all([
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ]);
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'countersign', version, description: 'Agents propose, owners countersign the exact diff.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: prefix });
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      schema: route.schema,
      config: route.config,
      // HEAD routes are recorded like any other; declaring them again is enough.
      exposeHeadRoute: false,
      handler: documentedOnly,
    });
  }
}

/** The routes declared for the document are never asked: only `/docs` requests come here. */
function documentedOnly(_request: FastifyRequest, reply: FastifyReply) {
  return reply.callNotFound();
}
