import { CountersignError, type ErrorCode } from '../core/errors.js';
import { UnreachableError } from './io.js';

export type ClientOptions = { url?: string; token?: string };

export const defaultUrl = 'http://127.0.0.1:7070';

/** Where the server URL came from, so that an error can say which one was used and how to change it. */
export type UrlSource = 'flag' | 'env' | 'default';

/** `--url`, else `$COUNTERSIGN_URL`, else the default, with where it came from. */
export function serverUrl(flag: string | undefined): { url: string; source: UrlSource } {
  const env = process.env.COUNTERSIGN_URL;
  const [url, source]: [string, UrlSource] = flag ? [flag, 'flag'] : env ? [env, 'env'] : [defaultUrl, 'default'];
  return { url: url.replace(/\/+$/, ''), source };
}

/** The URL as an error names it: with "the default" spelled out, since nobody chose it. */
export function describeUrl({ url, source }: { url: string; source: UrlSource }): string {
  if (source === 'default') return `${url} (the default: set COUNTERSIGN_URL or pass --url)`;
  if (source === 'env') return `${url} (from COUNTERSIGN_URL)`;
  return url;
}

/**
 * The token as sent: people paste a whole header value ("Bearer cs_owner_…") or a line read from
 * a file; both are taken for the token they contain rather than refused as invalid.
 */
export function normaliseToken(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const token = raw
    .trim()
    .replace(/^(['"])(.*)\1$/, '$2')
    .replace(/^bearer\s+/i, '')
    .trim();
  return token || undefined;
}

/** countersign tokens as `init` and `token create` print them. */
const tokenShape = /^cs_(owner|agent)_[A-Za-z0-9_-]+$/;

/** Other variables a token is often put in by mistake; named when COUNTERSIGN_TOKEN is empty. */
function strayTokenVariables(): string[] {
  return Object.keys(process.env)
    .filter((key) => /^COUNTERSIGN_\w*TOKEN\w*$/.test(key) && key !== 'COUNTERSIGN_TOKEN' && process.env[key])
    .sort();
}

/** A small HTTP client for owner commands; refusals come back as CountersignErrors with the server's code. */
export class Client {
  readonly url: string;
  readonly urlSource: UrlSource;
  private readonly token: string | undefined;
  private readonly tokenSource: string;

  constructor(options: ClientOptions) {
    const { url, source } = serverUrl(options.url);
    this.url = url;
    this.urlSource = source;
    this.tokenSource = options.token !== undefined ? '--token' : 'COUNTERSIGN_TOKEN';
    this.token = normaliseToken(options.token ?? process.env.COUNTERSIGN_TOKEN);
  }

  /** The server as errors name it. */
  get where(): string {
    return describeUrl({ url: this.url, source: this.urlSource });
  }

  /** The token to send, or a refusal that names the cause: none set (and where one was put instead). */
  private credential(): string {
    if (!this.token) {
      const stray = strayTokenVariables();
      const hint = stray.length
        ? ` (${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set, but the CLI reads only COUNTERSIGN_TOKEN: export COUNTERSIGN_TOKEN="$${stray[0]}")`
        : '';
      throw new CountersignError(
        'unauthorized',
        `No token for ${this.where}: set COUNTERSIGN_TOKEN (or pass --token)${hint}.`,
      );
    }
    return this.token;
  }

  private unreachable(error: unknown): UnreachableError {
    const reason = (error as Error).cause ?? error;
    const cause = reason instanceof Error ? reason.message : String(reason);
    const hint = this.urlSource === 'default' ? ' Is `countersign serve` running, and on this address?' : '';
    return new UnreachableError(`Cannot reach countersign at ${this.where}: ${cause}.${hint}`);
  }

  /** A refusal from the server; a 401 also says which server refused which token, and what to check. */
  private refusal(status: number, error: { code?: string; message?: string } | undefined): CountersignError {
    const code = (error?.code ?? 'internal') as ErrorCode;
    let message = error?.message ?? `HTTP ${status}`;
    if (code === 'unauthorized') {
      const cause =
        this.token && !tokenShape.test(this.token)
          ? `it does not look like a countersign token (they start with cs_owner_ or cs_agent_, as printed by \`countersign init\` and \`countersign token create\`)`
          : "check it was minted for this server's data directory and not revoked (countersign token list --data DIR)";
      message = `${message} The server at ${this.where} refused the token from ${this.tokenSource}: ${cause}.`;
    }
    return new CountersignError(code, message, { ...(error ?? {}) });
  }

  /** Opens a long-lived GET (the event stream) and yields its body chunks. */
  async stream(path: string): Promise<AsyncIterable<Uint8Array>> {
    const token = this.credential();
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    if (!response.ok || !response.body) {
      const payload = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      throw this.refusal(response.status, payload.error);
    }
    return response.body as unknown as AsyncIterable<Uint8Array>;
  }

  /** `signal` aborts the call (the exec wrapper's long poll, on Ctrl-C). */
  async request<T>(method: string, path: string, body?: unknown, init: { signal?: AbortSignal } = {}): Promise<T> {
    const token = this.credential();
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw this.unreachable(error);
    }
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.includes('application/json');
    const payload = isJson && text ? (JSON.parse(text) as unknown) : text;
    if (!response.ok) {
      throw this.refusal(response.status, (payload as { error?: { code?: string; message?: string } }).error);
    }
    return payload as T;
  }
}
