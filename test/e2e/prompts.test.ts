import { describe, expect, it } from 'vitest';
import { agentProposesMcp, e2eTimeout, enrollTotp, running, totpCode } from './cli.js';
import { onTerminal } from './pty.js';

describe('the owner CLI asks for what the card needs', () => {
  it(
    'prompts for the confirm phrase and a TOTP code, and never echoes the code',
    async (t) => {
      const { installation, server, document } = await running(t);
      const secret = await enrollTotp(installation.dataDir);
      const card = await agentProposesMcp(server, installation.agentToken);
      const code = totpCode(secret);
      const env = { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: installation.ownerToken };
      const { code: exit, output: screen } = await onTerminal(
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
