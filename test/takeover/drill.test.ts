import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { drillSummary, explainConflict, unrestoredPaths, valueAt } from '../../src/core/drill.js';
import { parsePath } from '../../src/core/path.js';
import { openService } from '../../src/service/context.js';
import { runDrill } from '../../src/service/drill.js';
import { cli, http, init, ownerEnv, serve, tempDir } from '../e2e/cli.js';
import { approveCard, executable, mcpInstallation, proposeServers } from '../mcp/support.js';
import { type Harness, tempDir as harnessTempDir, installation, proposeAndApply } from '../support/harness.js';

/*
 * Rollback drills (SPEC §11, issue 13). The first block runs the real CLI against real SQLite
 * files and a real server; the second drives the service in-process for the cases that need a
 * program to disappear or a policy to change.
 */

type DrillChange = {
  proposalId: string;
  target: string;
  restorable: boolean;
  reason?: string;
  code?: string;
  paths?: string[];
  laterProposalIds?: string[];
  issues?: Array<{ path: string; message: string }>;
  ms: number;
};
type DrillReport = { ok: boolean; changes: DrillChange[]; seq: number };

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/** What must not change: the live document's bytes and every proposals row. */
function fingerprint(dataDir: string, configPath: string): { document: string; proposals: string; targets: string } {
  const db = new Database(join(dataDir, 'countersign.db'), { readonly: true });
  try {
    return {
      document: sha(readFileSync(configPath)),
      proposals: sha(JSON.stringify(db.prepare('SELECT * FROM proposals ORDER BY id').all())),
      targets: sha(JSON.stringify(db.prepare('SELECT * FROM targets ORDER BY name').all())),
    };
  } finally {
    db.close();
  }
}

function auditEvents(dataDir: string): Array<{ seq: number; kind: string; body: Record<string, unknown> }> {
  const db = new Database(join(dataDir, 'countersign.db'), { readonly: true });
  try {
    return (
      db.prepare('SELECT seq, kind, body FROM audit_events ORDER BY seq').all() as Array<{
        seq: number;
        kind: string;
        body: string;
      }>
    ).map((row) => ({ seq: row.seq, kind: row.kind, body: JSON.parse(row.body) as Record<string, unknown> }));
  } finally {
    db.close();
  }
}

type Server = { url: string };

/** Proposes as the agent and, when it needs one, approves as the owner: the change ends applied. */
async function applied(server: Server, agent: string, owner: string, patch: unknown): Promise<string> {
  const config = await http<{ hash: string }>(server, 'GET', '/v1/config', agent);
  const proposed = await http<{ status: string; proposal: { id: string; patchHash: string } }>(
    server,
    'POST',
    '/v1/proposals',
    agent,
    { baseHash: config.body.hash, patch },
  );
  expect([200, 202], JSON.stringify(proposed.body)).toContain(proposed.status);
  const { proposal } = proposed.body;
  if (proposed.body.status !== 'applied') {
    const approved = await http(server, 'POST', `/v1/proposals/${proposal.id}/approve`, owner, {
      patchHash: proposal.patchHash,
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
  }
  return proposal.id;
}

const permissiveSchema = { type: 'object' };
/** A later schema that no longer accepts `thinkingDefault: "low"`, the value before the change. */
const strictSchema = {
  type: 'object',
  properties: {
    agents: {
      type: 'object',
      properties: {
        defaults: { type: 'object', properties: { thinkingDefault: { enum: ['medium', 'high'] } } },
      },
    },
  },
};

describe('countersign drill (real CLI, real SQLite, real files)', () => {
  it('tells a restorable change from one overwritten later and one the schema now rejects; exit 1', async (t) => {
    const dir = tempDir(t);
    const schemaPath = join(dir, 'schema.json');
    writeFileSync(schemaPath, JSON.stringify(permissiveSchema));
    const inst = await init(join(dir, 'data'), ['--schema', schemaPath]);
    const server = await serve(t, inst.dataDir);
    const overwritten = await applied(server, inst.agentToken, inst.ownerToken, { gateway: { port: 18790 } });
    const schemaRejected = await applied(server, inst.agentToken, inst.ownerToken, {
      agents: { defaults: { thinkingDefault: 'high' } },
    });
    const overwriter = await applied(server, inst.agentToken, inst.ownerToken, { gateway: { port: 18791 } });
    const restorable = await applied(server, inst.agentToken, inst.ownerToken, {
      gateway: { reload: { mode: 'off' } },
    });
    await server.stop();
    // The schema moved on: "low", the value before the change, is no longer accepted.
    writeFileSync(schemaPath, JSON.stringify(strictSchema));

    const before = fingerprint(inst.dataDir, inst.configPath);
    const result = await cli(['drill', '--data', inst.dataDir, '--json']);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as DrillReport;
    expect(report.ok).toBe(false);
    // Newest first, one verdict per applied change, each timed.
    expect(report.changes.map((change) => [change.proposalId, change.restorable, change.code ?? null])).toEqual([
      [restorable, true, null],
      [overwriter, true, null],
      [schemaRejected, false, 'invalid_config'],
      [overwritten, false, 'later_change'],
    ]);
    for (const change of report.changes) expect(change.ms).toBeGreaterThanOrEqual(0);
    const [, , rejected, later] = report.changes as [DrillChange, DrillChange, DrillChange, DrillChange];
    expect(rejected.reason).toMatch(/schema/i);
    expect(rejected.issues?.[0]?.path).toBe('/agents/defaults/thinkingDefault');
    expect(later.paths).toEqual(['gateway.port']);
    expect(later.laterProposalIds).toEqual([overwriter]);
    expect(later.reason).toContain(overwriter);

    // Nothing live moved: the document, every proposal row and the remembered document.
    expect(fingerprint(inst.dataDir, inst.configPath)).toEqual(before);
    // The drill is audited with what `lastDrill` reads.
    const drills = auditEvents(inst.dataDir).filter((event) => event.kind === 'drill.ran');
    expect(drills).toHaveLength(1);
    expect(drills[0]?.seq).toBe(report.seq);
    expect(drills[0]?.body.details).toMatchObject({ ok: false, changes: 4, restorable: 2, last: 10 });

    // The text form says the same, and the exit code is the same.
    const text = await cli(['drill', '--data', inst.dataDir]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('2 of 4 changes are NOT restorable');
    expect(text.stdout).toContain('[invalid_config]');
    expect(text.stdout).toContain('[later_change]');

    // Through a server (restarted with the new schema) with an owner token: --last 2 covers only restorable ones.
    const again = await serve(t, inst.dataDir);
    const viaServer = await cli(['drill', '--last', '2', '--json'], { env: ownerEnv(again, inst.ownerToken) });
    expect(viaServer.code, viaServer.stdout + viaServer.stderr).toBe(0);
    expect(JSON.parse(viaServer.stdout)).toMatchObject({
      ok: true,
      changes: [{ proposalId: restorable }, { proposalId: overwriter }],
    });
    expect(fingerprint(inst.dataDir, inst.configPath)).toEqual(before);
  });

  it('a clean history, and an empty one, exit 0', async (t) => {
    const dir = tempDir(t);
    const inst = await init(join(dir, 'data'));
    const empty = await cli(['drill', '--data', inst.dataDir, '--json']);
    expect(empty.code).toBe(0);
    expect(JSON.parse(empty.stdout)).toMatchObject({ ok: true, changes: [] });

    const server = await serve(t, inst.dataDir);
    await applied(server, inst.agentToken, inst.ownerToken, { agents: { defaults: { thinkingDefault: 'high' } } });
    await applied(server, inst.agentToken, inst.ownerToken, { gateway: { port: 18800 } });
    await applied(server, inst.agentToken, inst.ownerToken, { gateway: { reload: { mode: 'off' } } });
    const before = fingerprint(inst.dataDir, inst.configPath);
    const result = await cli(['drill', '--json'], { env: ownerEnv(server, inst.ownerToken) });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as DrillReport;
    expect(report.ok).toBe(true);
    expect(report.changes).toHaveLength(3);
    expect(report.changes.every((change) => change.restorable && change.reason === undefined)).toBe(true);
    expect(fingerprint(inst.dataDir, inst.configPath)).toEqual(before);
    const text = await cli(['drill'], { env: ownerEnv(server, inst.ownerToken) });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Every change is restorable (3 drilled');
  });

  it('--json failures are { error: { code, message } } on stdout with a non-zero exit', async (t) => {
    const dir = tempDir(t);
    const missing = await cli(['drill', '--data', join(dir, 'nowhere'), '--json']);
    expect(missing.code).not.toBe(0);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ code: 'not_initialised' });

    const inst = await init(join(dir, 'data'));
    const badLast = await cli(['drill', '--data', inst.dataDir, '--last', '0', '--json']);
    expect(badLast.code).not.toBe(0);
    expect(JSON.parse(badLast.stdout).error).toMatchObject({ code: 'invalid_usage' });

    const server = await serve(t, inst.dataDir);
    const asAgent = await cli(['drill', '--json'], { env: ownerEnv(server, inst.agentToken) });
    expect(asAgent.code).not.toBe(0);
    expect(JSON.parse(asAgent.stdout).error).toMatchObject({ code: 'forbidden' });
    const unknownTarget = await cli(['drill', '--target', 'nope', '--json'], {
      env: ownerEnv(server, inst.ownerToken),
    });
    expect(JSON.parse(unknownTarget.stdout).error).toMatchObject({ code: 'not_found' });
    // No drill was recorded for any of the refusals.
    expect(auditEvents(inst.dataDir).some((event) => event.kind === 'drill.ran')).toBe(false);
  });
});

async function drill(h: Harness, body: unknown = {}, token: string | null = h.ownerToken) {
  return h.request('POST', '/v1/drill', token, body);
}

describe('POST /v1/drill', () => {
  it('is for owners only, and bad bodies are refused before anything is recorded', async () => {
    const h = await installation();
    await proposeAndApply(h, { gateway: { port: 18790 } });
    expect((await drill(h, {}, h.agentToken)).json().error.code).toBe('forbidden');
    expect((await drill(h, {}, null)).statusCode).toBe(401);
    for (const body of [{ last: 0 }, { last: 501 }, { last: 'all' }, { last: 1, extra: true }, { target: '' }]) {
      const response = await drill(h, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect(h.auditKinds()).not.toContain('drill.ran');
    const ok = await drill(h);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, changes: [{ restorable: true }] });
    expect(h.auditKinds().at(-1)).toBe('drill.ran');
  });

  it('a change an outside edit overwrote is not restorable, and the drill itself records no drift', async () => {
    const h = await installation();
    const id = await proposeAndApply(h, { gateway: { port: 18790 } });
    const edited = { ...h.document(), gateway: { ...(h.document().gateway as object), port: 1 } };
    writeFileSync(h.configPath, `${JSON.stringify(edited, null, 2)}\n`);
    const kinds = h.auditKinds();
    const response = await drill(h);
    const [change] = response.json().changes;
    expect(change).toMatchObject({ proposalId: id, restorable: false, code: 'later_change', paths: ['gateway.port'] });
    // Nothing names the edit yet (the service has not read the file since): the reason still says why.
    expect(change.reason).toContain('gateway.port');
    expect(h.auditKinds()).toEqual([...kinds, 'drill.ran']);
    // Once the edit is on record, the reason names the audit event.
    await h.request('GET', '/v1/config', h.ownerToken);
    const driftSeq = h.service.audit.list({ limit: 1000 }).find((event) => event.kind === 'config.drift')?.seq;
    expect((await drill(h)).json().changes[0].reason).toContain(`outside edit (audit event ${driftSeq})`);
  });

  it('a change whose rollback the current policy blocks is not restorable', async () => {
    const h = await installation({ policyEdit: () => {} });
    const id = await proposeAndApply(h, { gateway: { port: 18790 } });
    // The owner tightened the policy afterwards: gateway.port may no longer change at all.
    const policyPath = join(dirname(h.dir), 'policy.json');
    const policy = JSON.parse(readFileSync(policyPath, 'utf8'));
    policy.rules.push({ id: 'port-frozen', match: ['gateway.port'], tier: 'blocked' });
    writeFileSync(policyPath, JSON.stringify(policy));
    const reopened = openService(h.dir);
    try {
      const report = runDrill(reopened, null, { last: 10 });
      expect(report.changes).toEqual([
        expect.objectContaining({ proposalId: id, restorable: false, code: 'blocked', paths: ['gateway.port'] }),
      ]);
    } finally {
      reopened.close();
    }
  });

  it('a rollback that would re-register an MCP server whose pinned executable is gone is not restorable', async () => {
    const h = await mcpInstallation();
    const dir = harnessTempDir();
    const program = executable(join(dir, 'acme-mcp'));
    const added = await proposeServers(h, { acme: { command: program } });
    expect((await approveCard(h, added)).statusCode).toBe(200);
    const removed = await proposeServers(h, { acme: null });
    expect((await approveCard(h, removed)).statusCode).toBe(200);

    const whilePresent = (await drill(h, { last: 1 })).json();
    expect(whilePresent.changes).toEqual([expect.objectContaining({ proposalId: removed.id, restorable: true })]);

    rmSync(program);
    const gone = (await drill(h, { last: 1 })).json();
    expect(gone.ok).toBe(false);
    expect(gone.changes[0]).toMatchObject({ proposalId: removed.id, restorable: false, code: 'executable_changed' });
    expect(gone.changes[0].reason).toContain('acme');

    // Swapped for another program at the same path: not the one the owner approved either.
    executable(program, 'echo swapped');
    const swapped = (await drill(h, { last: 1 })).json();
    expect(swapped.changes[0]).toMatchObject({ restorable: false, code: 'executable_changed' });
    expect(swapped.changes[0].reason).toMatch(/sha256/);
  });

  it('secrets never reach the report or the audit event', async () => {
    const h = await installation();
    await proposeAndApply(h, { channels: { telegram: { botToken: '999:ROTATED_SECRET_123' } } });
    const response = await drill(h);
    expect(response.json().changes[0].restorable).toBe(true);
    expect(response.body).not.toContain('ROTATED_SECRET');
    expect(response.body).not.toContain('AAFakeTelegramToken');
    const event = h.service.audit.list({ limit: 1000 }).at(-1);
    expect(JSON.stringify(event)).not.toContain('ROTATED_SECRET');
    expect(JSON.stringify(event)).not.toContain('AAFakeTelegramToken');
  });
});

describe('drill rules (src/core/drill.ts)', () => {
  const before = { a: { b: 1 }, list: [{ id: 'x', v: 1 }], gone: true };
  const after = {
    a: { b: 2 },
    list: [
      { id: 'x', v: 2 },
      { id: 'y', v: 3 },
    ],
  };

  it('reads values by semantic path, id-keyed elements by id', () => {
    expect(valueAt(after, parsePath('list[id=y].v'))).toBe(3);
    expect(valueAt(after, parsePath('list[id=z].v'))).toBeUndefined();
    expect(valueAt(before, parsePath('gone'))).toBe(true);
    expect(valueAt(after, parsePath('gone'))).toBeUndefined();
    // Inherited properties are not values of the document.
    expect(valueAt({}, parsePath('toString'))).toBeUndefined();
  });

  it('a result is restored only when every touched path holds its old value again (absent included)', () => {
    expect(unrestoredPaths(before, after, structuredClone(before))).toEqual([]);
    // Untouched paths may differ: later, unrelated changes are kept by a rollback.
    expect(unrestoredPaths(before, after, { ...structuredClone(before), other: 1 })).toEqual([]);
    expect(
      unrestoredPaths(before, after, {
        a: { b: 1 },
        list: [
          { id: 'x', v: 1 },
          { id: 'y', v: 3 },
        ],
        gone: true,
      }),
    ).toEqual(['list[id=y].id', 'list[id=y].v']);
    expect(unrestoredPaths(before, after, { a: { b: 1 }, list: [{ id: 'x', v: 1 }] })).toEqual(['gone']);
  });

  it('names the later proposals and outside edits that touched a conflicting path, and no others', () => {
    const explained = explainConflict(
      ['gateway.port'],
      [
        { seq: 7, proposalId: 'p-unrelated', paths: ['agents.defaults.model'] },
        { seq: 8, proposalId: 'p-later', paths: ['gateway.port'] },
        { seq: 9, proposalId: null, paths: ['gateway'] },
        { seq: 10, proposalId: 'p-later', paths: ['gateway.port'] },
      ],
    );
    expect(explained.proposalIds).toEqual(['p-later']);
    expect(explained.driftSeqs).toEqual([9]);
    expect(explained.reason).toContain('proposal p-later');
    expect(explained.reason).toContain('an outside edit (audit event 9)');
    expect(explained.reason).not.toContain('p-unrelated');
  });

  it('summarises a drill as lastDrill reads it', () => {
    expect(drillSummary([])).toEqual({ ok: true, changes: 0, restorable: 0 });
    const change = { proposalId: 'p', target: 't', ms: 1 };
    expect(
      drillSummary([
        { ...change, restorable: true },
        { ...change, restorable: false },
      ]),
    ).toEqual({
      ok: false,
      changes: 2,
      restorable: 1,
    });
  });
});
