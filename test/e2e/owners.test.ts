import { describe, expect, it } from 'vitest';
import { agentProposesMcp, type Card, cli, cliOk, http, ownerEnv, running } from './cli.js';

describe.concurrent('owner decisions and tokens (real server, real CLI)', () => {
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
