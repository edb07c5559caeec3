import type { FastifyInstance } from 'fastify';
import type { Service } from '../service/context.js';

/** How often writes made outside any request (expiry sweeps, drift records) are synced. */
const backgroundSyncMs = 100;

/**
 * Group commit's HTTP half (store/durability.ts): no answer leaves while anything this server
 * committed is not yet on disk, so an acknowledged proposal, decision or audit event survives a
 * crash or a power loss. Waiting on every dirty answer, not just on writes, also keeps a reader
 * from being shown another request's change before it is durable. Concurrent requests share one
 * fsync per event-loop turn. If the fsync fails, a success becomes 503 `audit_unavailable`
 * (fail closed); an error answer claims nothing and leaves as it is.
 */
export function durableReplies(app: FastifyInstance, service: Service): void {
  const { durability } = service;
  if (!durability.groupCommit) return;
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!durability.unsynced()) return payload;
    try {
      await durability.whenDurable();
    } catch (error) {
      if (reply.statusCode >= 400) return payload;
      throw error;
    }
    return payload;
  });
  const background = setInterval(() => {
    if (durability.unsynced()) {
      durability.whenDurable().catch((error) => service.log.error({ err: error }, 'background sync failed'));
    }
  }, backgroundSyncMs);
  background.unref();
  app.addHook('onClose', async () => {
    clearInterval(background);
    await durability.whenDurable().catch((error) => service.log.error({ err: error }, 'final sync failed'));
  });
}
