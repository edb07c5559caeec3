import type { FastifyReply } from 'fastify';

/**
 * Runs a long poll with a signal that fires when the client goes away, so a dropped connection
 * ends its wait instead of holding a waiter until the timeout.
 */
export async function whileConnected<T>(reply: FastifyReply, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const gone = new AbortController();
  const abort = () => gone.abort();
  reply.raw.once('close', abort);
  try {
    return await run(gone.signal);
  } finally {
    reply.raw.off('close', abort);
  }
}
