import { describe, expect, it } from 'vitest';
import {
  allowedWhileFrozen,
  FrozenConflict,
  freezeMarkdown,
  freezeRefusal,
  type GatedAction,
  lastDrillOf,
  notFrozen,
} from '../../src/core/freeze.js';

/** The pure rule of SPEC §11: what a freeze stops, and how each refusal reads. */

const frozen = {
  frozen: true,
  since: '2026-12-01T00:00:00.000Z',
  reason: 'incident',
  by: { role: 'owner' as const, name: 'owner', agentId: null, sessionKey: null, surface: 'cli' as const },
};

const actions: Array<[GatedAction, boolean]> = [
  [{ kind: 'propose', role: 'agent' }, false],
  [{ kind: 'propose', role: 'owner' }, true],
  [{ kind: 'approve', proposer: 'agent' }, false],
  [{ kind: 'approve', proposer: 'owner' }, true],
  [{ kind: 'agent-apply' }, false],
  [{ kind: 'exec-request' }, false],
  [{ kind: 'exec-consume' }, false],
  [{ kind: 'exec-allow' }, false],
  [{ kind: 'rollback' }, true],
];

describe('allowedWhileFrozen', () => {
  it.each(actions)('%o → %s', (action, allowed) => {
    expect(allowedWhileFrozen(action)).toBe(allowed);
    expect(freezeRefusal(notFrozen, action)).toBeNull();
    expect(freezeRefusal(frozen, action) === null).toBe(allowed);
  });

  it('each refusal has the SPEC code and status', () => {
    const propose = freezeRefusal(frozen, { kind: 'propose', role: 'agent' });
    expect([propose?.code, propose?.status]).toEqual(['frozen', 403]);
    const approve = freezeRefusal(frozen, { kind: 'approve', proposer: 'agent' });
    expect(approve).toBeInstanceOf(FrozenConflict);
    expect([approve?.code, approve?.status]).toEqual(['frozen', 409]);
    expect(approve?.toBody().error).toMatchObject({ code: 'frozen', frozenSince: frozen.since });
    const exec = freezeRefusal(frozen, { kind: 'exec-consume' }, { requestId: 'r1' });
    expect([exec?.code, exec?.status, exec?.details.reason, exec?.details.requestId]).toEqual([
      'exec_denied',
      403,
      'frozen',
      'r1',
    ]);
  });

  it('the chat card quotes the reason inert', () => {
    const card = freezeMarkdown({ frozen: true, at: frozen.since, reason: '# hi\n@here [x](y)', by: frozen.by });
    expect(card).toContain('> \\# hi\n> \\@here \\[x\\]\\(y\\)');
  });

  it('lastDrillOf is tolerant of what the drill wrote', () => {
    expect(lastDrillOf({ seq: 1, at: 't', details: { ok: true, changes: 4 } })).toEqual({
      at: 't',
      ok: true,
      changes: 4,
      seq: 1,
    });
    expect(lastDrillOf({ seq: 2, at: 't', details: { ok: 'yes', changes: [1, 2] } })).toMatchObject({
      ok: false,
      changes: 2,
    });
    expect(lastDrillOf({ seq: 3, at: 't', details: null })).toMatchObject({ ok: false, changes: null });
  });
});
