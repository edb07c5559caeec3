/**
 * Issue 10 items 4 and 8 over real HTTP: a hostile agent's reason, session key, keys, values and
 * MCP server names reach the terminal card, the chat card, the event stream and webhook bodies
 * only as inert text, and a small change to a long list still shows.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Card } from '../../src/core/card.js';
import { renderMarkdown, renderText } from '../../src/core/render.js';
import { buildApp } from '../../src/http/app.js';
import { openService } from '../../src/service/context.js';
import { cardFixture } from '../support/cards.js';
import { readSse, until, webhookReceiver, writeWebhooks } from '../support/events.js';
import { fixture, installation } from '../support/harness.js';
import { expectNoLiveMarkdown } from '../support/markdown.js';

/**
 * What must never reach a person raw: controls, bidi, zero-width and other invisible characters.
 * (The cards' own "⚠️" carries a variation selector: it is removed before checking.)
 */
const rawAgent = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u00a0\u2000-\u200a\u202f\u205f\u3000]/u;
function expectInert(text: string): void {
  for (const line of text.replaceAll('⚠️', '⚠').split('\n')) expect(line).not.toMatch(rawAgent);
}
const rawExceptLines = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

const spoof = '\u001b[3A\r\u001b[2KTier:      PROTECTED\u001b[8m';
const hostileReason = `Routine tidy-up${spoof}\n# Approved by security\n[details](https://evil.example) @everyone \`\`\` <@1234> \u202eevil\u202c`;
const hostileSession = `chat-42\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007\u200b`;
const hostileKey = 'ops\u202e\u2066team\u200b`';

function hostileProposal() {
  return {
    patch: {
      commands: { mcp: true },
      channels: { telegram: { groups: { [hostileKey]: { requireMention: false } } } },
    },
    reason: hostileReason,
    sessionKey: hostileSession,
  };
}

describe('cards show a hostile agent’s text inert', () => {
  it('terminal and chat cards: no control, bidi or invisible character, the tier unspoofed', async () => {
    const h = await installation();
    const proposed = await h.http('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      ...hostileProposal(),
    });
    expect(proposed.status).toBe(202);
    const id = proposed.body.proposal.id as string;
    // The hostile group name is a key new to the document: the card's new-keys list carries it too.
    expect(proposed.body.proposal.newKeys).toEqual([{ path: expect.stringContaining('ops\u202e') }]);

    const text = await h.http('GET', `/v1/proposals/${id}/card?format=text`, h.ownerToken);
    expect(text.status).toBe(200);
    expectInert(text.text);
    expect(text.text).toContain('Tier:      DANGEROUS');
    expect(text.text).toContain('\\x1b[3A\\r\\x1b[2KTier:      PROTECTED\\x1b[8m');
    expect(text.text).toContain('session chat-42\\x1b]8;;https://evil.example\\x07click');
    expect(text.text).toContain('ops\\u202e\\u2066team\\u200b`');
    expect(text.text).toMatch(/New keys .*\n {2}channels\.telegram\.groups\.\S*ops\\u202e\\u2066team\\u200b`/);
    // The reason's second line is a continuation of the reason, not a line of the card.
    expect(text.text).toMatch(/\n {9}\| # Approved by security\n/);
    expect(text.text).not.toMatch(/^Tier:\s+PROTECTED/m);

    const chat = await h.http('GET', `/v1/proposals/${id}/card?format=markdown`, h.ownerToken);
    expect(chat.status).toBe(200);
    expectInert(chat.text);
    // No link, no heading, no HTML from the agent; the reason stays one quote.
    const { tokens, spans } = expectNoLiveMarkdown(chat.text);
    expect(tokens.filter((token) => token.type === 'blockquote_open')).toHaveLength(1);
    const quoted = tokens.slice(
      tokens.findIndex((token) => token.type === 'blockquote_open'),
      tokens.findIndex((token) => token.type === 'blockquote_close'),
    );
    expect(quoted.map((token) => token.content).join('')).toContain('# Approved by security');
    // The key with a backtick is one code span holding exactly its inert form.
    expect(
      spans.some((span) =>
        /^channels\.telegram\.groups\.(.)ops\\u202e\\u2066team\\u200b`\1\.requireMention$/.test(span),
      ),
    ).toBe(true);
    expect(chat.text).toContain('**🔴 dangerous**');
  });

  it('the event stream and webhook bodies carry the same JSON, with no raw invisible character', async () => {
    const h = await installation();
    const receiver = await webhookReceiver();
    writeWebhooks(h.dir, [{ url: receiver.url, secret: 'whsec_0123456789abcdef' }]);
    const service = openService(h.dir, { now: h.clock.now });
    const app = await buildApp(service, { logRequests: false, rateLimit: false });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    onTestFinished(async () => {
      await app.close();
      service.close();
    });

    const stream = await readSse(base, h.ownerToken);
    const proposed = await fetch(`${base}/v1/proposals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.agentToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ baseHash: h.currentHash(), ...hostileProposal() }),
    });
    expect(proposed.status).toBe(202);

    const created = await until('proposal.created', () => stream.events.find((e) => e.event === 'proposal.created'));
    const data = /^data: (.*)$/m.exec(created.raw)?.[1] as string;
    expect(data).not.toMatch(rawExceptLines);
    expect(JSON.parse(data).reason).toBe(hostileReason);
    expect(JSON.parse(data).requestedBy.sessionKey).toBe(hostileSession);

    await app.webhooks?.idle();
    expect(receiver.received.length).toBeGreaterThan(0);
    for (const { body } of receiver.received) {
      expect(body).not.toMatch(rawExceptLines);
      expect(JSON.parse(body).data.reason).toBe(hostileReason);
    }
  });

  it('a tenth entry appended to a long allowFrom shows as added on the chat card', async () => {
    const allowFrom = Array.from({ length: 9 }, (_, i) => `tg:${String(i + 1).repeat(10)}`);
    const document = fixture('openclaw.json') as { channels: { telegram: Record<string, unknown> } };
    document.channels.telegram.allowFrom = allowFrom;
    const h = await installation({ document });
    const proposed = await h.http('POST', '/v1/proposals', h.agentToken, {
      baseHash: h.currentHash(),
      patch: { channels: { telegram: { allowFrom: [...allowFrom, 'tg:6666666666'] } } },
    });
    expect(proposed.status).toBe(202);
    const id = proposed.body.proposal.id as string;
    const chat = await h.http('GET', `/v1/proposals/${id}/card?format=markdown`, h.ownerToken);
    expect(chat.text).toContain('list of 9 → 10 items; added `"tg:6666666666"`');
    const text = await h.http('GET', `/v1/proposals/${id}/card?format=text`, h.ownerToken);
    expect(text.text).toContain('+ item: "tg:6666666666"');
  });
});

describe('provenance and MCP review facts on the cards', () => {
  const card = (): Card =>
    cardFixture({
      tier: 'dangerous',
      changes: [
        {
          path: 'diagnostics.otel.headers.Authorization',
          op: 'add',
          after: '[redacted]',
          tier: 'dangerous',
          ruleId: 'secret-copy',
          explain: 'A secret copied to a new place.',
          restart: false,
          from: 'gateway.auth.token',
        },
      ],
      review: {
        mcp: [
          {
            server: 'evil\u202e',
            action: 'add',
            transport: 'stdio',
            command: 'node',
            args: ['-e', '\u001b[2K'],
            cwd: null,
            url: null,
            env: [
              { name: 'NODE_OPTIONS', reference: false, value: '--require /tmp/evil.js\u200b' },
              { name: 'TOKEN', reference: true, reads: 'GATEWAY_TOKEN' },
              { name: 'API_KEY', reference: false, value: '[redacted]' },
            ] as Card['review']['mcp'][number]['env'],
            headers: [],
            resolvedPath: '/usr/bin/node',
            absolute: false,
            exists: true,
            executable: true,
            sha256: 'ab',
            script: null,
            provenance: null,
            warnings: [],
          },
        ],
      },
      approval: { totp: true, confirmPhrase: 'apply 01234567', surfaces: ['cli'] },
    });

  it('says where a copied value came from, prominently', () => {
    expect(renderText(card())).toContain('SOURCE: same value as gateway.auth.token');
    expect(renderMarkdown(card())).toContain('⚠️ **same value as** `gateway.auth.token`');
  });

  it('shows an override’s value and the variable a reference reads, inert; "[redacted]" stays', () => {
    const text = renderText(card());
    expect(text).toContain('env:      NODE_OPTIONS = "--require /tmp/evil.js\\u200b"');
    expect(text).toContain(`env:      TOKEN (reads \${GATEWAY_TOKEN})`);
    expect(text).toContain('env:      API_KEY = "[redacted]"');
    expect(text).toContain('ADD evil\\u202e');
    expect(text).toContain('"-e" "\\u001b[2K"');
    const markdown = renderMarkdown(card());
    expect(markdown).toContain('`NODE_OPTIONS` \\= `"--require /tmp/evil.js\\u200b"`');
    expect(markdown).toContain(`\`TOKEN\` reads \`\${GATEWAY_TOKEN}\``);
    expectInert(`${text}${markdown}`);
  });
});
