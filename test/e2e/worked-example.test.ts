import { describe, expect, it } from 'vitest';
import { agentProposesMcp, type Card, cli, cliOk, enrollTotp, http, ownerEnv, running, totpCode } from './cli.js';

type AuditEvent = {
  seq: number;
  kind: string;
  proposalId?: string | null;
  stepUp?: string | null;
  actor?: { role: string; name: string; surface?: string | null } | null;
  prevHash: string;
  hash: string;
};

describe.concurrent('the worked example, end to end (real server, real CLI)', () => {
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
    expect(JSON.stringify(events)).not.toContain(secret);

    const verify = await cli(['audit', 'verify', '--data', installation.dataDir]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('intact');
    expect(verify.stdout).toContain(`${events.length} events`);
  });
});
