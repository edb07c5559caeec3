import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { answerFrom } from '../lazy-app.js';

/**
 * The page's files sit beside this module's folder: `src/http/ui/` when run from source, and
 * `dist/http/ui/`, copied there by `npm run build`, when run from the package.
 */
export const uiDirectory = fileURLToPath(new URL('../ui/', import.meta.url));

/**
 * No inline script or style, nothing from another origin, no framing, no form posts, and
 * Trusted Types so that assigning a string to `innerHTML` fails in the browser.
 */
export const uiContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const securityHeaders: Record<string, string> = {
  'content-security-policy': uiContentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'cache-control': 'no-cache',
};

/** `GET /ui/`: the owner's approval page (SPEC §8), static files under a strict policy. */
export const uiRoutes: FastifyPluginAsync<{ root?: string }> = async (app, options) => {
  const root = options.root ?? uiDirectory;
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(securityHeaders);
    return payload;
  });
  if (!existsSync(root)) {
    app.log.error({ root }, 'the web page files are missing; run "npm run build"');
    app.get('/ui/*', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The web approval page is not installed here (run "npm run build").'),
    );
    return;
  }
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui/', 301));
  // @fastify/static (with its send, mime and glob) is loaded with the first request for a file:
  // a server nobody opens the page on does not hold it (see answerFrom).
  const files = answerFrom(app, (inner) => pageFiles(inner, root));
  app.get('/ui/*', { schema: { hide: true } }, files);
};

async function pageFiles(app: FastifyInstance, root: string): Promise<void> {
  const { default: fastifyStatic } = await import('@fastify/static');
  await app.register(fastifyStatic, {
    root,
    prefix: '/ui/',
    decorateReply: false,
    index: ['index.html'],
    cacheControl: false,
    dotfiles: 'deny',
    schemaHide: true,
  });
}
