import type { FastifyInstance } from 'fastify';

/**
 * The child-process half of bench/lib/child.ts `startServer`: listens on 127.0.0.1 (a free
 * port), prints `{ address }` as the one line on stdout the parent waits for, and on SIGTERM
 * closes the server, runs `closing` (close the service, report figures on stderr) and exits.
 */
export async function listenForBench(server: FastifyInstance, closing: () => void = () => {}): Promise<void> {
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ address })}\n`);
  process.once('SIGTERM', () => {
    void server.close().then(() => {
      closing();
      process.exit(0);
    });
  });
}
