import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookEvent, WebhookSettings } from './settings.js';
import { inertJsonText } from './text/inert.js';

/** The header every delivery carries: `sha256=<hex HMAC-SHA256 of the raw body, keyed with the webhook's secret>`. */
export const SIGNATURE_HEADER = 'x-countersign-signature';
export const EVENT_HEADER = 'x-countersign-event';
export const DELIVERY_HEADER = 'x-countersign-delivery';

/** What a receiver gets: the delivery id (stable across retries, for de-duplication), the event and its data. */
export type WebhookPayload = {
  id: string;
  event: WebhookEvent;
  createdAt: string;
  data: unknown;
};

/**
 * The exact bytes sent (and signed). Data carried by events is already redacted.
 *
 * Inert (issue 10 item 4): a webhook carries the card as JSON data, never a rendered text or
 * markdown card, so there is no markup to escape here; receivers that show it to people must
 * render it inert themselves (or fetch `GET /v1/proposals/:id/card?format=markdown`, which is).
 * What this body does guarantee is that its bytes hold no raw character that acts on a terminal
 * or hides text: JSON already escapes C0 controls, and `inertJsonText` writes DEL, C1, bidi
 * overrides, zero-width and other invisible characters as `\uXXXX` too. Parsed, the body is the
 * same value; printed raw (a receiver's log, `cat`), it is safe to read.
 */
export function webhookBody(payload: WebhookPayload): string {
  return inertJsonText(
    JSON.stringify({ id: payload.id, event: payload.event, createdAt: payload.createdAt, data: payload.data }),
  );
}

export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a signature header against the raw body, as a receiver should do it. */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined | null): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header.trim());
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function wantsEvent(webhook: Pick<WebhookSettings, 'events'>, event: WebhookEvent): boolean {
  return webhook.events === undefined || webhook.events.includes(event);
}

export type RetryPolicy = {
  /** Attempts in all, the first one included. */
  attempts: number;
  /** The wait before the second attempt; each later wait doubles. */
  baseDelayMs: number;
  /** No wait is longer than this. */
  maxDelayMs: number;
};

export const defaultRetryPolicy: RetryPolicy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000 };

/**
 * Exponential backoff: the wait after failed attempt `attempt` (1-based), or null when no attempt
 * is left. `jitter` in [0, 1) spreads retries of many deliveries by up to a quarter of the wait.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, jitter = 0): number | null {
  if (attempt >= policy.attempts) return null;
  const wait = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(wait * (1 + Math.min(Math.max(jitter, 0), 0.999) / 4));
}

/** Whether a receiver's answer counts as delivered: any 2xx. Redirects are not followed. */
export function isDelivered(status: number): boolean {
  return status >= 200 && status < 300;
}

/** Scheme, host and port only: webhook URLs often carry a secret in their path or query. */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

/** The proposal an event is about, for the delivery log. */
export function proposalIdOf(data: unknown): string | null {
  if (!data || typeof data !== 'object') return null;
  const record = data as { id?: unknown; proposal?: { id?: unknown } };
  if (typeof record.proposal?.id === 'string') return record.proposal.id;
  return typeof record.id === 'string' ? record.id : null;
}
