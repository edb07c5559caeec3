import { CountersignError, type ErrorCode } from '../core/errors.js';

export type ClientOptions = { url?: string; token?: string };

/** A small HTTP client for owner commands; refusals come back as CountersignErrors with the server's code. */
export class Client {
  readonly url: string;
  private readonly token: string | undefined;

  constructor(options: ClientOptions) {
    this.url = (options.url ?? process.env.COUNTERSIGN_URL ?? 'http://127.0.0.1:7070').replace(/\/+$/, '');
    this.token = options.token ?? process.env.COUNTERSIGN_TOKEN;
  }

  /** Opens a long-lived GET (the event stream) and yields its body chunks. */
  async stream(path: string): Promise<AsyncIterable<Uint8Array>> {
    if (!this.token) throw new CountersignError('unauthorized', 'No token: set COUNTERSIGN_TOKEN (or pass --token).');
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
      });
    } catch (error) {
      throw new Error(`Cannot reach countersign at ${this.url}: ${(error as Error).cause ?? (error as Error).message}`);
    }
    if (!response.ok || !response.body) {
      const payload = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      throw new CountersignError(
        (payload.error?.code ?? 'internal') as ErrorCode,
        payload.error?.message ?? `HTTP ${response.status}`,
      );
    }
    return response.body as unknown as AsyncIterable<Uint8Array>;
  }

  /** `signal` aborts the call (the exec wrapper's long poll, on Ctrl-C). */
  async request<T>(method: string, path: string, body?: unknown, init: { signal?: AbortSignal } = {}): Promise<T> {
    if (!this.token) {
      throw new CountersignError('unauthorized', 'No token: set COUNTERSIGN_TOKEN (or pass --token).');
    }
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new Error(`Cannot reach countersign at ${this.url}: ${(error as Error).cause ?? (error as Error).message}`);
    }
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.includes('application/json');
    const payload = isJson && text ? (JSON.parse(text) as unknown) : text;
    if (!response.ok) {
      const error = (payload as { error?: { code?: string; message?: string } }).error;
      const code = (error?.code ?? 'internal') as ErrorCode;
      throw new CountersignError(code, error?.message ?? `HTTP ${response.status}`, { ...(error ?? {}) });
    }
    return payload as T;
  }
}
