/**
 * The exec request cards (src/core/exec/render.ts) against a hostile agent: argv tokens, shell
 * text, cwd, env, session key and paths reach the terminal and the chat card only as inert text;
 * argv reads token by token, so no re-quoting can make two argvs look the same; the risk and the
 * exact commands to decide are on the card.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderExecMarkdown, renderExecSummary, renderExecText } from '../../src/core/exec/render.js';
import type { ExecRequest } from '../../src/core/exec/request.js';
import { expectNoLiveMarkdown } from '../support/markdown.js';

/** What must never reach a person raw: controls, bidi, zero-width and other invisible characters. */
const rawAgent = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u00a0\u2000-\u200a\u202f\u205f\u3000]/u;
function expectInert(text: string): void {
  for (const line of text.replaceAll('⚠️', '⚠').split('\n')) expect(line).not.toMatch(rawAgent);
}

const hostileArgv = [
  '/usr/bin/git',
  'push',
  '--force\u001b[2K\r\u001b[1ARisk:      none flagged',
  'a b',
  '',
  'origin\u202e\u2066niam\u2069\u202c',
  '`rm -rf /`',
  '[click](https://evil.example) @everyone <@1234> <script>x</script> **bold** # heading',
  '\u200bsudo',
  'line1\nTo decide: nothing to see\n',
  '"quoted" \\ back\\slash \u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007',
  '\u00a0\u3000\ufeff',
  ' trailing ',
];

function request(overrides: Partial<ExecRequest> = {}): ExecRequest {
  return {
    id: '4b1d6c1e-7d0a-4f7e-9a55-0d9f0d7c9a11',
    status: 'pending',
    agentId: 'main',
    sessionKey: 'chat-42\u001b]8;;https://evil.example\u0007click\u200b',
    argv: hostileArgv,
    commandText: null,
    cwd: '/home/agent/repo\u202e/exe.txt',
    env: [
      { name: 'GIT_SSH_COMMAND', value: 'ssh -i /tmp/key\u001b[8m' },
      { name: 'API_TOKEN', value: '[redacted]' },
    ],
    resolvedPath: '/usr/bin/git',
    fileOperand: { argvIndex: 1, path: '/home/agent/repo/`deploy`.sh\u200b', sha256: 'a'.repeat(64) },
    segments: [
      {
        argv: hostileArgv,
        resolvedPath: '/usr/bin/git',
        matched: null,
        inlineEval: false,
        elevated: false,
        destructive: true,
      },
    ],
    risk: { elevated: false, destructive: true, inlineEval: false, unanalysable: false },
    reason: 'allowlist_miss',
    planHash: `hmac-sha256:${'b'.repeat(64)}`,
    allowedDecisions: ['allow-once', 'allow-for', 'allow-always', 'deny'],
    approval: { totp: true, surfaces: ['cli', 'web'] },
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T00:02:00.000Z',
    resolution: null,
    ...overrides,
  };
}

/** The argv lines of a terminal card, decoded back: `  [i] <JSON string>`. */
function argvOf(card: string): string[] {
  return card
    .split('\n')
    .map((line) => /^ {2}\[(\d+)\] (".*")$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => JSON.parse(match[2] as string) as string);
}

describe('terminal card', () => {
  it('shows a hostile argv token by token, inert, and decodable back to the exact argv', () => {
    const card = renderExecText(request());
    expectInert(card);
    expect(argvOf(card)).toEqual(hostileArgv);
    expect(card).toContain('Command (argv, 13 tokens, run without a shell):');
    expect(card).toContain('  [2] "--force\\u001b[2K\\r\\u001b[1ARisk:      none flagged"');
    expect(card).toContain('  [4] ""');
    expect(card).toContain('  [12] " trailing "');
    // No line of the agent's can pass for a line of the card.
    expect(card.match(/^Risk:/gm)).toHaveLength(1);
    expect(card).not.toMatch(/^To decide: nothing/m);
  });

  it('puts the risk first and prominent, and says what each flag means', () => {
    const card = renderExecText(
      request({ risk: { elevated: true, destructive: true, inlineEval: true, unanalysable: true } }),
    );
    const lines = card.split('\n');
    expect(lines[1]).toBe('Risk:      ELEVATED, DESTRUCTIVE, INLINE EVAL, UNANALYSABLE');
    expect(card).toContain('  ! DESTRUCTIVE: matches a destructive rule');
    expect(card).toContain('  ! INLINE EVAL: runs code written on the command line');
    const styled = renderExecText(request(), (role, text) => (role === 'danger' ? `<<${text}>>` : text));
    expect(styled).toContain('<<Risk:      DESTRUCTIVE>>');
  });

  it('shows cwd, env, the resolved path, the bound file with its hash, each segment, and how to decide', () => {
    const card = renderExecText(request());
    expect(card).toContain('Cwd:       "/home/agent/repo\\u202e/exe.txt"');
    expect(card).toContain('Runs:      "/usr/bin/git"');
    expect(card).toContain('Env:       "GIT_SSH_COMMAND" = "ssh -i /tmp/key\\u001b[8m"');
    expect(card).toContain('Env:       "API_TOKEN" = "[redacted]"');
    expect(card).toContain(`File:      "/home/agent/repo/\`deploy\`.sh\\u200b" (argv[1]), sha256 ${'a'.repeat(64)}`);
    expect(card).toContain('     resolved: "/usr/bin/git"');
    expect(card).toContain('     matched:  (no allowlist pattern)');
    expect(card).toContain('     risk:     DESTRUCTIVE');
    expect(card).toContain('Agent:     "main", session "chat-42\\u001b]8;;https://evil.example\\u0007click\\u200b"');
    expect(card).toContain('Why:       allowlist_miss (no allowlist pattern covers every segment)');
    expect(card).toContain('To decide: from cli, web; an authenticator (TOTP) code is required');
    expect(card).toContain('countersign exec approve 4b1d6c1e-7d0a-4f7e-9a55-0d9f0d7c9a11 --always');
    expect(card).toContain('countersign exec approve 4b1d6c1e-7d0a-4f7e-9a55-0d9f0d7c9a11 --for SECONDS');
    expect(card).toContain('countersign exec deny 4b1d6c1e-7d0a-4f7e-9a55-0d9f0d7c9a11');
    expect(card).toContain('Expires: 2026-01-01T00:02:00.000Z');
  });

  it('offers allow-always only where the request allows it, and no commands once decided or in a dry run', () => {
    const once = renderExecText(request({ allowedDecisions: ['allow-once', 'deny'] }));
    expect(once).not.toContain('--always');
    expect(once).not.toContain('--for SECONDS');
    expect(once).toContain('countersign exec approve 4b1d6c1e-7d0a-4f7e-9a55-0d9f0d7c9a11 ');
    expect(renderExecText(request(), undefined, { howToDecide: false })).not.toContain('countersign exec');
    const denied = renderExecText(
      request({
        status: 'denied',
        resolution: {
          status: 'denied',
          at: '2026-01-01T00:01:00.000Z',
          decision: 'deny',
          reason: 'owner',
          by: { role: 'owner', name: 'ops\u202e', agentId: null, sessionKey: null, surface: 'cli' },
          stepUp: 'none',
          pattern: null,
          grantId: null,
          grantExpiresAt: null,
        },
      }),
    );
    expect(denied).not.toContain('countersign exec approve');
    expect(denied).toContain(
      'Resolution: denied, decision deny, reason owner (an owner decided), by owner "ops\\u202e" via cli',
    );
    expectInert(denied);
  });

  it('shows shell text as one quoted, inert string run with /bin/sh -c', () => {
    const card = renderExecText(
      request({
        argv: null,
        commandText: 'echo hi && rm -rf "$HOME"\u202e # `x`',
        resolvedPath: null,
        fileOperand: null,
      }),
    );
    expect(card).toContain('Command (shell text, run with /bin/sh -c):');
    expect(card).toContain('  "echo hi && rm -rf \\"$HOME\\"\\u202e # `x`"');
    expectInert(card);
  });

  it('cuts agent lines at the terminal width, continuing on marked lines', () => {
    const long = 'x'.repeat(300);
    const card = renderExecText(request({ argv: ['/bin/echo', long] }), undefined, { width: 80 });
    const agentLines = card.split('\n').filter((line) => /^( {2}\[\d+\]| {6}↪)/.test(line));
    expect(agentLines.length).toBeGreaterThan(4);
    for (const line of agentLines) expect(Array.from(line).length).toBeLessThanOrEqual(80);
    expect(card).toMatch(/\n {6}↪ x+/);
  });

  it('property: any argv reads back exactly, and no agent string leaves a raw invisible character', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 8 }),
        fc.string({ unit: 'binary' }),
        (argv, cwd) => {
          const req = request({
            argv,
            cwd,
            segments: [{ ...request().segments[0], argv } as ExecRequest['segments'][0]],
          });
          const card = renderExecText(req);
          expectInert(card);
          expect(argvOf(card)).toEqual(argv);
          const chat = renderExecMarkdown(req);
          expectInert(chat);
          expectInert(renderExecSummary(req));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('chat card', () => {
  it('lets no token start a link, mention, HTML, heading or emphasis; each token is one code span', () => {
    const chat = renderExecMarkdown(request());
    expectInert(chat);
    // Every agent string is inside a code span; outside them no @mention or <…> survives.
    const { inlines, outside, spans } = expectNoLiveMarkdown(chat);
    expect(outside).not.toContain('@everyone');
    expect(outside).not.toContain('<@1234>');
    for (const token of hostileArgv) {
      expect(spans).toContain(
        JSON.stringify(token).replace(
          /[\u007f-\u009f\u200b\u202c\u202e\u2066\u2069\u00a0\u3000\ufeff]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        ),
      );
    }
    const strong = inlines.filter((token) => token.type === 'strong_open').length;
    // Only the card's own bold: header, status, risk, its flag, "Command", the segment's risk, the TOTP note.
    expect(strong).toBe(7);
  });

  it('shows risk, cwd, file, segments and the exact commands to decide', () => {
    const chat = renderExecMarkdown(request());
    expect(chat).toContain('**Risk: DESTRUCTIVE**');
    expect(chat).toContain('**🔴 Exec request**');
    expect(chat).toContain('- cwd `"/home/agent/repo\\u202e/exe.txt"`');
    expect(chat).toContain(`· sha256 \`${'a'.repeat(64)}\``);
    expect(chat).toContain('- segment 1: `"/usr/bin/git"` → `"/usr/bin/git"` · no allowlist pattern · **DESTRUCTIVE**');
    expect(chat).toContain('allow once: `countersign exec approve 4b1d6c1e-7d0a-4f7e-9a55-0d9f0d7c9a11`');
    expect(chat).toContain('`countersign exec approve 4b1d6c1e-7d0a-4f7e-9a55-0d9f0d7c9a11 --always`');
    expect(chat).toContain('deny: `countersign exec deny 4b1d6c1e-7d0a-4f7e-9a55-0d9f0d7c9a11`');
    expect(chat).toContain('**Authenticator (TOTP) code required** · approvable from: cli, web');
  });

  it('cuts long tokens visibly and points at the full card', () => {
    const argv = ['/bin/echo', 'y'.repeat(1000), ...Array.from({ length: 50 }, (_, i) => `arg${i}`)];
    const chat = renderExecMarkdown(request({ argv }));
    expect(chat).toContain(`\`"${'y'.repeat(240)}…\` *(+760 chars)*`);
    expect(chat).toContain(
      '- … and 12 more token(s): see `countersign exec show 4b1d6c1e-7d0a-4f7e-9a55-0d9f0d7c9a11`',
    );
  });
});

describe('summary line', () => {
  it('says what the owner sees, on one inert line', () => {
    const line = renderExecSummary(request());
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain('["/usr/bin/git","push","--force\\u001b[2K');
    expect(line).toContain('— risk DESTRUCTIVE, TOTP required — allowlist_miss');
  });
});
