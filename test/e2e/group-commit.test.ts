import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allEvents, cliPath, e2eTimeout, exited, http, init, repoRoot, serve, tempDir } from './cli.js';

type AuditEvent = { seq: number; kind: string; proposalId: string | null };

/** strace, and the right to trace a child (containers often forbid ptrace): the syscall check needs both. */
const canTrace = spawnSync('strace', ['-f', '-o', '/dev/null', 'true']).status === 0;

type Traced = { wal: number; syncs: number; answers: number; early: number; unmatched: number };

/**
 * Reads an `strace -f -y` log of the server: each `HTTP/1.1 202` answer is matched to its own
 * commit by the proposal id in the WAL pages (the first `pwrite64` to `-wal` that holds the id,
 * plus the frames that follow it on that thread), and must come after an fsync of `-wal` that
 * began after that commit and ended before the answer. ptrace stops a thread at every syscall
 * until strace has logged it, so the log's order is the order the syscalls happened in.
 */
function answersBeforeTheirFsync(log: string): Traced {
  const lines = log
    .split('\n')
    .map((line) => /^(\d+)\s+(.*)$/.exec(line))
    .map((m) => (m ? { pid: m[1], call: m[2] as string } : null));
  const walWrite = /^pwrite64\(\d+<[^>]*-wal>/;
  const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
  const committedAt = new Map<string, number>();
  const syncs: Array<{ start: number; end: number }> = [];
  const syncing = new Map<string, number>();
  const traced: Traced = { wal: 0, syncs: 0, answers: 0, early: 0, unmatched: 0 };
  lines.forEach((line, index) => {
    if (!line) return;
    const { pid, call } = line;
    if (walWrite.test(call)) {
      traced.wal++;
      let end = index;
      while (lines[end + 1]?.pid === pid && walWrite.test(lines[end + 1]?.call ?? '')) end++;
      for (const id of call.match(uuid) ?? []) if (!committedAt.has(id)) committedAt.set(id, end);
    } else if (/^fsync\(\d+<[^>]*-wal>/.test(call)) {
      if (call.includes('<unfinished')) syncing.set(pid as string, index);
      else syncs.push({ start: index, end: index });
    } else if (/^<\.\.\. fsync resumed>/.test(call) && syncing.has(pid as string)) {
      syncs.push({ start: syncing.get(pid as string) as number, end: index });
      syncing.delete(pid as string);
    } else if (/^writev?\(\d+<TCP:/.test(call) && call.includes('HTTP/1.1 202')) {
      traced.answers++;
      const id = /\\"id\\":\\"([0-9a-f-]{36})/.exec(call)?.[1];
      const committed = id === undefined ? undefined : committedAt.get(id);
      if (committed === undefined) traced.unmatched++;
      else if (!syncs.some((sync) => sync.start > committed && sync.end < index)) traced.early++;
    }
  });
  traced.syncs = syncs.length;
  return traced;
}

/**
 * Group commit (store/durability.ts, http/durable-replies.ts): commits share one fsync, and no
 * answer leaves before its fsync. Here a real server takes proposals and denials from many
 * concurrent clients over real sockets and is killed with SIGKILL mid-load; every proposal and
 * denial it acknowledged with a 2xx must be there, with its audit event, after a restart.
 *
 * What a SIGKILL can and cannot show: a killed process loses what it had not yet handed to the
 * kernel, so this catches any answer sent before its commit (a write still queued in memory, a
 * batched transaction not yet run). A commit that reached the page cache but was never fsynced
 * survives a SIGKILL, so that half of the promise (no answer before the fsync) is checked by
 * counting fsyncs in test/store/group-commit.test.ts and by the strace check in the notes.
 */
describe('group commit', () => {
  it(
    'every proposal and denial acknowledged before a SIGKILL under concurrent load is there after restart, with its audit event',
    async (t) => {
      const installed = await init(join(tempDir(t), 'data'));
      const rounds = 3;
      const clients = 16;
      const acknowledged = new Map<string, 'pending' | 'denied'>();
      let sequence = 0;
      for (let round = 0; round < rounds; round++) {
        const server = await serve(t, installed.dataDir, ['--rate-limit', 'off']);
        const config = await http<{ hash: string }>(server, 'GET', '/v1/config', installed.agentToken);
        let killed = false;
        let acknowledgedThisRound = 0;
        const client = async (index: number) => {
          while (!killed) {
            try {
              const proposed = await http<{ proposal: { id: string } }>(
                server,
                'POST',
                '/v1/proposals',
                installed.agentToken,
                { baseHash: config.body.hash, patch: { gateway: { port: 20000 + index } }, reason: `r${sequence++}` },
              );
              if (proposed.status !== 202) throw new Error(`propose answered ${proposed.status}`);
              const { id } = proposed.body.proposal;
              acknowledged.set(id, 'pending');
              acknowledgedThisRound++;
              // Every third one is denied at once: decisions must be as durable as proposals.
              if (sequence % 3 === 0) {
                const denied = await http(server, 'POST', `/v1/proposals/${id}/deny`, installed.ownerToken, {});
                if (denied.status !== 200) throw new Error(`deny answered ${denied.status}`);
                acknowledged.set(id, 'denied');
              }
            } catch (error) {
              // After the kill, requests in flight fail; before it, nothing may.
              if (!killed) throw error;
            }
          }
        };
        const load = Array.from({ length: clients }, (_, index) => client(index));
        // Kill once the server has acknowledged a good number of writes this round, at a moment
        // that varies by round, so the kill lands among commits and fsyncs in flight.
        const deadline = Date.now() + 20_000;
        while (acknowledgedThisRound < 150 + round * 50 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await new Promise((resolve) => setTimeout(resolve, (round * 13) % 30));
        server.child.kill('SIGKILL');
        killed = true;
        await Promise.all(load);
        await exited(server.child);
        expect(acknowledgedThisRound, `round ${round}: the load ran`).toBeGreaterThan(100);

        const restarted = await serve(t, installed.dataDir, ['--rate-limit', 'off']);
        const events = await allEvents<AuditEvent>(restarted, installed.ownerToken);
        const created = new Set(events.filter((e) => e.kind === 'proposal.created').map((e) => e.proposalId));
        const denied = new Set(events.filter((e) => e.kind === 'proposal.denied').map((e) => e.proposalId));
        const missing: string[] = [];
        for (const [id, status] of acknowledged) {
          if (!created.has(id)) missing.push(`${id}: no proposal.created event`);
          if (status === 'denied' && !denied.has(id)) missing.push(`${id}: no proposal.denied event`);
        }
        // And the proposals themselves, in their acknowledged state (a sample per round keeps it quick).
        const sample = [...acknowledged].filter((_, index) => index % 7 === round % 7);
        for (const [id, status] of sample) {
          const card = await http<{ status: string }>(restarted, 'GET', `/v1/proposals/${id}`, installed.ownerToken);
          // A denial sent but not answered when the kill came may or may not have made it.
          const allowed = status === 'denied' ? ['denied'] : ['pending', 'denied'];
          if (card.status !== 200 || !allowed.includes(card.body.status)) {
            missing.push(`${id}: ${card.status} ${card.body.status ?? ''}, acknowledged ${status}`);
          }
        }
        expect(missing, `round ${round}: acknowledged but lost`).toEqual([]);
        const verified = await http<{ ok: boolean }>(restarted, 'GET', '/v1/audit/verify', installed.ownerToken);
        expect(verified.body.ok).toBe(true);
        await restarted.stop();
      }
      expect(acknowledged.size).toBeGreaterThan(rounds * 100);
    },
    e2eTimeout * 3,
  );
  // SIGKILL cannot show the fsync half of the promise (see above); the syscalls can. A build whose
  // answers skip the barrier fails this with nearly every answer early (checked by hand; notes).
  it.skipIf(!canTrace)(
    'under strace, every 202 is written after an fsync of the WAL that began after its own commit',
    async (t) => {
      const installed = await init(join(tempDir(t), 'data'));
      const log = join(tempDir(t), 'strace.log');
      const child = spawn(
        'strace',
        [
          '-f',
          '-y',
          '-yy',
          '-s',
          '8192',
          '-e',
          'trace=fsync,pwrite64,write,writev',
          '-o',
          log,
          process.execPath,
          cliPath,
          'serve',
          '--data',
          installed.dataDir,
          '--host',
          '127.0.0.1',
          '--port',
          '0',
          '--rate-limit',
          'off',
        ],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, COUNTERSIGN_LOG_LEVEL: 'warn' } },
      );
      t.onTestFinished(() => {
        child.kill('SIGKILL');
      });
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (match) resolve(match[1] as string);
        });
        child.once('exit', () => reject(new Error(`serve under strace exited before listening: ${out}`)));
      });
      const server = { url };
      const config = await http<{ hash: string }>(server, 'GET', '/v1/config', installed.agentToken);
      let sent = 0;
      const client = async () => {
        while (sent < 240) {
          sent++;
          const proposed = await http(server, 'POST', '/v1/proposals', installed.agentToken, {
            baseHash: config.body.hash,
            patch: { gateway: { port: 1000 + sent } },
          });
          expect(proposed.status).toBe(202);
        }
      };
      await Promise.all(Array.from({ length: 8 }, client));
      // SIGTERM to the traced server (strace itself would only detach), then strace ends and flushes.
      const tracee = Number(
        spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
          .stdout.trim()
          .split('\n')[0],
      );
      const done = new Promise((resolve) => child.once('exit', resolve));
      process.kill(tracee, 'SIGTERM');
      await done;
      const traced = answersBeforeTheirFsync(readFileSync(log, 'utf8'));
      expect(traced.answers).toBe(240);
      expect(traced.unmatched).toBe(0);
      expect(traced.early, JSON.stringify(traced)).toBe(0);
      // Shared: far fewer fsyncs than answers.
      expect(traced.syncs).toBeLessThan(240);
    },
    e2eTimeout,
  );
});
