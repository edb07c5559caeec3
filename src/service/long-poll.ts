import { fail } from '../core/errors.js';
import type { Service } from './context.js';

/** The events whose payload says "this id is no longer pending". */
type ResolvedEvent = 'proposal.resolved' | 'exec.resolved';

/** Listeners by event and id: one service listener per event however many wait. */
const waiters = new WeakMap<Service, Map<ResolvedEvent, Map<string, Set<() => void>>>>();

/** Long polls open at once per service and kind: each holds a socket. */
export const MAX_WAITERS = 1000;

function waitersOf(service: Service, event: ResolvedEvent): Map<string, Set<() => void>> {
  let byEvent = waiters.get(service);
  if (!byEvent) {
    byEvent = new Map();
    waiters.set(service, byEvent);
  }
  let byId = byEvent.get(event);
  if (!byId) {
    const created = new Map<string, Set<() => void>>();
    byId = created;
    byEvent.set(event, created);
    service.events.on(event, (resolved: { id: string }) => {
      for (const wake of [...(created.get(resolved.id) ?? [])]) wake();
    });
  }
  return byId;
}

function waiterCount(byId: Map<string, Set<() => void>>): number {
  let count = 0;
  for (const set of byId.values()) count += set.size;
  return count;
}

/**
 * The long poll behind `GET /v1/proposals/:id?wait=S` and `GET /v1/exec/requests/:id?wait=S`:
 * returns when `event` names `id`, just after `deadline` (expiry is swept on read, not announced,
 * so the caller's re-read then sees it), when the client goes away, or after `waitSeconds` — by
 * timers and events, never by polling.
 */
export async function waitUntilResolved(
  service: Service,
  event: ResolvedEvent,
  id: string,
  waitSeconds: number,
  deadline: string,
  signal?: AbortSignal,
): Promise<void> {
  const byId = waitersOf(service, event);
  if (waiterCount(byId) >= MAX_WAITERS) {
    fail('rate_limited', `Too many requests are waiting (${MAX_WAITERS}); retry shortly.`, { retryAfter: 5 });
  }
  await new Promise<void>((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const set = byId.get(id) ?? new Set<() => void>();
    byId.set(id, set);
    const wake = () => {
      for (const timer of timers) clearTimeout(timer);
      set.delete(wake);
      if (set.size === 0) byId.delete(id);
      signal?.removeEventListener('abort', wake);
      resolve();
    };
    set.add(wake);
    signal?.addEventListener('abort', wake, { once: true });
    timers.push(setTimeout(wake, waitSeconds * 1000));
    const untilDeadline = Date.parse(deadline) - service.now().getTime();
    if (untilDeadline < waitSeconds * 1000) timers.push(setTimeout(wake, Math.max(0, untilDeadline) + 10));
  });
}
