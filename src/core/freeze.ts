import { z } from 'zod';
import { ActorSchema } from './card.js';
import { CountersignError } from './errors.js';
import { inert } from './text/inert.js';
import { escapeMarkdown, quoteMarkdown } from './text/markdown.js';

/**
 * Manual takeover (SPEC §11): an owner freezes every agent-initiated action while keeping their
 * own hands free to repair. What is frozen is one pure rule here, so every use case that an agent
 * can start asks the same question and an auditor reads the whole answer in one place.
 */

export const FreezeStateSchema = z.object({
  frozen: z.boolean(),
  /** When the current freeze began; null while not frozen. */
  since: z.string().nullable(),
  reason: z.string().nullable(),
  /** Who froze (owner, or the data directory's operator); null while not frozen. */
  by: ActorSchema.nullable(),
});
export type FreezeState = z.infer<typeof FreezeStateSchema>;

export const notFrozen: FreezeState = { frozen: false, since: null, reason: null, by: null };

export const FreezeRequestSchema = z
  .object({ reason: z.string().trim().min(1, 'say why you are freezing (it is audited)').max(1000) })
  .strict();
export type FreezeRequest = z.infer<typeof FreezeRequestSchema>;

/**
 * Every action the freeze rule is asked about. Owner actions that only look or repair (reading,
 * denying, rolling back, proposing, approving their own proposals) are not listed as refusable:
 * they go through the gate as always.
 */
export type GatedAction =
  /** `POST /v1/proposals` by a caller of this role (allowlisted and dry-run ones too). */
  | { kind: 'propose'; role: 'agent' | 'owner' }
  /** An owner approving a proposal that a caller of `proposer`'s role made. */
  | { kind: 'approve'; proposer: 'agent' | 'owner' }
  /** `apply: "by-agent"`: the agent using the grant an owner gave it. */
  | { kind: 'agent-apply' }
  /** `POST /v1/exec/requests` (stored and dry-run alike). */
  | { kind: 'exec-request' }
  /** The agent running an allowed exec request. */
  | { kind: 'exec-consume' }
  /** An owner allowing an agent's exec request (deny stays open), or `askFallback` allowing one. */
  | { kind: 'exec-allow' }
  /** An owner rolling back an applied change. */
  | { kind: 'rollback' };

/** Whether `action` may go ahead under `state`. While not frozen, everything may (other rules still apply). */
export function allowedWhileFrozen(action: GatedAction): boolean {
  switch (action.kind) {
    case 'propose':
      return action.role === 'owner';
    case 'approve':
      return action.proposer === 'owner';
    case 'rollback':
      return true;
    case 'agent-apply':
    case 'exec-request':
    case 'exec-consume':
    case 'exec-allow':
      return false;
  }
}

export function isRefused(state: FreezeState, action: GatedAction): boolean {
  return state.frozen && !allowedWhileFrozen(action);
}

/** The reason string an exec request refused by a freeze carries (SPEC §11: `exec_denied`, reason `frozen`). */
export const FROZEN_EXEC_REASON = 'frozen';

function since(state: FreezeState): string {
  return state.since ? ` since ${state.since}` : '';
}

/** One sentence for every refusal, naming the freeze and its reason (the owner's words, made inert). */
export function frozenMessage(state: FreezeState): string {
  const why = state.reason ? `: ${inert(state.reason)}` : '';
  return `countersign is frozen${since(state)}${why}. An owner stopped every agent action; only an owner can unfreeze.`;
}

/**
 * The refusal for an action the freeze stops, or null. Proposals get 403 `frozen`; approvals
 * and grant use 409 `frozen` (the proposal is fine, the moment is not); exec requests and runs
 * get 403 `exec_denied` with reason `frozen`, the code every exec runtime already understands.
 */
export function freezeRefusal(
  state: FreezeState,
  action: GatedAction,
  details: Record<string, unknown> = {},
): CountersignError | null {
  if (!isRefused(state, action)) return null;
  const body = { ...details, frozenSince: state.since };
  switch (action.kind) {
    case 'propose':
      return new CountersignError('frozen', frozenMessage(state), body);
    case 'exec-request':
    case 'exec-consume':
      return new CountersignError('exec_denied', frozenMessage(state), { ...body, reason: FROZEN_EXEC_REASON });
    default:
      return new FrozenConflict(frozenMessage(state), body);
  }
}

/**
 * SPEC §11 gives `frozen` two statuses: 403 for a proposal (the caller may not do this now) and
 * 409 for approving one or using a grant (the proposal is fine; the installation's state is not).
 * The error table holds one status per code (403), so the 409 form is this subclass.
 */
export class FrozenConflict extends CountersignError {
  override readonly status = 409;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('frozen', message, details);
  }
}

// ---------------------------------------------------------------------------------------------
// What freeze events say in chat (SPEC §8 chat cards): one short card, owner text quoted inert.

function who(state: { by: FreezeState['by'] }): string {
  return state.by
    ? `${state.by.role} "${state.by.name}"${state.by.surface ? ` (${state.by.surface})` : ''}`
    : 'an owner';
}

export type FreezeChange = { frozen: boolean; at: string; reason: string | null; by: FreezeState['by'] };

export function freezeMarkdown(change: FreezeChange): string {
  const heading = change.frozen
    ? '**🧊 countersign is FROZEN: agents can propose, apply and run nothing.**'
    : '**countersign is unfrozen: agents may propose and ask again.**';
  const lines = [
    heading,
    '',
    `${change.frozen ? 'Frozen' : 'Unfrozen'} by ${escapeMarkdown(who(change))} at ${escapeMarkdown(change.at)}.`,
  ];
  if (change.reason) lines.push('', quoteMarkdown(change.reason), '');
  if (change.frozen)
    lines.push('Owners can still look, deny, roll back and restore. Unfreeze with `countersign unfreeze`.');
  return `${lines.join('\n').trimEnd()}\n`;
}

export function freezeText(change: FreezeChange): string {
  const head = change.frozen
    ? 'countersign is FROZEN: agents can propose, apply and run nothing.'
    : 'countersign is unfrozen: agents may propose and ask again.';
  const lines = [head, `${change.frozen ? 'Frozen' : 'Unfrozen'} by ${inert(who(change))} at ${inert(change.at)}.`];
  if (change.reason) lines.push(`Reason: ${inert(change.reason)}`);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// `lastDrill` for `GET /v1/status`: read from the newest `drill.ran` audit event.

export const LastDrillSchema = z.object({
  at: z.string(),
  ok: z.boolean(),
  changes: z.number().int().nonnegative().nullable(),
  seq: z.number().int(),
});
export type LastDrill = z.infer<typeof LastDrillSchema>;

/**
 * The drill's outcome from its audit event. Tolerant of how the drill records it: `ok` and
 * `changes` in `details` (a number, or an array of per-change results), and a drill that did not
 * say `ok` counts as not ok, so the status never claims a rehearsal passed when it cannot tell.
 */
export function lastDrillOf(event: { seq: number; at: string; details?: Record<string, unknown> | null }): LastDrill {
  const details = event.details ?? {};
  const changes = details.changes;
  return {
    at: event.at,
    ok: details.ok === true,
    changes:
      typeof changes === 'number' && Number.isInteger(changes) && changes >= 0
        ? changes
        : Array.isArray(changes)
          ? changes.length
          : null,
    seq: event.seq,
  };
}

function drillLine(lastDrill: LastDrill | null): string {
  if (!lastDrill) return 'Recovery has never been drilled here: run `countersign drill`.';
  const changes =
    lastDrill.changes === null ? '' : ` (${lastDrill.changes} change${lastDrill.changes === 1 ? '' : 's'})`;
  return `Last drill: ${lastDrill.at}, ${lastDrill.ok ? 'every change restorable' : 'NOT every change restorable'}${changes}.`;
}

/** `GET /v1/status?format=markdown`: the state for a chat bridge. */
export function statusMarkdown(state: FreezeState, lastDrill: LastDrill | null): string {
  const head = state.frozen
    ? freezeMarkdown({ frozen: true, at: state.since ?? '', reason: state.reason, by: state.by }).trimEnd()
    : '**countersign is not frozen**: agents propose and ask as usual.';
  return `${head}\n\n${escapeMarkdown(drillLine(lastDrill))}\n`;
}

/** `GET /v1/status?format=text` and `countersign status`. */
export function statusText(state: FreezeState, lastDrill: LastDrill | null): string {
  const head = state.frozen
    ? freezeText({ frozen: true, at: state.since ?? '', reason: state.reason, by: state.by }).trimEnd()
    : 'countersign is not frozen: agents propose and ask as usual.';
  return `${head}\n${inert(drillLine(lastDrill))}\n`;
}
