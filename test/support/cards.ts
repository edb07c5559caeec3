// A card as the renderers receive it, for render tests that build one by hand.
import type { Card } from '../../src/core/card.js';

/** A pending protected card with no change, no review and no step-up; `overrides` replaces whole fields. */
export function cardFixture(overrides: Partial<Card> = {}): Card {
  return {
    id: 'p1',
    target: 'openclaw',
    status: 'pending',
    tier: 'protected',
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T00:15:00.000Z',
    requestedBy: { role: 'agent', name: 'main', agentId: 'main', sessionKey: null, surface: null },
    reason: null,
    baseHash: 'hmac-sha256:0',
    patchHash: 'hmac-sha256:1',
    targetHash: 'hmac-sha256:2',
    changes: [],
    operations: [],
    restartRequired: false,
    review: { mcp: [] },
    approval: { totp: false, confirmPhrase: null, surfaces: ['cli'] },
    resolution: null,
    ...overrides,
  };
}
