import { describe, expect, it } from 'vitest';
import { documentHash } from '../../src/core/hash.js';
import { watchDocuments } from '../../src/service/watch.js';
import { installation } from '../support/harness.js';

describe('concurrency and drift', () => {
  it('of many approvals racing on one base exactly one applies; the rest are stale', async () => {
    const h = await installation();
    const base = h.currentHash();
    const cards = [];
    for (let port = 20000; port < 20020; port++) {
      const response = await h.request('POST', '/v1/proposals', h.agentToken, {
        baseHash: base,
        patch: { gateway: { port } },
      });
      cards.push(response.json().proposal);
    }
    const results = await Promise.all(
      cards.map((card) =>
        h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, { patchHash: card.patchHash }),
      ),
    );
    const applied = results.filter((response) => response.statusCode === 200);
    expect(applied).toHaveLength(1);
    expect(
      results.filter((response) => response.statusCode === 409).map((response) => response.json().error.code),
      // The winner's apply voids the others at once (issue 10 item 10): they are no longer pending.
    ).toEqual(Array(19).fill('not_pending'));
    expect(h.currentHash()).toBe(applied[0]?.json().hash);
    expect(h.service.audit.list({ limit: 1000 }).filter((event) => event.kind === 'proposal.stale')).toHaveLength(19);
    expect(h.service.audit.list({ limit: 1000 }).filter((event) => event.kind === 'change.applied')).toHaveLength(1);
    expect(h.service.audit.verify().ok).toBe(true);
  });

  it('an outside edit is recorded as config.drift by the file watch, with its paths and no values', async () => {
    const h = await installation();
    const stop = watchDocuments(h.service, 20);
    try {
      const { writeFileSync } = await import('node:fs');
      const edited = h.document() as {
        tools: { exec: { security: string } };
        channels: { telegram: { botToken: string } };
      };
      edited.tools.exec.security = 'full';
      edited.channels.telegram.botToken = 'HAND_EDITED_SECRET';
      writeFileSync(h.configPath, JSON.stringify(edited));
      const deadline = Date.now() + 5000;
      while (!h.auditKinds().includes('config.drift') && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const drift = h.service.audit.list().find((event) => event.kind === 'config.drift');
      expect(drift?.paths.sort()).toEqual(['channels.telegram.botToken', 'tools.exec.security']);
      expect(drift?.targetHash).toBe(documentHash(h.service.hashKey, edited));
      expect(JSON.stringify(drift)).not.toContain('HAND_EDITED_SECRET');
    } finally {
      stop();
    }
  });
});
