import type { FastifyReply } from 'fastify';
import type { Service } from '../service/context.js';

/** The web page's view of a proposal or an exec request, when the installation knows its public address. */
export function cardLink(service: Service, view: 'proposal' | 'exec', id: string): string | null {
  const base = service.settings.server.publicUrl;
  return base ? `${base.replace(/\/+$/, '')}/ui/#/${view}/${encodeURIComponent(id)}` : null;
}

/**
 * A card route's answer in the format asked for (`CardQuerySchema`): the JSON value as it is, or
 * the markdown (chat) or text (terminal) rendering, only the one asked for being rendered.
 */
export function cardReply(
  reply: FastifyReply,
  format: 'markdown' | 'text' | 'json',
  card: { json: unknown; markdown: () => string; text: () => string },
): unknown {
  if (format === 'json') return card.json;
  const markdown = format === 'markdown';
  return reply
    .type(markdown ? 'text/markdown; charset=utf-8' : 'text/plain; charset=utf-8')
    .send(markdown ? card.markdown() : card.text());
}
