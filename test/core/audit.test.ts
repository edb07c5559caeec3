import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditEntry,
  type AuditEvent,
  AuditEventSchema,
  ChainVerifier,
  chainHash,
  GENESIS_HASH,
  sealEvent,
} from '../../src/core/audit.js';
import { canonical } from '../../src/core/hash.js';

function entry(n: number): AuditEntry {
  return {
    kind: n % 3 === 0 ? 'change.applied' : 'proposal.created',
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    target: 'openclaw',
    actor: { role: 'agent', name: 'bot', agentId: 'main', sessionKey: `s${n}`, surface: null },
    proposalId: `p${n}`,
    tier: 'protected',
    ruleIds: [`r${n}`],
    policyHash: null,
    baseHash: null,
    targetHash: null,
    patchHash: null,
    paths: [`agents.list[id=main].model`],
    stepUp: 'none',
    reason: `reason ${n}`,
    details: { n },
  };
}

function chain(length: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq++) {
    const event = sealEvent(entry(seq), seq, prev);
    events.push(event);
    prev = event.hash;
  }
  return events;
}

/** Feeds rows as a store would: the stored seq and hash columns, and the body without its hash. */
function verify(rows: Array<{ seq: number; hash: string; body: Omit<AuditEvent, 'hash'> }>) {
  const verifier = new ChainVerifier();
  for (const row of rows) if (!verifier.push(row.seq, row.hash, canonical(row.body))) break;
  return verifier.result();
}

const rowsOf = (events: AuditEvent[]) =>
  events.map((event) => {
    const { hash, ...body } = event;
    return { seq: event.seq, hash, body };
  });

describe('audit chain', () => {
  it('seals events with hash = sha256(prevHash + canonical(event without hash))', () => {
    const [first, second] = chain(2) as [AuditEvent, AuditEvent];
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(second.prevHash).toBe(first.hash);
    expect(first.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const { hash, ...body } = first;
    expect(chainHash(body)).toBe(hash);
    expect(AuditEventSchema.parse(first)).toEqual(first);
    // key order does not matter (canonical JSON)
    const reordered = Object.fromEntries(Object.entries(body).reverse()) as typeof body;
    expect(chainHash(reordered)).toBe(hash);
  });

  it('verifies an intact chain (and an empty one)', () => {
    const events = chain(5);
    expect(verify(rowsOf(events))).toEqual({
      ok: true,
      count: 5,
      head: { seq: 5, hash: (events[4] as AuditEvent).hash },
    });
    expect(verify([])).toEqual({ ok: true, count: 0, head: { seq: 0, hash: GENESIS_HASH } });
  });

  const tamperArb = fc
    .integer({ min: 2, max: 12 })
    .chain((length) => fc.record({ length: fc.constant(length), at: fc.integer({ min: 1, max: length }) }));

  it('detects an edited body at its seq', () => {
    fc.assert(
      fc.property(
        tamperArb,
        fc.constantFrom('reason', 'tier', 'paths', 'details', 'actor', 'at'),
        ({ length, at }, field) => {
          const rows = rowsOf(chain(length));
          const row = rows[at - 1] as (typeof rows)[number];
          const edits: Record<string, unknown> = {
            reason: 'innocent',
            tier: 'allowlisted',
            paths: [],
            details: { n: -1 },
            actor: { ...row.body.actor, role: 'owner' },
            at: '2020-01-01T00:00:00.000Z',
          };
          row.body = { ...row.body, [field]: edits[field] } as typeof row.body;
          expect(verify(rows)).toMatchObject({ ok: false, brokenAt: at });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('detects an edited hash at its seq', () => {
    fc.assert(
      fc.property(tamperArb, ({ length, at }) => {
        const rows = rowsOf(chain(length));
        const row = rows[at - 1] as (typeof rows)[number];
        row.hash = `sha256:${'f'.repeat(64)}`;
        expect(verify(rows)).toMatchObject({ ok: false, brokenAt: at });
      }),
      { numRuns: 200 },
    );
  });

  it('detects an edited body whose hash was recomputed, at that seq or the next', () => {
    fc.assert(
      fc.property(tamperArb, ({ length, at }) => {
        const rows = rowsOf(chain(length));
        const row = rows[at - 1] as (typeof rows)[number];
        row.body = { ...row.body, reason: 'rewritten' };
        row.hash = chainHash(row.body);
        const result = verify(rows);
        if (at === length) {
          // the head itself was rewritten consistently: only an external anchor of the head can tell
          expect(result.ok).toBe(true);
          if (result.ok) expect(result.head.hash).not.toBe(chain(length)[length - 1]?.hash);
        } else {
          expect(result).toMatchObject({ ok: false, brokenAt: at + 1 });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('detects a deleted event at the first missing seq', () => {
    fc.assert(
      fc.property(
        tamperArb.filter(({ length, at }) => at < length),
        ({ length, at }) => {
          const rows = rowsOf(chain(length));
          rows.splice(at - 1, 1);
          expect(verify(rows)).toMatchObject({ ok: false, brokenAt: at });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('detects a deleted event even when later events are renumbered', () => {
    fc.assert(
      fc.property(
        tamperArb.filter(({ length, at }) => at < length),
        ({ length, at }) => {
          const rows = rowsOf(chain(length));
          rows.splice(at - 1, 1);
          rows.forEach((row, index) => {
            row.seq = index + 1;
            row.body = { ...row.body, seq: index + 1 };
          });
          expect(verify(rows)).toMatchObject({ ok: false, brokenAt: at });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('detects an inserted event (even a well-formed one) at the insertion point', () => {
    fc.assert(
      fc.property(tamperArb, ({ length, at }) => {
        const events = chain(length);
        const prevHash = at === 1 ? GENESIS_HASH : (events[at - 2] as AuditEvent).hash;
        const forged = sealEvent(entry(999), at, prevHash);
        const rows = rowsOf(events);
        rows.splice(at - 1, 0, ...rowsOf([forged]));
        expect(verify(rows)).toMatchObject({ ok: false, brokenAt: at });
      }),
      { numRuns: 200 },
    );
  });

  it('detects a reordered pair at the first of the two', () => {
    fc.assert(
      fc.property(
        tamperArb.filter(({ length, at }) => at < length),
        fc.boolean(),
        ({ length, at }, keepSeqColumns) => {
          const rows = rowsOf(chain(length));
          const a = rows[at - 1] as (typeof rows)[number];
          const b = rows[at] as (typeof rows)[number];
          if (keepSeqColumns) {
            // bodies swapped under unchanged seq columns (what ORDER BY seq would return)
            [a.body, b.body, a.hash, b.hash] = [b.body, a.body, b.hash, a.hash];
          } else {
            rows[at - 1] = b;
            rows[at] = a;
          }
          expect(verify(rows)).toMatchObject({ ok: false, brokenAt: at });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stops at the first break and stays broken', () => {
    const rows = rowsOf(chain(6));
    (rows[1] as (typeof rows)[number]).hash = `sha256:${'0'.repeat(64)}`;
    (rows[4] as (typeof rows)[number]).body.reason = 'also edited';
    const verifier = new ChainVerifier();
    const accepted = rows.map((row) => verifier.push(row.seq, row.hash, canonical(row.body)));
    expect(accepted).toEqual([true, false, false, false, false, false]);
    expect(verifier.result()).toMatchObject({ ok: false, brokenAt: 2 });
  });

  it('a truncated tail still verifies: the head must be compared with a stored anchor', () => {
    const events = chain(5);
    const result = verify(rowsOf(events.slice(0, 3)));
    expect(result).toMatchObject({ ok: true, count: 3 });
    if (result.ok) expect(result.head.hash).not.toBe((events[4] as AuditEvent).hash);
  });
});
