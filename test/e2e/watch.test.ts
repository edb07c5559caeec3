import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliPath, e2eTimeout, http, repoRoot, running } from './cli.js';

describe('countersign watch', () => {
  it(
    'prints proposals and applies as they happen',
    async (t) => {
      const { installation, server } = await running(t);
      const child = spawn(process.execPath, [cliPath, 'watch', '--json'], {
        cwd: repoRoot,
        env: { ...process.env, COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: installation.ownerToken },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      t.onTestFinished(() => {
        child.kill('SIGKILL');
      });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      const waitFor = async (text: string) => {
        const deadline = Date.now() + 15_000;
        while (!output.includes(text) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
        return output.includes(text);
      };
      // The stream is open once the server has a subscriber; propose until the event shows up.
      let proposed = false;
      for (let attempt = 0; attempt < 50 && !proposed; attempt++) {
        const config = await http<{ hash: string }>(server, 'GET', '/v1/config', installation.agentToken);
        await http(server, 'POST', '/v1/proposals', installation.agentToken, {
          baseHash: config.body.hash,
          patch: { agents: { defaults: { thinkingDefault: attempt % 2 ? 'low' : 'high' } } },
        });
        proposed = await Promise.race([
          waitFor('"change.applied"'),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300)),
        ]);
      }
      expect(proposed).toBe(true);
      const event = output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { event: string; data: { proposal?: { changes: Array<{ path: string }> } } })
        .find((line) => line.event === 'change.applied');
      expect(event?.data.proposal?.changes[0]?.path).toBe('agents.defaults.thinkingDefault');
    },
    e2eTimeout,
  );
});
