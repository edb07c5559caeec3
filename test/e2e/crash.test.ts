import { createHmac, hkdfSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import stableStringify from 'json-stable-stringify';
import { describe, expect, it } from 'vitest';
import { allEvents, e2eTimeout, exited, http, init, serve, tempDir } from './cli.js';

/** SPEC §1, computed here independently of the service: HMAC-SHA256 under the installation's derived key. */
const hashOf = (dataDir: string, value: unknown) => {
  const secret = Buffer.from(readFileSync(join(dataDir, 'installation.key'), 'utf8').trim(), 'hex');
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'countersign document-hash v1', 32));
  return `hmac-sha256:${createHmac('sha256', key)
    .update(stableStringify(value) as string)
    .digest('hex')}`;
};
const levels = ['off', 'low', 'medium', 'high'];
type AuditEvent = { seq: number; kind: string; targetHash: string | null };

describe('crash safety', () => {
  it(
    'SIGKILL at random moments during bursts of applies never tears the document or splits it from the audit',
    async (t) => {
      const installed = await init(join(tempDir(t), 'data'));
      const original = hashOf(installed.dataDir, JSON.parse(readFileSync(installed.configPath, 'utf8')));
      const rounds = 8;
      let applied = 0;
      for (let round = 0; round < rounds; round++) {
        const server = await serve(t, installed.dataDir, ['--rate-limit', 'off']);
        const burst = Array.from({ length: 24 }, async (_, index) => {
          const config = await http<{ hash: string }>(server, 'GET', '/v1/config', installed.agentToken);
          if (index % 3 === 0) {
            const proposed = await http<{ proposal: { id: string; patchHash: string } }>(
              server,
              'POST',
              '/v1/proposals',
              installed.agentToken,
              { baseHash: config.body.hash, patch: { gateway: { port: 20000 + round * 100 + index } } },
            );
            if (proposed.status !== 202) return proposed.status;
            const { id, patchHash } = proposed.body.proposal;
            return (await http(server, 'POST', `/v1/proposals/${id}/approve`, installed.ownerToken, { patchHash }))
              .status;
          }
          const patch = {
            agents: { defaults: { thinkingDefault: levels[(round + index) % 4], reasoningDefault: levels[index % 4] } },
          };
          return (
            await http(server, 'POST', '/v1/proposals', installed.agentToken, { baseHash: config.body.hash, patch })
          ).status;
        });
        // Kill once the server is demonstrably busy (first answer back), plus a varying delay,
        // so the kill lands among applies however loaded the machine is.
        await Promise.race([Promise.any(burst), new Promise((resolve) => setTimeout(resolve, 3000))]);
        await new Promise((resolve) => setTimeout(resolve, (round * 7) % 40));
        server.child.kill('SIGKILL');
        await Promise.allSettled(burst);
        await exited(server.child);

        // Straight after the kill, before anything repairs it: the document is whole.
        const onDisk = JSON.parse(readFileSync(installed.configPath, 'utf8'));

        const restarted = await serve(t, installed.dataDir, ['--rate-limit', 'off']);
        const config = await http<{ hash: string }>(restarted, 'GET', '/v1/config', installed.ownerToken);
        expect(config.body.hash).toBe(hashOf(installed.dataDir, onDisk));
        const events = await allEvents<AuditEvent>(restarted, installed.ownerToken);
        const appliedEvents = events.filter((event) => event.kind === 'change.applied');
        applied = appliedEvents.length;
        const lastApplied = appliedEvents.at(-1);
        expect(config.body.hash, `round ${round}`).toBe(lastApplied?.targetHash ?? original);
        expect(
          events.some((event) => event.kind === 'config.drift'),
          `round ${round}: no drift`,
        ).toBe(false);
        const verified = await http<{ ok: boolean }>(restarted, 'GET', '/v1/audit/verify', installed.ownerToken);
        expect(verified.body.ok).toBe(true);
        expect(readdirSync(dirname(installed.configPath)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
        await restarted.stop();
      }
      // The bursts did real work, so the kills landed among real applies.
      expect(applied).toBeGreaterThan(0);
    },
    e2eTimeout * 2,
  );
});
