import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { fail } from '../../core/errors.js';
import { webhookEvents } from '../../core/settings.js';
import { inertJsonText } from '../../core/text/inert.js';
import type { Service } from '../../service/context.js';
import { requireOwner } from '../../service/queries.js';
import { callerOf } from '../auth.js';

export type EventRoutesOptions = { service: Service; heartbeatMs?: number };

/** A client this far behind is dropped rather than buffered without end; it reconnects and re-reads. */
const maxBufferedBytes = 1024 * 1024;
/** Open streams per server: each holds a socket and three listeners. */
const maxStreams = 100;

/**
 * `GET /v1/events` (owner): the service's events as Server-Sent Events, a comment line as a
 * heartbeat, and every listener removed when the client goes away or the server closes. Cards
 * in events are the public cards (`ProposalRecord.publicCard`: even the proposer's own values at
 * redacted places veiled). A proposal voided because the document moved comes as
 * `proposal.resolved` (status `stale`); one rebased onto the new document is announced again as
 * `proposal.created`, same id, new hashes (service/rebase.ts).
 */
export const eventRoutes: FastifyPluginAsyncZod<EventRoutesOptions> = async (app, { service, heartbeatMs }) => {
  const open = new Set<() => void>();
  let nextId = 0;
  // Each stream adds one listener per event; keep Node's leak warning for real leaks only.
  const limit = service.events.getMaxListeners();
  if (limit !== 0 && limit < maxStreams + 20) service.events.setMaxListeners(maxStreams + 20);
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  app.get(
    '/v1/events',
    {
      schema: {
        summary: `Server-Sent Events: ${webhookEvents.join(', ')} (owner)`,
        tags: ['events'],
      },
    },
    async (request, reply) => {
      requireOwner(callerOf(request));
      if (open.size >= maxStreams) {
        fail('rate_limited', `Too many open event streams (${maxStreams}); close one and retry.`, { retryAfter: 5 });
      }
      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      response.flushHeaders();

      let closed = false;
      const listeners: Array<[(typeof webhookEvents)[number], (data: unknown) => void]> = [];
      const write = (chunk: string) => {
        if (closed) return;
        if (response.writableLength > maxBufferedBytes) {
          request.log.warn('event stream client too slow; closing its stream');
          close();
          return;
        }
        response.write(chunk);
      };
      const heartbeat = setInterval(() => write(': heartbeat\n\n'), heartbeatMs ?? 15_000);
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        for (const [event, listener] of listeners) {
          (service.events as unknown as NodeJS.EventEmitter).off(event, listener);
        }
        open.delete(close);
        response.end();
      };
      open.add(close);
      for (const event of webhookEvents) {
        // Runs inside the decision that emitted the event: it must not throw.
        const send = (data: unknown) => {
          try {
            nextId += 1;
            // Inert like webhook bodies (src/core/webhooks.ts): same JSON value, no raw invisible characters.
            write(`id: ${nextId}\nevent: ${event}\ndata: ${inertJsonText(JSON.stringify(data))}\n\n`);
          } catch (error) {
            request.log.warn({ err: error }, 'could not write to an event stream');
            close();
          }
        };
        // An event announces a committed change: it leaves once that change is on disk (group
        // commit, store/durability.ts), in order, and a stream whose change cannot be made durable ends.
        const listener = (data: unknown) => {
          service.durability.whenDurable().then(
            () => send(data),
            () => close(),
          );
        };
        listeners.push([event, listener]);
        (service.events as unknown as NodeJS.EventEmitter).on(event, listener);
      }
      // The response's 'close' is the connection going away (the request's fires once it is read).
      response.on('close', close);
      response.on('error', close);
      write(`retry: 3000\n: connected; events: ${webhookEvents.join(', ')}\n\n`);
    },
  );
};
