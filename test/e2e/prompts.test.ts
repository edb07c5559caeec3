import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { agentProposesMcp, cliPath, e2eTimeout, enrollTotp, repoRoot, running, totpCode } from './cli.js';

const driver = fileURLToPath(new URL('../support/pty-drive.py', import.meta.url));

/** Runs the CLI on a real pseudo-terminal, answering each prompt only once it is on screen. */
function onTerminal(args: string[], answers: Array<[string, string]>, env: Record<string, string>) {
  return new Promise<{ code: number | null; screen: string }>((resolve, reject) => {
    const child = spawn('python3', [driver, JSON.stringify(answers), process.execPath, cliPath, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env, TERM: 'dumb' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      screen += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, screen }));
  });
}

describe('the owner CLI asks for what the card needs', () => {
  it(
    'prompts for the confirm phrase and a TOTP code, and never echoes the code',
    async (t) => {
      const { installation, server, document } = await running(t);
      const secret = await enrollTotp(installation.dataDir);
      const card = await agentProposesMcp(server, installation.agentToken);
      const code = totpCode(secret);
      const env = { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: installation.ownerToken };
      const { code: exit, screen } = await onTerminal(
        ['approve', card.id],
        [
          [`Type "${card.approval.confirmPhrase}"`, card.approval.confirmPhrase as string],
          ['Authenticator code', code],
        ],
        env,
      );
      expect(screen).toContain('DANGEROUS');
      expect(screen).toContain('<<answered Authenticator code>>');
      expect(screen.split('<<answered Authenticator code>>')[1]).not.toContain(code);
      expect(screen).toContain('Applied.');
      expect(exit).toBe(0);
      expect(document().commands.mcp).toBe(true);
    },
    e2eTimeout,
  );
});
