// What the events and webhook tests read with: the owner's event stream over a real socket, local
// webhook receivers on 127.0.0.1, and a second service whose log lines are kept for leak checks.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, get, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { onTestFinished } from 'vitest';
import type { WebhookSettings } from '../../src/core/settings.js';
import { type AppOptions, buildApp } from '../../src/http/app.js';
import { openService } from '../../src/service/context.js';

// ------------------------------------------------------------------ Server-Sent Events

/** One event: its name (`message` when unnamed), its `id:`, its `data:` lines parsed as JSON, and the block as sent. */
export type SseEvent = { event: string; id: string | null; data: unknown; raw: string };

export type SseClient = {
  response: IncomingMessage;
  events: SseEvent[];
  /** The text of `:` comment lines (`connected`, `heartbeat`). */
  comments: string[];
  /** Every byte received so far. */
  raw: () => string;
  ended: () => boolean;
  close: () => void;
};

/** Reads `GET /v1/events` at `base` over a real socket (no token when null), collecting events until the test ends. */
export function readSse(base: string, token: string | null): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const request = get(
      `${base}/v1/events`,
      { headers: token ? { authorization: `Bearer ${token}` } : {} },
      (response) => {
        let ended = false;
        let all = '';
        let buffer = '';
        const client: SseClient = {
          response,
          events: [],
          comments: [],
          raw: () => all,
          ended: () => ended,
          close: () => request.destroy(),
        };
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          all += chunk;
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            let id: string | null = null;
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) client.comments.push(line.slice(1).trim());
              else if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('id: ')) id = line.slice(4);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length) client.events.push({ event, id, data: JSON.parse(data.join('\n')), raw: block });
          }
        });
        response.on('end', () => {
          ended = true;
        });
        response.on('close', () => {
          ended = true;
        });
        response.on('error', () => undefined);
        resolve(client);
      },
    );
    request.on('error', reject);
    onTestFinished(() => {
      request.destroy();
    });
  });
}

/** Polls `read` every 10 ms until it gives something truthy, and returns that; throws after `timeoutMs`. */
export async function until<T>(what: string, read: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ------------------------------------------------------------------ webhooks

export type Received = { headers: IncomingHttpHeaders; body: string; at: number };
export type Answer = { status: number; delayMs?: number; headers?: Record<string, string> };

/**
 * A real HTTP receiver on 127.0.0.1, closed when the test ends, that records every request at
 * `path` and answers as `answer` says (204 by default; `attempt` counts from 1).
 */
export async function webhookReceiver(
  options: { path?: string; answer?: (attempt: number) => Answer } = {},
): Promise<{ url: string; received: Received[]; port: number }> {
  const answer = options.answer ?? (() => ({ status: 204 }));
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const reply = answer(received.length);
      setTimeout(() => {
        response.writeHead(reply.status, reply.headers);
        response.end();
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${options.path ?? '/hook'}`, received, port };
}

/** Adds `webhooks` to the installation's settings file (DATA/countersign.json), for a service opened after. */
export function writeWebhooks(dir: string, webhooks: WebhookSettings[]): void {
  const file = join(dir, 'countersign.json');
  const settings = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...settings, webhooks }, null, 2));
}

// ------------------------------------------------------------------ log lines

/**
 * A second service and app on the installation in `dir`, logging at trace level into `logs`
 * (every line, for leak checks), closed when the test ends unless `close: false`.
 */
export async function loggingService(
  dir: string,
  now: () => Date,
  appOptions: AppOptions,
  { close = true }: { close?: boolean } = {},
) {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const service = openService(dir, { now, logger: pino({ level: 'trace' }, sink) });
  const app = await buildApp(service, appOptions);
  if (close) {
    onTestFinished(async () => {
      await app.close();
      service.close();
    });
  }
  return { service, app, logs };
}
