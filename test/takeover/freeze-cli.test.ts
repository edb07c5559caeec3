import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliOk, e2eTimeout, enrollTotp, http, init, ownerEnv, serve, tempDir, totpCode } from '../e2e/cli.js';
import { readSse, until } from '../support/events.js';

/*
 * Manual takeover (SPEC §11) as a user meets it: the built CLI as child processes, `countersign
 * serve` over a real socket, a freeze written straight into the data directory while the server
 * runs, and a freeze that outlives a kill -9.
 */

type Config = { hash: string };

async function agentProposes(server: { url: string }, agentToken: string, level: string) {
  const config = await http<Config>(server, 'GET', '/v1/config', agentToken);
  return http<{ status?: string; error?: { code: string; message: string } }>(
    server,
    'POST',
    '/v1/proposals',
    agentToken,
    { baseHash: config.body.hash, patch: { agents: { defaults: { thinkingDefault: level } } } },
  );
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('countersign freeze / unfreeze / status', () => {
  it(
    'a freeze written on --data while the server runs takes effect on the next agent request; unfreeze through the server lifts it',
    async (t) => {
      const installed = await init(join(tempDir(t), 'data'));
      const server = await serve(t, installed.dataDir);
      expect((await agentProposes(server, installed.agentToken, 'high')).status).toBe(200);
      const sse = await readSse(server.url, installed.ownerToken);
      await until('the event stream to open', () => sse.comments.some((comment) => comment.startsWith('connected')));

      const frozen = await cliOk(['freeze', '--data', installed.dataDir, '--reason', 'server looks wedged', '--json']);
      expect(JSON.parse(frozen.stdout)).toMatchObject({
        frozen: true,
        reason: 'server looks wedged',
        alreadyFrozen: false,
      });

      const refused = await agentProposes(server, installed.agentToken, 'low');
      expect(refused.status).toBe(403);
      expect(refused.body.error?.code).toBe('frozen');
      // The server announces a freeze it did not make itself, with its chat text.
      const announced = await until('freeze.applied on the event stream', () =>
        sse.events.find((event) => event.event === 'freeze.applied'),
      );
      expect(announced.data).toMatchObject({ frozen: true, reason: 'server looks wedged', by: { name: 'data-dir' } });
      expect((announced.data as { text: string }).text).toContain('FROZEN');

      // The running server reports it, and the CLI reads it from the server and from the directory alike.
      const env = ownerEnv(server, installed.ownerToken);
      const viaServer = JSON.parse((await cliOk(['status', '--json'], { env })).stdout);
      expect(viaServer).toMatchObject({ frozen: true, reason: 'server looks wedged', lastDrill: null });
      const viaData = JSON.parse((await cliOk(['status', '--data', installed.dataDir, '--json'])).stdout);
      expect(viaData).toMatchObject({ frozen: true, since: viaServer.since });
      const human = await cliOk(['status'], { env });
      expect(human.stdout).toContain('FROZEN');
      expect(human.stdout).toContain('server looks wedged');

      // An agent token cannot lift it.
      const agentTry = await cli(['unfreeze', '--json'], { env: ownerEnv(server, installed.agentToken) });
      expect(agentTry.code).toBe(1);
      expect(`${agentTry.stdout}${agentTry.stderr}`).toContain('forbidden');
      const agentHuman = await cli(['unfreeze'], { env: ownerEnv(server, installed.agentToken) });
      expect(agentHuman.code).toBe(1);
      expect(agentHuman.stderr).toContain('[forbidden]');

      const lifted = await cliOk(['unfreeze', '--reason', 'checked the logs'], { env });
      expect(lifted.stdout).toContain('Unfrozen');
      expect((await agentProposes(server, installed.agentToken, 'medium')).status).toBe(200);

      // Two processes appended to one audit chain; it still verifies.
      await cliOk(['audit', 'verify', '--data', installed.dataDir]);
      const kinds = (
        await http<{ events: { kind: string; actor: { name: string } | null }[] }>(
          server,
          'GET',
          '/v1/audit?limit=500',
          installed.ownerToken,
        )
      ).body.events.filter((event) => event.kind.startsWith('freeze.'));
      expect(kinds.map((event) => [event.kind, event.actor?.name])).toEqual([
        ['freeze.applied', 'data-dir'],
        ['freeze.lifted', 'owner'],
      ]);
    },
    e2eTimeout,
  );

  it(
    'a freeze survives a kill -9 restart',
    async (t) => {
      const installed = await init(join(tempDir(t), 'data'));
      const server = await serve(t, installed.dataDir);
      const env = ownerEnv(server, installed.ownerToken);
      await cliOk(['freeze', '--reason', 'incident'], { env });
      server.child.kill('SIGKILL');
      await exited(server.child);

      const restarted = await serve(t, installed.dataDir);
      const refused = await agentProposes(restarted, installed.agentToken, 'low');
      expect(refused.status).toBe(403);
      expect(refused.body.error?.code).toBe('frozen');
      const status = await http<{ frozen: boolean; reason: string }>(
        restarted,
        'GET',
        '/v1/status',
        installed.ownerToken,
      );
      expect(status.body).toMatchObject({ frozen: true, reason: 'incident' });
    },
    e2eTimeout,
  );

  it(
    'unfreeze on --data needs an enrolled owner and a code once TOTP is enrolled; human output and --help',
    async (t) => {
      const installed = await init(join(tempDir(t), 'data'));
      const secret = await enrollTotp(installed.dataDir, 'owner');
      const data = ['--data', installed.dataDir];

      const first = await cliOk(['freeze', ...data, '--reason', 'drill night']);
      expect(first.stdout).toContain('Frozen since');
      const twice = await cliOk(['freeze', ...data, '--reason', 'again']);
      expect(twice.stdout).toContain('Already frozen');

      const noOwner = await cli(['unfreeze', ...data]);
      expect(noOwner.code).toBe(1);
      expect(noOwner.stderr).toContain('[totp_required]');
      const noCode = await cli(['unfreeze', ...data, '--owner', 'owner']);
      expect(noCode.stderr).toContain('[totp_required]');
      const wrong = await cli(['unfreeze', ...data, '--owner', 'owner', '--totp', '000000']);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/\[totp_(invalid|replayed)\]/);
      const stranger = await cli(['unfreeze', ...data, '--owner', 'mallory', '--totp', totpCode(secret)]);
      expect(stranger.stderr).toContain('[totp_not_enrolled]');
      expect(JSON.parse((await cliOk(['status', ...data, '--json'])).stdout).frozen).toBe(true);

      const lifted = await cliOk(['unfreeze', ...data, '--owner', 'owner', '--totp', totpCode(secret), '--json']);
      expect(JSON.parse(lifted.stdout)).toMatchObject({ frozen: false, wasFrozen: true, stepUp: 'totp' });
      const again = await cliOk(['unfreeze', ...data]);
      expect(again.stdout).toContain('Not frozen');

      const missingReason = await cli(['freeze', ...data]);
      expect(missingReason.code).not.toBe(0);
      expect(missingReason.stderr).toContain('--reason');
      const help = await cliOk(['freeze', '--help']);
      expect(help.stdout).toContain('--data');
      expect(help.stdout).toContain('Examples');
      expect(readFileSync(join(installed.dataDir, 'countersign.json'), 'utf8')).toBeTruthy();
    },
    e2eTimeout,
  );
});
