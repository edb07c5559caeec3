// The worked example of SPEC §4 and the owner-side decisions, through a real server and the real CLI.
import { describe, expect, it } from 'vitest';
import {
  agentProposesMcp,
  type Card,
  cli,
  cliOk,
  e2eTimeout,
  enrollTotp,
  http,
  ownerEnv,
  running,
  totpCode,
} from './cli.js';

type AuditEvent = {
  seq: number;
  kind: string;
  proposalId?: string | null;
  stepUp?: string | null;
  actor?: { role: string; name: string; surface?: string | null } | null;
  prevHash: string;
  hash: string;
};

describe.concurrent('the worked example, end to end (real server, real CLI)', { timeout: e2eTimeout }, () => {
  it('agent proposes commands.mcp=true; owner reviews and countersigns with TOTP; document and audit agree', async (t) => {
    const { installation, server, document, documentText } = await running(t);
    const secret = document().gateway.auth.token;
    const before = documentText();
    const card = await agentProposesMcp(server, installation.agentToken);
    const phrase = card.approval.confirmPhrase as string;
    const env = ownerEnv(server, installation.ownerToken);

    const pending = await cliOk(['pending'], { env });
    expect(pending.stdout).toContain(card.id);
    expect(pending.stdout).toContain('dangerous');
    expect(pending.stdout).toContain('commands.mcp');

    const shown = await cliOk(['show', card.id], { env });
    expect(shown.stdout).toContain(`Proposal ${card.id}`);
    expect(shown.stdout).toContain('DANGEROUS');
    expect(shown.stdout).toContain('commands.mcp');
    expect(shown.stdout).toContain('mcp-command');
    expect(shown.stdout).toContain(phrase);
    expect(shown.stdout).toContain(card.patchHash);

    // No authenticator enrolled yet: fail closed.
    const notEnrolled = await cli(['approve', card.id, '--confirm', phrase], { env });
    expect(notEnrolled.code).toBe(1);
    expect(notEnrolled.stderr).toContain('totp_not_enrolled');
    expect(documentText()).toBe(before);

    const totpSecret = await enrollTotp(installation.dataDir);

    // A wrong phrase is refused before any code is looked at (so no TOTP step is spent here).
    const wrongPhrase = await cli(['approve', card.id, '--confirm', 'apply nothing'], { env });
    expect(wrongPhrase.code).toBe(1);
    expect(wrongPhrase.stderr).toContain('confirm_required');
    expect(documentText()).toBe(before);

    const approved = await cli(['approve', card.id, '--confirm', phrase, '--totp', totpCode(totpSecret)], { env });
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('Applied.');

    const after = document();
    expect(after.commands.mcp).toBe(true);
    expect(after.gateway.auth.token).toBe(secret); // the real secret, never "[redacted]"
    const final = await http<Card>(server, 'GET', `/v1/proposals/${card.id}`, installation.ownerToken);
    expect(final.body.status).toBe('applied');
    const config = await http<{ hash: string }>(server, 'GET', '/v1/config', installation.agentToken);
    expect(config.body.hash).toBe(card.targetHash);

    // The CLI refuses to approve what is no longer pending.
    const again = await cli(['approve', card.id, '--confirm', phrase], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('applied');

    // A second dangerous change within cooldownSeconds needs the phrase but no new code
    // (the CLI sends none when it has no terminal to ask on).
    const second = await http<{ status: string; proposal: Card }>(
      server,
      'POST',
      '/v1/proposals',
      installation.agentToken,
      {
        baseHash: config.body.hash,
        patch: { mcp: { servers: { docs: { url: 'https://mcp.example.com/mcp' } } } },
        reason: 'the MCP server itself',
      },
    );
    expect(second.status).toBe(202);
    expect(second.body.proposal.tier).toBe('dangerous');
    const cooled = await cli(
      ['approve', second.body.proposal.id, '--confirm', second.body.proposal.approval.confirmPhrase as string],
      { env },
    );
    expect(cooled.stderr).toBe('');
    expect(cooled.code).toBe(0);
    expect((JSON.parse(documentText()) as { mcp: { servers: Record<string, unknown> } }).mcp.servers).toEqual({
      docs: { url: 'https://mcp.example.com/mcp' },
    });

    const audit = await cliOk(['audit', '--data', installation.dataDir]);
    expect(audit.stdout).toContain('change.applied');
    expect(audit.stdout).toContain(card.id);
    expect(audit.stdout).not.toContain(secret);
    // The same log through the server: the apply records who countersigned, from where, and the step-up.
    const { events } = (await http<{ events: AuditEvent[] }>(server, 'GET', '/v1/audit', installation.ownerToken)).body;
    const kinds = events.map((event) => event.kind);
    expect(kinds.indexOf('proposal.created')).toBeGreaterThan(-1);
    expect(kinds.indexOf('proposal.created')).toBeLessThan(kinds.indexOf('change.applied'));
    expect(events.find((event) => event.kind === 'change.applied')).toMatchObject({
      proposalId: card.id,
      stepUp: 'totp',
      actor: { role: 'owner', name: 'owner', surface: 'cli' },
    });
    expect(
      events.find((event) => event.kind === 'change.applied' && event.proposalId === second.body.proposal.id),
    ).toMatchObject({ stepUp: 'cooldown' });
    expect(JSON.stringify(events)).not.toContain(secret);

    const verify = await cli(['audit', 'verify', '--data', installation.dataDir]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('intact');
    expect(verify.stdout).toContain(`${events.length} events`);
  });
});

describe.concurrent('owner decisions and tokens (real server, real CLI)', { timeout: e2eTimeout }, () => {
  it('deny: the proposal is denied with its reason and the document is unchanged', async (t) => {
    const { installation, server, documentText } = await running(t);
    const before = documentText();
    const card = await agentProposesMcp(server, installation.agentToken);
    const env = ownerEnv(server, installation.ownerToken);

    const denied = await cli(['deny', card.id, '--reason', 'not on a Friday'], { env });
    expect(denied.code).toBe(0);
    expect(denied.stdout).toContain(`Denied ${card.id}`);
    expect(documentText()).toBe(before);

    const shown = await http<Card>(server, 'GET', `/v1/proposals/${card.id}`, installation.ownerToken);
    expect(shown.body.status).toBe('denied');
    expect(shown.body.resolution).toMatchObject({ status: 'denied', reason: 'not on a Friday' });
    expect((await http<Card>(server, 'GET', `/v1/proposals/${card.id}`, installation.agentToken)).body.status).toBe(
      'denied',
    );
    expect((await cliOk(['pending', '--status', 'denied'], { env })).stdout).toContain(card.id);
    const stillPending = await http<{ proposals: Card[] }>(
      server,
      'GET',
      '/v1/proposals?status=pending',
      installation.ownerToken,
    );
    expect(stillPending.body.proposals).toEqual([]);

    // A denied proposal cannot be approved afterwards.
    const late = await cli(['approve', card.id, '--confirm', card.approval.confirmPhrase as string], { env });
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('denied');
    expect(documentText()).toBe(before);

    const { events } = (
      await http<{ events: { kind: string; proposalId?: string }[] }>(
        server,
        'GET',
        '/v1/audit',
        installation.ownerToken,
      )
    ).body;
    expect(events.filter((event) => event.proposalId === card.id).map((event) => event.kind)).toEqual([
      'proposal.created',
      'proposal.denied',
    ]);
    expect((await cli(['audit', 'verify', '--data', installation.dataDir])).code).toBe(0);
  });

  it('a chat-group owner token cannot approve a dangerous change; token list shows it; revoke makes it 401', async (t) => {
    const { installation, server, documentText } = await running(t);
    const before = documentText();
    const created = await cli([
      'token',
      'create',
      '--data',
      installation.dataDir,
      '--role',
      'owner',
      '--name',
      'alice',
      '--surface',
      'chat-group',
      '--json',
    ]);
    expect(created.code).toBe(0);
    const alice = (JSON.parse(created.stdout) as { token: string }).token;
    expect(alice).toMatch(/^\S{20,}$/);

    const card = await agentProposesMcp(server, installation.agentToken);
    expect(card.approval.surfaces).not.toContain('chat-group');
    const aliceEnv = ownerEnv(server, alice);
    // Alice can see the queue (a token minted while the server runs works at once)…
    expect((await cliOk(['pending'], { env: aliceEnv })).stdout).toContain(card.id);
    // …but cannot countersign a dangerous change from a chat group.
    const refused = await cli(['approve', card.id, '--confirm', card.approval.confirmPhrase as string], {
      env: aliceEnv,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('surface_not_allowed');
    expect(documentText()).toBe(before);
    expect((await http<Card>(server, 'GET', `/v1/proposals/${card.id}`, installation.ownerToken)).body.status).toBe(
      'pending',
    );

    const listed = await cliOk(['token', 'list', '--data', installation.dataDir]);
    expect(listed.stdout).toMatch(/owner\s+alice\s+surface=chat-group\s+active/);
    expect(listed.stdout).toMatch(/owner\s+owner\s+surface=cli\s+active/);
    expect(listed.stdout).toMatch(/agent\s+main\s+agent=main\s+active/);
    expect(listed.stdout).not.toContain(alice);

    const revoked = await cli(['token', 'revoke', 'alice', '--data', installation.dataDir]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/Revoked \S+ \(owner alice\)/);
    expect((await http(server, 'GET', '/v1/proposals', alice)).status).toBe(401);
    const afterRevoke = await cli(['pending'], { env: aliceEnv });
    expect(afterRevoke.code).toBe(1);
    expect(afterRevoke.stderr).toContain('unauthorized');
    // The other owner is unaffected.
    expect((await http(server, 'GET', '/v1/proposals', installation.ownerToken)).status).toBe(200);
  });
});
