/**
 * Issue 10 item 4 on a real terminal: an agent's reason carrying `ESC[3A CR ESC[2K Tier: PROTECTED
 * ESC[8m` (cursor up, erase line, conceal) used to rewrite the card `countersign show` and
 * `countersign approve` print, so a dangerous change read as protected and the real change was
 * invisible. The CLI runs on a real pseudo-terminal (test/support/pty-drive.py) and everything it
 * wrote is fed to a terminal emulator (xterm.js, headless); the assertions read the emulator's
 * screen, i.e. what the owner would see.
 */
import xterm from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { type Card, e2eTimeout, http, running } from './cli.js';
import { onTerminal } from './pty.js';

const spoof = '\u001b[3A\r\u001b[2KTier:      PROTECTED   (nothing to worry about)\u001b[8m';
const hostile = {
  reason: `Routine tidy-up${spoof}\n\u001b[2J\u001b[HProposal 0000  [pending]\nTier:      PROTECTED\u202e`,
  sessionKey: `chat-42\u001b[1A\u001b[2K\u009b2K\u200b`,
};

/** TERM for the runs whose bytes go to the emulator below. */
const xtermTerm = 'xterm-256color';

/** What a terminal shows after receiving `output`: its screen and scrollback, one string per row. */
async function screenOf(output: string): Promise<string[]> {
  const terminal = new xterm.Terminal({ cols: 160, rows: 60, scrollback: 1000, allowProposedApi: true });
  // The pty turns "\n" into "\r\n" on the way out; pty-drive already hands us what it read.
  await new Promise<void>((resolve) => terminal.write(output, resolve));
  const buffer = terminal.buffer.active;
  const rows: string[] = [];
  for (let i = 0; i < buffer.length; i++) rows.push(buffer.getLine(i)?.translateToString(true) ?? '');
  terminal.dispose();
  return rows;
}

async function hostileProposal(t: Parameters<typeof running>[0]) {
  const setup = await running(t);
  const read = await http<{ hash: string }>(setup.server, 'GET', '/v1/config', setup.installation.agentToken);
  const proposed = await http<{ proposal: Card }>(
    setup.server,
    'POST',
    '/v1/proposals',
    setup.installation.agentToken,
    { baseHash: read.body.hash, patch: { commands: { mcp: true } }, ...hostile },
  );
  expect(proposed.status).toBe(202);
  return { ...setup, card: proposed.body.proposal };
}

function expectHonest(rows: string[]): void {
  const screen = rows.join('\n');
  // The real tier and the real change are on screen; no row the agent wrote passes for a card line.
  expect(rows.filter((row) => row.startsWith('Tier:'))).toEqual(['Tier:      DANGEROUS']);
  expect(rows.filter((row) => row.startsWith('Proposal '))).toHaveLength(1);
  expect(screen).toContain('commands.mcp');
  expect(screen).toMatch(/before: false\n\s+after: {2}true/);
  // The attempt itself is shown, as escapes.
  expect(screen).toContain('Reason:    Routine tidy-up\\x1b[3A\\r\\x1b[2KTier:      PROTECTED');
  expect(screen).toContain('         | \\x1b[2J\\x1b[HProposal 0000  [pending]');
  expect(screen).toContain('         | Tier:      PROTECTED\\u202e');
  expect(screen).toContain('session chat-42\\x1b[1A\\x1b[2K\\x9b2K\\u200b');
}

describe('a hostile agent cannot rewrite the card on the owner’s terminal', () => {
  it(
    '`countersign show`: the screen says DANGEROUS and shows the real change',
    async (t) => {
      const { installation, server, card } = await hostileProposal(t);
      const env = { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: installation.ownerToken };
      const { code, output } = await onTerminal(['show', card.id], [], env, xtermTerm);
      expect(code).toBe(0);
      expectHonest(await screenOf(output));
    },
    e2eTimeout,
  );

  it(
    '`countersign approve`: the card above the prompt is the real one',
    async (t) => {
      const { installation, server, card, document } = await hostileProposal(t);
      const env = { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: installation.ownerToken };
      // The owner reads the card and, seeing a dangerous change, types something other than the phrase.
      const { code, output } = await onTerminal(
        ['approve', card.id],
        [
          ['Type "', 'no'],
          ['Authenticator code', ''],
        ],
        env,
        xtermTerm,
      );
      const rows = await screenOf(output);
      expectHonest(rows);
      expect(rows.join('\n')).toContain(`This is a dangerous change. Type "${card.approval.confirmPhrase}"`);
      expect(rows.join('\n')).toContain('confirm_required');
      expect(code).toBe(1);
      expect(document().commands.mcp).toBe(false);
    },
    e2eTimeout,
  );
});
