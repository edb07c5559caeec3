import type { AuditEvent } from '../core/audit.js';
import { type Actor, resolution, type StepUp } from '../core/card.js';
import { fail } from '../core/errors.js';
import {
  type FreezeChange,
  type FreezeState,
  freezeMarkdown,
  freezeRefusal,
  freezeText,
  type GatedAction,
  type LastDrill,
  lastDrillOf,
} from '../core/freeze.js';
import type { ExecRecord } from '../store/exec-requests.js';
import { FreezeStore } from '../store/freeze.js';
import type { ProposalRecord } from '../store/proposals.js';
import type { Credential } from '../store/tokens.js';
import { TotpStore } from '../store/totp.js';
import { appendAudit, proposalAuditFields, withAudit } from './audit.js';
import type { Service } from './context.js';
import { resolveTarget } from './document.js';
import { appendExecAudit, execResolution, execTarget } from './exec/records.js';
import { actorOf } from './propose.js';
import { requireOwner } from './queries.js';
import { stepUpFor } from './step-up.js';

/**
 * Manual takeover (SPEC §11), the use cases: freeze, unfreeze, status, and the check every
 * agent-initiated use case makes. The state lives in SQLite (one row), read on every check and
 * never cached, so `countersign freeze --data DIR` run next to a wedged or busy server counts
 * from that server's next request.
 *
 * Voiding: a freeze revokes for good what an agent could still use without asking again —
 * by-agent grants (approved proposals become `denied`), standing `allow-for` exec grants
 * (revoked) and allowed exec requests not yet run (`denied`, reason `frozen`) — each audited.
 * After an unfreeze the agent has to ask again; nothing granted before the freeze comes back.
 */

/** What a freeze or unfreeze broadcasts (SSE, webhooks): the change, plus its chat card texts. */
export type FreezeEvent = FreezeChange & {
  since: string | null;
  voided: Voided | null;
  /** The chat card (SPEC §8) and terminal text for this change, owner text made inert. */
  markdown: string;
  text: string;
};

export type Voided = { proposals: string[]; execGrants: string[]; execRequests: string[] };

export type FreezeStatus = FreezeState & { lastDrill: LastDrill | null };

function store(service: Service): FreezeStore {
  return new FreezeStore(service.db);
}

// ---------------------------------------------------------------------------------------------
// Broadcasting: every process announces the changes it sees, including ones made elsewhere.

/** The partial index's condition (migrations/009_freeze.sql), repeated verbatim so SQLite can use it. */
const takeoverKinds = "kind IN ('drill.ran', 'freeze.applied', 'freeze.lifted')";

/** The last freeze version this process announced (or found at start), per service. */
const announced = new WeakMap<Service, number>();

function newestFreezeEvent(service: Service): AuditEvent | null {
  const row = service.db
    .prepare(
      `SELECT seq, body, hash FROM audit_events INDEXED BY audit_events_takeover
         WHERE ${takeoverKinds} AND kind IN ('freeze.applied', 'freeze.lifted') ORDER BY seq DESC LIMIT 1`,
    )
    .get() as { seq: number; body: string; hash: string } | undefined;
  return row ? ({ ...(JSON.parse(row.body) as AuditEvent), hash: row.hash } as AuditEvent) : null;
}

function eventOf(state: FreezeState, audited: AuditEvent | null): FreezeEvent {
  const matches = audited !== null && (audited.kind === 'freeze.applied') === state.frozen;
  const change: FreezeChange = {
    frozen: state.frozen,
    at: matches ? audited.at : new Date().toISOString(),
    reason: state.frozen ? state.reason : matches ? audited.reason : null,
    by: state.frozen ? state.by : matches ? audited.actor : null,
  };
  const voided = matches ? (audited.details.voided as Voided | undefined) : undefined;
  return {
    ...change,
    since: state.since,
    voided: voided ?? null,
    markdown: freezeMarkdown(change),
    text: freezeText(change),
  };
}

/**
 * Announces the freeze state if it changed since this process last looked: right after its own
 * freeze or unfreeze, and for a change another process made (the CLI on the data directory), at
 * the next check or the next tick of `watchFreeze`. The first look only records the version.
 */
function observe(service: Service, state: ReturnType<FreezeStore['get']>): void {
  const seen = announced.get(service);
  announced.set(service, state.version);
  if (seen === undefined || seen === state.version) return;
  try {
    const event = eventOf(state, newestFreezeEvent(service));
    service.events.emit(state.frozen ? 'freeze.applied' : 'freeze.lifted', event);
  } catch (error) {
    service.log.warn({ err: error }, 'could not announce a freeze change');
  }
}

/** The freeze state as stored now (never cached), announcing a change made elsewhere. */
export function currentFreeze(service: Service): FreezeState {
  const state = store(service).get();
  observe(service, state);
  return { frozen: state.frozen, since: state.since, reason: state.reason, by: state.by };
}

/** Throws the refusal SPEC §11 gives `action` while frozen; returns at once otherwise. */
export function requireNotFrozen(service: Service, action: GatedAction, details: Record<string, unknown> = {}): void {
  const refusal = freezeRefusal(currentFreeze(service), action, details);
  if (refusal) throw refusal;
}

/** Whether `action` is refused now; for use cases that record a refusal instead of throwing one. */
export function frozenFor(service: Service, action: GatedAction): boolean {
  return freezeRefusal(currentFreeze(service), action) !== null;
}

/** Checks the stored state every `intervalMs` so that a freeze made elsewhere is announced promptly. */
export function watchFreeze(service: Service, intervalMs = 1000): () => void {
  const tick = () => {
    try {
      currentFreeze(service);
    } catch (error) {
      service.log.warn({ err: error }, 'could not read the freeze state');
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

// ---------------------------------------------------------------------------------------------
// Freeze

export type FreezeOutcome = FreezeState & { alreadyFrozen: boolean; voided: Voided };

/**
 * Freezes agents, for `actor`: the state, the audit event and every voiding in one transaction
 * (fail closed: nothing is frozen halfway, and a freeze that cannot be audited is 503). Freezing
 * again while frozen changes nothing (the first reason and time stand) and is not an error: a
 * panic button pressed twice must not fail.
 */
export function freeze(service: Service, actor: Actor, reason: string): FreezeOutcome {
  const freezes = store(service);
  if (!announced.has(service)) announced.set(service, freezes.get().version);
  const now = service.now();
  const voidReason = `Voided by freeze: ${reason}`;
  const voidedProposals: ProposalRecord[] = [];
  const voidedRequests: ExecRecord[] = [];
  const voided: Voided = { proposals: [], execGrants: [], execRequests: [] };
  const applied = withAudit(service, () => {
    if (!freezes.freeze(reason, actor, now)) return false;
    for (const id of freezes.approvedAgentProposals()) {
      const record = service.proposals.get(id);
      if (record?.card.requestedBy.role !== 'agent') continue;
      const moved = service.proposals.transition(
        id,
        ['approved'],
        'denied',
        resolution('denied', now, { by: actor, reason: voidReason }),
        now,
      );
      if (!moved) continue;
      appendAudit(service, {
        kind: 'proposal.denied',
        ...proposalAuditFields(resolveTarget(service, record.card.target), record.card),
        actor,
        reason: voidReason,
        details: { voidedBy: 'freeze', grantExpiresAt: record.grantExpiresAt },
      });
      voidedProposals.push(record);
      voided.proposals.push(id);
    }
    for (const grant of service.execGrants.list(now)) {
      if (!service.execGrants.revoke(grant.id, now)) continue;
      appendAudit(service, {
        kind: 'exec.grant_revoked',
        target: execTarget(service)?.name ?? null,
        actor,
        reason: voidReason,
        details: {
          voidedBy: 'freeze',
          grantId: grant.id,
          agentId: grant.agentId,
          pattern: grant.pattern,
          requestId: grant.requestId,
          expiresAt: grant.expiresAt,
        },
      });
      voided.execGrants.push(grant.id);
    }
    for (const id of freezes.allowedExecRequests()) {
      const record = service.exec.get(id);
      if (!record) continue;
      const moved = service.exec.transition(
        id,
        ['allowed'],
        'denied',
        execResolution(service, 'denied', 'frozen', { by: actor }),
        now,
      );
      if (!moved) continue;
      appendExecAudit(service, record.request, {
        kind: 'exec.denied',
        actor,
        reason: 'frozen',
        details: { voidedBy: 'freeze', status: 'denied' },
      });
      voidedRequests.push(record);
      voided.execRequests.push(id);
    }
    appendAudit(service, {
      kind: 'freeze.applied',
      actor,
      reason,
      details: { since: now.toISOString(), voided },
    });
    return true;
  });
  const state = currentFreeze(service);
  if (applied) {
    // Listeners follow the commit, as for every other decision.
    for (const record of voidedProposals) {
      const after = service.proposals.get(record.card.id);
      if (after) service.events.emit('proposal.resolved', after.publicCard);
    }
    for (const record of voidedRequests) {
      const after = service.exec.get(record.request.id);
      if (after) service.events.emit('exec.resolved', after.request);
    }
  }
  return { ...state, alreadyFrozen: !applied, voided };
}

/** `POST /v1/freeze` (owner). */
export function freezeAsOwner(service: Service, caller: Credential, reason: string): FreezeOutcome {
  requireOwner(caller);
  return freeze(service, actorOf(caller), reason);
}

// ---------------------------------------------------------------------------------------------
// Unfreeze

export type UnfreezeOutcome = FreezeState & { wasFrozen: boolean; stepUp: StepUp };

/**
 * Lifting a freeze needs a fresh TOTP code whenever any owner has an authenticator: the caller
 * must be one of them (403 `totp_not_enrolled` otherwise) and no cooldown counts — a freeze is
 * what an owner reaches for when a credential may be in the wrong hands, so one recent code
 * typed for an approval must not also undo it. The codes, lockout and replay rules are SPEC §4's.
 */
function unfreezeStepUp(service: Service, caller: Credential, code: string | undefined): StepUp {
  if (!store(service).anyTotpOwner()) return 'none';
  if (code === undefined) {
    // SPEC §4's order: not enrolled, then no code. Never a cooldown (see above).
    if (!new TotpStore(service.db).get(caller.name)) {
      fail(
        'totp_not_enrolled',
        `Lifting a freeze needs a TOTP code, and owner "${caller.name}" has no authenticator enrolled.`,
      );
    }
    fail('totp_required', 'Lifting a freeze needs a fresh code from your authenticator app ("totp").');
  }
  return stepUpFor(service, caller, { required: true, tier: 'dangerous', cooldownSeconds: 0 }, code);
}

function lift(service: Service, actor: Actor, stepUp: StepUp, reason: string | null): UnfreezeOutcome {
  const freezes = store(service);
  if (!announced.has(service)) announced.set(service, freezes.get().version);
  const before = freezes.get();
  const lifted = withAudit(service, () => {
    if (!freezes.unfreeze(service.now())) return false;
    appendAudit(service, {
      kind: 'freeze.lifted',
      actor,
      stepUp,
      reason,
      details: { frozenSince: before.since, frozenReason: before.reason, frozenBy: before.by },
    });
    return true;
  });
  return { ...currentFreeze(service), wasFrozen: lifted, stepUp };
}

/** `POST /v1/unfreeze` (owner; TOTP when any owner is enrolled). Unfreezing while not frozen is a no-op. */
export function unfreezeAsOwner(
  service: Service,
  caller: Credential,
  body: { totp?: string; reason?: string },
): UnfreezeOutcome {
  requireOwner(caller);
  const state = currentFreeze(service);
  if (!state.frozen) return { ...state, wasFrozen: false, stepUp: 'none' };
  const used = unfreezeStepUp(service, caller, body.totp);
  return lift(service, actorOf(caller), used, body.reason ?? null);
}

/**
 * `countersign unfreeze --data DIR`: whoever can write the data directory administers the
 * installation, but the rule is the same as over HTTP: when any owner is enrolled, an enrolled
 * owner's fresh code is needed (`--owner`, `--totp`).
 */
export function unfreezeOnDataDir(
  service: Service,
  options: { owner?: string; totp?: string; reason?: string },
): UnfreezeOutcome {
  const name = options.owner ?? 'data-dir';
  const credential: Credential = {
    // No token is behind a data-directory action; a TOTP cooldown opened here covers nothing.
    id: `data-dir:${name}`,
    role: 'owner',
    name,
    surface: 'cli',
    agentId: null,
    createdAt: service.now().toISOString(),
    revokedAt: null,
  };
  const state = currentFreeze(service);
  if (!state.frozen) return { ...state, wasFrozen: false, stepUp: 'none' };
  if (store(service).anyTotpOwner() && options.owner === undefined) {
    fail(
      'totp_required',
      'An owner has TOTP enrolled: unfreeze with --owner NAME and a code from their authenticator.',
    );
  }
  const used = unfreezeStepUp(service, credential, options.totp);
  return lift(service, dataDirActor(options.owner), used, options.reason ?? null);
}

/** Who a data-directory action is recorded as: the owner named, else the operator of the directory. */
export function dataDirActor(owner: string | undefined): Actor {
  return { role: 'owner', name: owner ?? 'data-dir', agentId: null, sessionKey: null, surface: 'cli' };
}

// ---------------------------------------------------------------------------------------------
// Status

/** The newest `drill.ran` event, or null when recovery was never rehearsed here. */
export function lastDrill(service: Service): LastDrill | null {
  const row = service.db
    .prepare(
      `SELECT seq, body FROM audit_events INDEXED BY audit_events_takeover
         WHERE ${takeoverKinds} AND kind = 'drill.ran' ORDER BY seq DESC LIMIT 1`,
    )
    .get() as { seq: number; body: string } | undefined;
  if (!row) return null;
  try {
    const event = JSON.parse(row.body) as { at?: unknown; details?: unknown };
    const details =
      event.details && typeof event.details === 'object' ? (event.details as Record<string, unknown>) : {};
    return lastDrillOf({ seq: row.seq, at: typeof event.at === 'string' ? event.at : '', details });
  } catch {
    return null;
  }
}

/** `GET /v1/status` (owner): `{ frozen, since, reason, lastDrill }`, plus who froze. */
export function freezeStatus(service: Service): FreezeStatus {
  return { ...currentFreeze(service), lastDrill: lastDrill(service) };
}
