import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/harness.js';
import { cli, cliOk, enrollTotp, http, type Installation, init, ownerEnv, type Server, serve, totpCode } from './cli.js';

type Card = {
  id: string;
  status: string;
  tier: string;
  patchHash: string;
  changes: { path: string; tier: string; ruleId: string | null; before?: unknown; after?: unknown }[];
  approval: { totp: boolean; confirmPhrase: string | null; surfaces: string[] };
  resolution: { status: string; reason?: string | null } | null;
};
type Document = { commands: { mcp: boolean }; gateway: { auth: { token: string } } };

/** A fresh installation with its server running. */
async function running(): Promise<{ installation: Installation; server: Server; document: () => Document }> {
  const installation = await init(join(tempDir(), 'data'));
  const server = await serve(installation.dataDir);
  const document = () => JSON.parse(readFileSync(installation.configPath, 'utf8')) as Document;
  return { installation, server, document };
}

/** What the agent does: read the (redacted) config, then propose turning on commands.mcp. */
async function agentProposesMcp(server: Server, agentToken: string): Promise<Card> {
  const read = await http<{ target: string; hash: string; config: Document }>(server, 'GET', '/v1/config', agentToken);
  expect(read.status).toBe(200);
  expect(read.body.target).toBe('openclaw');
  expect(read.body.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(read.body.config.gateway.auth.token).toBe('[redacted]');
  expect(read.body.config.commands.mcp).toBe(false);

  const proposed = await http<{ status: string; proposal: Card }>(server, 'POST', '/v1/proposals', agentToken, {
    baseHash: read.body.hash,
    patch: { commands: { mcp: true } },
    reason: 'I need to register an MCP server',
  });
  expect(proposed.status).toBe(202);
  expect(proposed.body.status).toBe('pending');
  const card = proposed.body.proposal;
  expect(card.status).toBe('pending');
  expect(card.tier).toBe('dangerous');
  expect(card.changes).toEqual([
    expect.objectContaining({ path: 'commands.mcp', before: false, after: true, tier: 'dangerous', ruleId: 'mcp-command' }),
  ]);
  expect(card.approval.totp).toBe(true);
  expect(card.approval.confirmPhrase).toEqual(expect.any(String));
  return card;
}

describe('the worked example, end to end (real server, real CLI)', () => {
  it('agent proposes commands.mcp=true; owner reviews, countersigns with TOTP; document and audit agree', async () => {
    const { installation, server, document } = await running();
    const secret = document().gateway.auth.token;
    const before = readFileSync(installation.configPath, 'utf8');
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
    expect(readFileSync(installation.configPath, 'utf8')).toBe(before);

    const totpSecret = await enrollTotp(installation.dataDir);

    // A wrong phrase is refused before the code is looked at (so no code is spent here).
    const wrongPhrase = await cli(['approve', card.id, '--confirm', 'apply nothing'], { env });
    expect(wrongPhrase.code).toBe(1);
    expect(wrongPhrase.stderr).toContain('confirm_required');
    expect(readFileSync(installation.configPath, 'utf8')).toBe(before);

    const approved = await cli(['approve', card.id, '--confirm', phrase, '--totp', totpCode(totpSecret)], { env });
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('Applied.');

    const after = document();
    expect(after.commands.mcp).toBe(true);
    expect(after.gateway.auth.token).toBe(secret); // the real secret, never "[redacted]"
    const shownAfter = JSON.parse((await cliOk(['show', card.id, '--json'], { env })).stdout) as Card;
    expect(shownAfter.status).toBe('applied');
    expect((await cliOk(['pending'], { env })).stdout).toContain('No pending proposals.');

    // Replaying the applied proposal is refused.
    expect((await cli(['approve', card.id, '--confirm', phrase], { env })).code).toBe(1);

    const audit = await cliOk(['audit', '--data', installation.dataDir]);
    expect(audit.stdout).toContain('change.applied');
    expect(audit.stdout).toContain(card.id);
    expect(audit.stdout).not.toContain(secret);
    const events = (
      JSON.parse((await cliOk(['audit', '--data', installation.dataDir, '--json'])).stdout) as {
        events: { kind: string; proposalId?: string | null; stepUp?: string | null }[];
      }
    ).events;
    const kinds = events.map((event) => event.kind);
    expect(kinds).toEqual(expect.arrayContaining(['proposal.created', 'proposal.approved', 'change.applied']));
    expect(kinds.indexOf('proposal.created')).toBeLessThan(kinds.indexOf('change.applied'));
    expect(events.find((event) => event.kind === 'proposal.approved')).toMatchObject({
      proposalId: card.id,
      stepUp: 'totp',
    });
    // The owner can read the same log through the server.
    expect((await cliOk(['audit'], { env })).stdout).toContain('change.applied');

    const verify = await cli(['audit', 'verify', '--data', installation.dataDir]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('intact');
  });

  it('deny: the proposal is denied with its reason and the document is unchanged', async () => {
    const { installation, server } = await running();
    const before = readFileSync(installation.configPath, 'utf8');
    const card = await agentProposesMcp(server, installation.agentToken);
    const env = ownerEnv(server, installation.ownerToken);

    const denied = await cli(['deny', card.id, '--reason', 'not on a Friday'], { env });
    expect(denied.code).toBe(0);
    expect(denied.stdout).toContain(`Denied ${card.id}`);

    const shown = JSON.parse((await cliOk(['show', card.id, '--json'], { env })).stdout) as Card;
    expect(shown.status).toBe('denied');
    expect(shown.resolution).toMatchObject({ status: 'denied', reason: 'not on a Friday' });
    expect((await cliOk(['pending', '--status', 'denied'], { env })).stdout).toContain(card.id);
    expect((await cliOk(['pending'], { env })).stdout).toContain('No pending proposals.');
    expect(readFileSync(installation.configPath, 'utf8')).toBe(before);

    // A denied proposal cannot be approved afterwards.
    const late = await cli(['approve', card.id, '--confirm', card.approval.confirmPhrase as string], { env });
    expect(late.code).toBe(1);
    expect(readFileSync(installation.configPath, 'utf8')).toBe(before);

    // The agent sees the outcome too.
    const agentView = await http<Card>(server, 'GET', `/v1/proposals/${card.id}`, installation.agentToken);
    expect(agentView.body.status).toBe('denied');
    expect((await cliOk(['audit', '--data', installation.dataDir])).stdout).toContain('proposal.denied');
    expect((await cli(['audit', 'verify', '--data', installation.dataDir])).code).toBe(0);
  });

  it('a chat-group owner token cannot approve a dangerous change; token list shows it; revoke makes it 401', async () => {
    const { installation, server } = await running();
    const before = readFileSync(installation.configPath, 'utf8');
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
    // …but not countersign a dangerous change from a chat group.
    const refused = await cli(['approve', card.id, '--confirm', card.approval.confirmPhrase as string], {
      env: aliceEnv,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('surface_not_allowed');
    expect(readFileSync(installation.configPath, 'utf8')).toBe(before);
    expect(
      (await http<Card>(server, 'GET', `/v1/proposals/${card.id}`, installation.ownerToken)).body.status,
    ).toBe('pending');

    const listed = await cliOk(['token', 'list', '--data', installation.dataDir]);
    expect(listed.stdout).toMatch(/owner\s+alice\s+surface=chat-group\s+active/);
    expect(listed.stdout).not.toContain(alice);
    const listedJson = JSON.parse((await cliOk(['token', 'list', '--data', installation.dataDir, '--json'])).stdout) as {
      tokens: { name: string; role: string; surface: string | null; revokedAt: string | null }[];
    };
    expect(listedJson.tokens.map((token) => token.name).sort()).toEqual(['alice', 'main', 'owner']);
    expect(listedJson.tokens.find((token) => token.name === 'alice')).toMatchObject({
      role: 'owner',
      surface: 'chat-group',
      revokedAt: null,
    });

    const revoked = await cli(['token', 'revoke', 'alice', '--data', installation.dataDir]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('Revoked');
    expect((await http(server, 'GET', '/v1/proposals', alice)).status).toBe(401);
    const afterRevoke = await cli(['pending'], { env: aliceEnv });
    expect(afterRevoke.code).toBe(1);
    expect(afterRevoke.stderr).toContain('unauthorized');
    expect((await cliOk(['token', 'list', '--data', installation.dataDir])).stdout).toMatch(
      /owner\s+alice\s+surface=chat-group\s+revoked /,
    );
    // Revoking a name with no active token is an error; the other owner is unaffected.
    expect((await cli(['token', 'revoke', 'alice', '--data', installation.dataDir])).code).toBe(1);
    expect((await http(server, 'GET', '/v1/proposals', installation.ownerToken)).status).toBe(200);
    expect((await cli(['audit', 'verify', '--data', installation.dataDir])).code).toBe(0);
  });
});
