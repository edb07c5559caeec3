import { randomUUID } from 'node:crypto';
import type { WebhookEvent, WebhookSettings } from '../core/settings.js';
import { webhookEvents } from '../core/settings.js';
import {
  DELIVERY_HEADER,
  defaultRetryPolicy,
  EVENT_HEADER,
  isDelivered,
  proposalIdOf,
  type RetryPolicy,
  retryDelayMs,
  SIGNATURE_HEADER,
  signBody,
  urlOrigin,
  wantsEvent,
  webhookBody,
} from '../core/webhooks.js';
import { WebhookDeliveryStore } from '../store/webhook-deliveries.js';
import { version } from '../version.js';
import type { Service } from './context.js';

export type WebhookOptions = Partial<RetryPolicy> & {
  /** One attempt's time limit (connect, send, response headers). */
  timeoutMs?: number;
  /** Jitter source in [0, 1); tests pass `() => 0` for exact waits. */
  random?: () => number;
};

type Delivery = {
  id: string;
  index: number;
  webhook: WebhookSettings;
  origin: string;
  event: WebhookEvent;
  body: string;
  signature: string;
};

const maxErrorLength = 500;

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    const text =
      error.name === 'TimeoutError' || error.name === 'AbortError' ? 'timed out' : `${error.message}${detail}`;
    return text.slice(0, maxErrorLength);
  }
  return String(error).slice(0, maxErrorLength);
}

/**
 * Delivers the service's events to the installation's webhooks (SPEC §8). A listener only queues:
 * every delivery runs after the event, on its own, so a slow or failing receiver can neither
 * delay nor fail the decision that emitted it. Each delivery is signed, retried with exponential
 * backoff a bounded number of times, and logged attempt by attempt in the delivery log.
 */
export class WebhookDispatcher {
  readonly deliveries: WebhookDeliveryStore;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly random: () => number;
  private readonly queued = new Set<NodeJS.Immediate>();
  private readonly waiting = new Map<NodeJS.Timeout, Delivery>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private readonly listeners: Array<[WebhookEvent, (data: unknown) => void]> = [];
  private stopped = false;

  constructor(
    private readonly service: Service,
    options: WebhookOptions = {},
  ) {
    this.deliveries = new WebhookDeliveryStore(service.db);
    this.policy = {
      attempts: Math.max(1, options.attempts ?? defaultRetryPolicy.attempts),
      baseDelayMs: options.baseDelayMs ?? defaultRetryPolicy.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? defaultRetryPolicy.maxDelayMs,
    };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
  }

  start(): this {
    for (const event of webhookEvents) {
      const listener = (data: unknown) => this.enqueue(event, data);
      this.listeners.push([event, listener]);
      (this.service.events as unknown as NodeJS.EventEmitter).on(event, listener);
    }
    return this;
  }

  /** Called inside the emitting decision: must not throw and must not wait. */
  private enqueue(event: WebhookEvent, data: unknown): void {
    if (this.stopped || this.service.settings.webhooks.length === 0) return;
    try {
      const immediate = setImmediate(() => {
        this.queued.delete(immediate);
        // Not before the change the event announces is on disk (group commit, store/durability.ts).
        this.service.durability.whenDurable().then(
          () => this.fanOut(event, data),
          (error) => this.service.log.error({ err: error, event }, 'event not delivered: its change is not durable'),
        );
      });
      this.queued.add(immediate);
    } catch {
      // Nothing here may reach the decision that emitted the event.
    }
  }

  private fanOut(event: WebhookEvent, data: unknown): void {
    if (this.stopped) return;
    this.service.settings.webhooks.forEach((webhook, index) => {
      if (!wantsEvent(webhook, event)) return;
      try {
        const id = randomUUID();
        const body = webhookBody({ id, event, createdAt: this.service.now().toISOString(), data });
        const delivery: Delivery = {
          id,
          index,
          webhook,
          origin: urlOrigin(webhook.url),
          event,
          body,
          signature: signBody(webhook.secret, body),
        };
        try {
          this.deliveries.create({
            id,
            webhook: index,
            origin: delivery.origin,
            event,
            proposalId: proposalIdOf(data),
            now: this.service.now(),
          });
        } catch (error) {
          // A delivery log that cannot be written does not stop the delivery.
          this.service.log.warn({ err: error, delivery: id }, 'could not log a webhook delivery');
        }
        this.attempt(delivery, 1);
      } catch (error) {
        this.service.log.error({ err: error, webhook: index, event }, 'could not prepare a webhook delivery');
      }
    });
  }

  private attempt(delivery: Delivery, attempt: number): void {
    const task = this.send(delivery, attempt)
      .catch((error: unknown) => {
        this.service.log.error({ err: error, delivery: delivery.id }, 'webhook delivery failed unexpectedly');
      })
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async send(delivery: Delivery, attempt: number): Promise<void> {
    const started = performance.now();
    const at = this.service.now().toISOString();
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), this.timeoutMs);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(delivery.webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': `countersign/${version}`,
          [EVENT_HEADER]: delivery.event,
          [DELIVERY_HEADER]: delivery.id,
          [SIGNATURE_HEADER]: delivery.signature,
        },
        body: delivery.body,
        // A receiver that redirects has not received the event; following it could send it elsewhere.
        redirect: 'manual',
        signal: controller.signal,
      });
      status = response.status;
      await response.body?.cancel().catch(() => undefined);
      if (!isDelivered(status)) error = `the receiver answered HTTP ${status}`;
    } catch (caught) {
      error = describeError(controller.signal.aborted && this.stopped ? new Error('server stopped') : caught);
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }

    const delivered = status !== null && isDelivered(status);
    const wait = delivered || this.stopped ? null : retryDelayMs(this.policy, attempt, this.random());
    const nextAttemptAt = wait === null ? null : new Date(this.service.now().getTime() + wait).toISOString();
    try {
      this.deliveries.recordAttempt(
        delivery.id,
        { attempt, at, status, error, durationMs: Math.round(performance.now() - started) },
        { status: delivered ? 'delivered' : wait === null ? 'failed' : 'pending', nextAttemptAt },
      );
    } catch (logError) {
      this.service.log.warn({ err: logError, delivery: delivery.id }, 'could not log a webhook attempt');
    }
    const context = {
      delivery: delivery.id,
      webhook: delivery.index,
      origin: delivery.origin,
      event: delivery.event,
      attempt,
    };
    if (delivered) {
      this.service.log.info({ ...context, status }, 'webhook delivered');
      return;
    }
    if (wait === null) {
      this.service.log.warn({ ...context, error }, 'webhook delivery failed; giving up');
      return;
    }
    this.service.log.warn({ ...context, error, retryInMs: wait }, 'webhook delivery failed; will retry');
    const retry = setTimeout(() => {
      this.waiting.delete(retry);
      this.attempt(delivery, attempt + 1);
    }, wait);
    this.waiting.set(retry, delivery);
  }

  /** Resolves once nothing is queued, waiting for a retry or in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.queued.size > 0 || this.waiting.size > 0 || this.inFlight.size > 0) {
      await Promise.race([...this.inFlight, new Promise((resolve) => setTimeout(resolve, 10))]);
    }
  }

  /** Detaches from the events, gives up waiting retries (logged as failed) and aborts what is in flight. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const [event, listener] of this.listeners) {
      (this.service.events as unknown as NodeJS.EventEmitter).off(event, listener);
    }
    this.listeners.length = 0;
    for (const immediate of this.queued) clearImmediate(immediate);
    this.queued.clear();
    for (const [timer, delivery] of this.waiting) {
      clearTimeout(timer);
      try {
        this.deliveries.abandon(delivery.id, 'the server stopped before the next attempt', this.service.now());
      } catch {
        // The database may already be closed; the row stays pending.
      }
    }
    this.waiting.clear();
    for (const controller of this.controllers) controller.abort();
    await Promise.allSettled([...this.inFlight]);
  }
}

export function startWebhooks(service: Service, options: WebhookOptions = {}): WebhookDispatcher {
  return new WebhookDispatcher(service, options).start();
}
