import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exactArgPattern } from '../../src/core/exec/glob.js';
import { totpLock } from '../../src/core/step-up.js';
import { TotpStore } from '../../src/store/totp.js';
import { type Harness, installation, tempDir } from '../support/harness.js';
import { totpCode } from '../support/rfc6238.js';
import { approveDangerous, enrolOwner, midStepClock, proposeDangerous } from '../support/totp.js';

/**
 * The owner's side of exec approvals (SPEC §9, "Resolve checks, in order"; §4 TOTP): every
 * resolve code in the contract's order, TOTP scoped by risk and shared with config approvals,
 * allow-always through the audited change gate, allow-for grants. All over a real socket, with
 * real TOTP codes, against requests agents made through `POST /v1/exec/requests`.
 */

type Request = {
  id: string;
  status: string;
  planHash: string;
  risk: { elevated: boolean; destructive: boolean; inlineEval: boolean; unanalysable: boolean };
  allowedDecisions: string[];
  approval: { totp: boolean; surfaces: string[] };
  resolution: { reason: string; decision: string | null; stepUp: string | null; grantId: string | null } | null;
};

type Setup = {
  h: Harness;
  secret: Buffer;
  code: () => string;
  wrong: () => string;
  execPath: string;
  execDocument: () => Record<string, unknown>;
  setExecDocument: (edit: (document: Record<string, unknown>) => void) => void;
};

/** An installation (SPEC default exec policy: TOTP on, scope destructive), the owner enrolled. */
async function setup(options: { enrol?: boolean } = {}): Promise<Setup> {
  const clock = midStepClock();
  const h = await installation({ clock });
  const secret = randomBytes(20);
  if (options.enrol ?? true) enrolOwner(h, secret);
  const execPath = join(h.dir, 'exec-approvals.json');
  const execDocument = () => JSON.parse(readFileSync(execPath, 'utf8')) as Record<string, unknown>;
  return {
    h,
    secret,
    code: () => totpCode(secret, clock.now()),
    wrong: () => (totpCode(secret, clock.now()) === '000000' ? '111111' : '000000'),
    execPath,
    execDocument,
    // The owner editing the file by hand (recorded as drift): how these tests pick a TOTP scope.
    setExecDocument: (edit) => {
      const document = execDocument();
      edit(document);
      writeFileSync(execPath, `${JSON.stringify(document, null, 2)}\n`);
    },
  };
}

async function ask(h: Harness, body: Record<string, unknown>, token = h.agentToken): Promise<Request> {
  const response = await h.http('POST', '/v1/exec/requests', token, { cwd: '/tmp', sessionKey: 'session-1', ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body.request as Request;
}

const plain = { argv: ['echo', 'hello'] };
const destructive = { argv: ['rm', '-rf', '/tmp/countersign-test-nothing-here'] };
const elevated = { argv: ['echo', 'as root'], elevated: true };

function resolve(h: Harness, token: string, request: Request, body: Record<string, unknown>) {
  return h.http('POST', `/v1/exec/requests/${request.id}/resolve`, token, { planHash: request.planHash, ...body });
}

const codeOf = (response: { status: number; body: { error?: { code: string } } }) => [
  response.status,
  response.body.error?.code,
];

function kinds(h: Harness): string[] {
  return h.auditKinds();
}

async function statusOf(h: Harness, request: Request): Promise<string> {
  const read = await h.http('GET', `/v1/exec/requests/${request.id}`, h.ownerToken);
  return read.body.request.status;
}

describe('resolve checks, in the contract order (SPEC §9)', () => {
  it('forbidden, not_found, not_pending, expired', async () => {
    const { h } = await setup();
    const request = await ask(h, plain);
    // An agent cannot resolve, not even its own request, and learns nothing about ids.
    expect(codeOf(await resolve(h, h.agentToken, request, { decision: 'allow-once' }))).toEqual([403, 'forbidden']);
    expect(
      codeOf(await resolve(h, h.agentToken, { ...request, id: 'no-such-request' }, { decision: 'allow-once' })),
    ).toEqual([403, 'forbidden']);
    expect(
      codeOf(await resolve(h, h.ownerToken, { ...request, id: 'no-such-request' }, { decision: 'allow-once' })),
    ).toEqual([404, 'not_found']);

    const denied = await resolve(h, h.ownerToken, request, { decision: 'deny', reason: 'not now' });
    expect(denied.status).toBe(200);
    expect(codeOf(await resolve(h, h.ownerToken, request, { decision: 'allow-once' }))).toEqual([409, 'not_pending']);

    const late = await ask(h, plain);
    h.clock.advance(121); // past defaults.timeoutSeconds (120)
    expect(codeOf(await resolve(h, h.ownerToken, late, { decision: 'allow-once' }))).toEqual([410, 'expired']);
    // The fallback (askFallback: deny) decided it, not the owner.
    expect(kinds(h)).toContain('exec.fallback');
    expect(kinds(h)).not.toContain('exec.approved');
  });

  it('surface_not_allowed comes before plan_mismatch; plan_mismatch before decision_not_allowed; that before TOTP', async () => {
    const s = await setup();
    const { h } = s;
    s.setExecDocument((document) => {
      document.totp = { enabled: true, scope: 'all', cooldownSeconds: 300 };
    });
    const chatGroup = h.token({ role: 'owner', name: 'owner', surface: 'chat-group' });
    const risky = await ask(h, destructive);
    expect(risky.approval.surfaces).not.toContain('chat-group');
    const otherPlan = `hmac-sha256:${'0'.repeat(64)}`;
    expect(
      codeOf(await resolve(h, chatGroup, risky, { decision: 'allow-once', planHash: otherPlan, totp: s.wrong() })),
    ).toEqual([403, 'surface_not_allowed']);

    const inline = await ask(h, { argv: ['python3', '-c', 'print(1)'] });
    expect(inline.risk.inlineEval).toBe(true);
    expect(inline.allowedDecisions).toEqual(['allow-once', 'deny']);
    expect(codeOf(await resolve(h, h.ownerToken, inline, { decision: 'allow-always', planHash: otherPlan }))).toEqual([
      409,
      'plan_mismatch',
    ]);
    // Scope `all` wants a code for this one; the refused decision is reported first, and no
    // wrong code is counted against the owner.
    expect(codeOf(await resolve(h, h.ownerToken, inline, { decision: 'allow-always', totp: s.wrong() }))).toEqual([
      400,
      'decision_not_allowed',
    ]);
    expect(codeOf(await resolve(h, h.ownerToken, inline, { decision: 'allow-for', durationSeconds: 60 }))).toEqual([
      400,
      'decision_not_allowed',
    ]);
    expect(new TotpStore(h.service.db).failuresSince('owner', new Date(0))).toHaveLength(0);
    expect(codeOf(await resolve(h, h.ownerToken, inline, { decision: 'allow-once' }))).toEqual([403, 'totp_required']);
    expect(await statusOf(h, inline)).toBe('pending');
    expect(await statusOf(h, risky)).toBe('pending');
    expect(kinds(h).filter((kind) => kind.startsWith('exec.') && kind !== 'exec.requested')).toEqual([]);
  });

  it('TOTP codes of §4: not enrolled, required, invalid, replayed, then allowed', async () => {
    const unenrolled = await setup({ enrol: false });
    const request = await ask(unenrolled.h, destructive);
    expect(codeOf(await resolve(unenrolled.h, unenrolled.h.ownerToken, request, { decision: 'allow-once' }))).toEqual([
      403,
      'totp_not_enrolled',
    ]);

    const s = await setup();
    const { h } = s;
    const first = await ask(h, destructive);
    expect(first.approval.totp).toBe(true);
    expect(codeOf(await resolve(h, h.ownerToken, first, { decision: 'allow-once' }))).toEqual([403, 'totp_required']);
    expect(codeOf(await resolve(h, h.ownerToken, first, { decision: 'allow-once', totp: s.wrong() }))).toEqual([
      403,
      'totp_invalid',
    ]);
    const code = s.code();
    const ok = await resolve(h, h.ownerToken, first, { decision: 'allow-once', totp: code });
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('allowed');
    expect(ok.body.request.resolution.stepUp).toBe('totp');

    // The same code through another credential (no cooldown there): replayed.
    const chatDm = h.token({ role: 'owner', name: 'owner', surface: 'chat-dm' });
    const second = await ask(h, destructive);
    expect(codeOf(await resolve(h, chatDm, second, { decision: 'allow-once', totp: code }))).toEqual([
      403,
      'totp_replayed',
    ]);
    expect(await statusOf(h, second)).toBe('pending');
  });

  it('five wrong codes lock the owner for exec and config approvals alike (429 totp_locked)', async () => {
    const s = await setup();
    const { h } = s;
    const request = await ask(h, destructive);
    for (let attempt = 0; attempt < totpLock.failures; attempt++) {
      expect(codeOf(await resolve(h, h.ownerToken, request, { decision: 'allow-once', totp: s.wrong() }))).toEqual([
        403,
        'totp_invalid',
      ]);
    }
    const locked = await resolve(h, h.ownerToken, request, { decision: 'allow-once', totp: s.code() });
    expect(codeOf(locked)).toEqual([429, 'totp_locked']);
    expect(locked.body.error.retryAfter).toBeGreaterThan(0);
    expect(await statusOf(h, request)).toBe('pending');

    // One authenticator per owner: the config side is locked too.
    const card = await proposeDangerous(h);
    const approve = await approveDangerous(h, h.ownerToken, card, s.code());
    expect(codeOf(approve)).toEqual([429, 'totp_locked']);
    // A deny needs no code, so a locked owner can still stop a command.
    expect((await resolve(h, h.ownerToken, request, { decision: 'deny' })).status).toBe(200);
  });
});

describe('TOTP scoped by risk (SPEC §9: elevated ⊂ destructive ⊂ all)', () => {
  const expected = {
    elevated: { plain: false, destructive: false, elevated: true },
    destructive: { plain: false, destructive: true, elevated: true },
    all: { plain: true, destructive: true, elevated: true },
  } as const;

  for (const scope of ['elevated', 'destructive', 'all'] as const) {
    it(`scope ${scope}`, async () => {
      const s = await setup();
      const { h } = s;
      s.setExecDocument((document) => {
        document.totp = { enabled: true, scope, cooldownSeconds: 300 };
      });
      for (const [kind, body] of [
        ['plain', plain],
        ['destructive', destructive],
        ['elevated', elevated],
      ] as const) {
        // A fresh credential each time: no cooldown from the previous kind.
        const token = h.token({ role: 'owner', name: 'owner', surface: 'cli' });
        const request = await ask(h, body);
        const needed = expected[scope][kind];
        expect(request.approval.totp, `${scope}/${kind}`).toBe(needed);
        const withoutCode = await resolve(h, token, request, { decision: 'allow-once' });
        if (!needed) {
          expect(withoutCode.status, `${scope}/${kind}`).toBe(200);
          expect(withoutCode.body.request.resolution.stepUp).toBe('none');
          continue;
        }
        expect(codeOf(withoutCode), `${scope}/${kind}`).toEqual([403, 'totp_required']);
        const withCode = await resolve(h, token, request, { decision: 'allow-once', totp: s.code() });
        expect(withCode.status, `${scope}/${kind}`).toBe(200);
        expect(withCode.body.request.resolution.stepUp).toBe('totp');
        h.clock.advance(30); // the next code is a new step
      }
    });
  }

  it('TOTP disabled: no code for anything, even elevated', async () => {
    const s = await setup();
    s.setExecDocument((document) => {
      document.totp = { enabled: false };
    });
    const request = await ask(s.h, elevated);
    expect(request.approval.totp).toBe(false);
    expect((await resolve(s.h, s.h.ownerToken, request, { decision: 'allow-once' })).status).toBe(200);
  });

  it('a scope widened after the request was made applies to it', async () => {
    const s = await setup();
    const request = await ask(s.h, plain);
    expect(request.approval.totp).toBe(false);
    s.setExecDocument((document) => {
      document.totp = { enabled: true, scope: 'all', cooldownSeconds: 300 };
    });
    expect(codeOf(await resolve(s.h, s.h.ownerToken, request, { decision: 'allow-once' }))).toEqual([
      403,
      'totp_required',
    ]);
  });
});

describe('cooldown: one authenticator, shared by config and exec approvals, per credential', () => {
  it('a code given for a config approval covers a destructive command from the same token, not from another', async () => {
    const s = await setup();
    const { h } = s;
    const chatDm = h.token({ role: 'owner', name: 'owner', surface: 'chat-dm' });
    const card = await proposeDangerous(h);
    expect((await approveDangerous(h, h.ownerToken, card, s.code())).status).toBe(200);

    h.clock.advance(10);
    const request = await ask(h, destructive);
    expect(codeOf(await resolve(h, chatDm, request, { decision: 'allow-once' }))).toEqual([403, 'totp_required']);
    const viaCli = await resolve(h, h.ownerToken, request, { decision: 'allow-once' });
    expect(viaCli.status).toBe(200);
    expect(viaCli.body.request.resolution.stepUp).toBe('cooldown');
    const approved = h.service.audit.list({ limit: 1000 }).find((event) => event.kind === 'exec.approved');
    expect(approved?.stepUp).toBe('cooldown');
  });

  it('a code given for a destructive command covers a dangerous config approval from the same token', async () => {
    const s = await setup();
    const { h } = s;
    const request = await ask(h, destructive);
    expect((await resolve(h, h.ownerToken, request, { decision: 'allow-once', totp: s.code() })).status).toBe(200);
    h.clock.advance(10);
    const card = await proposeDangerous(h);
    const approved = await approveDangerous(h, h.ownerToken, card);
    expect(approved.status).toBe(200);
    expect(approved.body.proposal.resolution.stepUp).toBe('cooldown');
  });

  it('a protected-tier cooldown does not cover a destructive (dangerous) command; it ends after cooldownSeconds', async () => {
    const s = await setup();
    const { h } = s;
    s.setExecDocument((document) => {
      document.totp = { enabled: true, scope: 'all', cooldownSeconds: 60 };
    });
    const first = await ask(h, plain);
    expect((await resolve(h, h.ownerToken, first, { decision: 'allow-once', totp: s.code() })).status).toBe(200);
    const risky = await ask(h, destructive);
    expect(codeOf(await resolve(h, h.ownerToken, risky, { decision: 'allow-once' }))).toEqual([403, 'totp_required']);
    const second = await ask(h, plain);
    expect((await resolve(h, h.ownerToken, second, { decision: 'allow-once' })).body.request.resolution.stepUp).toBe(
      'cooldown',
    );
    h.clock.advance(61); // the exec document's totp.cooldownSeconds
    const third = await ask(h, plain);
    expect(codeOf(await resolve(h, h.ownerToken, third, { decision: 'allow-once' }))).toEqual([403, 'totp_required']);
  });
});

describe('decisions', () => {
  it('allow-once: allowed for grantTtlSeconds, consumed once by the requesting agent', async () => {
    const { h } = await setup();
    const request = await ask(h, plain);
    const allowed = await resolve(h, h.ownerToken, request, { decision: 'allow-once' });
    expect(allowed.status).toBe(200);
    expect(allowed.body.status).toBe('allowed');
    const resolution = allowed.body.request.resolution;
    expect(resolution).toMatchObject({ decision: 'allow-once', reason: 'owner', stepUp: 'none' });
    expect(Date.parse(resolution.grantExpiresAt) - h.clock.now().getTime()).toBe(120_000);
    const consumed = await h.http('POST', `/v1/exec/requests/${request.id}/consume`, h.agentToken, {
      planHash: request.planHash,
      sessionKey: 'session-1',
    });
    expect(consumed.status).toBe(200);
    expect(consumed.body.run).toBe(true);
    const event = h.service.audit.list({ limit: 1000 }).find((entry) => entry.kind === 'exec.approved');
    expect(event?.actor?.name).toBe('owner');
    expect(event?.details).toMatchObject({ decision: 'allow-once', surface: 'cli', requestId: request.id });
    // Nothing was written to the allowlist.
    expect(kinds(h)).not.toContain('exec.allowlist_added');
  });

  it("deny: denied with the owner's reason, audited, and nothing to consume", async () => {
    const { h } = await setup();
    const request = await ask(h, destructive);
    const denied = await resolve(h, h.ownerToken, request, { decision: 'deny', reason: 'not on a Friday' });
    expect(denied.status).toBe(200);
    expect(denied.body.status).toBe('denied');
    expect(denied.body.request.resolution).toMatchObject({ decision: 'deny', reason: 'not on a Friday' });
    const event = h.service.audit.list({ limit: 1000 }).find((entry) => entry.kind === 'exec.denied');
    expect(event?.reason).toBe('not on a Friday');
    expect(event?.actor?.name).toBe('owner');
    const consumed = await h.http('POST', `/v1/exec/requests/${request.id}/consume`, h.agentToken, {
      planHash: request.planHash,
      sessionKey: 'session-1',
    });
    expect(consumed.status).toBeGreaterThanOrEqual(400);
  });

  it('a policy document broken after the request was made: allowing fails closed (422), denying still works', async () => {
    const s = await setup();
    const request = await ask(s.h, plain);
    s.setExecDocument((document) => {
      document.defaults = { security: 'sometimes' };
    });
    for (const decision of ['allow-once', 'allow-always']) {
      expect(codeOf(await resolve(s.h, s.h.ownerToken, request, { decision })), decision).toEqual([
        422,
        'invalid_config',
      ]);
    }
    expect((await resolve(s.h, s.h.ownerToken, request, { decision: 'deny' })).status).toBe(200);
  });

  it('two owners resolving at once: exactly one decides', async () => {
    const { h } = await setup();
    const web = h.token({ role: 'owner', name: 'owner', surface: 'web' });
    const request = await ask(h, plain);
    const answers = await Promise.all([
      resolve(h, h.ownerToken, request, { decision: 'allow-once' }),
      resolve(h, web, request, { decision: 'deny' }),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const decided = kinds(h).filter((kind) => kind === 'exec.approved' || kind === 'exec.denied');
    expect(decided).toHaveLength(1);
  });
});

describe('allow-always: an audited, atomic write of exec-approvals.json', () => {
  it('adds the exact entry, audits change.applied and exec.allowlist_added, and the same command is then allowed', async () => {
    const s = await setup();
    const { h } = s;
    const request = await ask(h, plain);
    const allowed = await resolve(h, h.ownerToken, request, { decision: 'allow-always' });
    expect(allowed.status).toBe(200);
    expect(allowed.body.request.resolution).toMatchObject({ decision: 'allow-always', pattern: '/usr/bin/echo' });

    const agents = s.execDocument().agents as Record<string, { allowlist: Record<string, unknown>[] }>;
    const entry = agents.main?.allowlist.at(-1);
    expect(entry).toMatchObject({
      pattern: '/usr/bin/echo',
      argPattern: exactArgPattern(['hello']),
      source: 'countersign',
    });
    expect(typeof entry?.id).toBe('string');

    const events = h.service.audit.list({ limit: 1000 });
    const applied = events.find((event) => event.kind === 'change.applied' && event.target === 'exec-approvals');
    expect(applied?.paths.some((path) => path.startsWith('agents.main.allowlist'))).toBe(true);
    const added = events.find((event) => event.kind === 'exec.allowlist_added');
    expect(added?.details).toMatchObject({ proposalId: applied?.proposalId, agentKey: 'main' });
    expect(added?.details.entries).toEqual([{ id: entry?.id, pattern: '/usr/bin/echo' }]);
    expect(events.some((event) => event.kind === 'exec.approved')).toBe(true);
    expect((await h.http('GET', '/v1/audit/verify', h.ownerToken)).body.ok).toBe(true);

    // The same command is now allowed by the allowlist, naming the pattern; other arguments are not.
    const again = await h.http('POST', '/v1/exec/requests', h.agentToken, { ...plain, cwd: '/tmp', sessionKey: 's2' });
    expect(again.status).toBe(200);
    expect(again.body.decision).toBe('allow');
    expect(again.body.request.reason).toBe('allowlist');
    expect(again.body.request.segments[0].matched).toBe('/usr/bin/echo');
    await ask(h, { argv: ['echo', 'hello', 'world'] });
    await ask(h, { argv: ['echo', 'hello world'] });
  });

  it('a legacy agents.default document: main gets its own key, default is untouched', async () => {
    const s = await setup();
    s.setExecDocument((document) => {
      document.agents = { default: { allowlist: ['/usr/bin/true'] } };
    });
    const request = await ask(s.h, plain);
    expect((await resolve(s.h, s.h.ownerToken, request, { decision: 'allow-always' })).status).toBe(200);
    const agents = s.execDocument().agents as Record<string, { allowlist: unknown[] }>;
    expect(agents.default?.allowlist).toEqual(['/usr/bin/true']);
    expect(agents.main?.allowlist).toEqual([expect.objectContaining({ pattern: '/usr/bin/echo' })]);
    // The legacy entry still counts for main.
    const legacy = await s.h.http('POST', '/v1/exec/requests', s.h.agentToken, {
      argv: ['true'],
      cwd: '/tmp',
      sessionKey: 's',
    });
    expect(legacy.body.decision).toBe('allow');
  });

  it('refused for inline eval and for unanalysable shell text; nothing is written', async () => {
    const s = await setup();
    const before = readFileSync(s.execPath, 'utf8');
    for (const body of [
      { argv: ['python3', '-c', 'print(1)'] },
      { command: 'echo $(id)' },
      { command: 'ls > /tmp/x' },
    ]) {
      const request = await ask(s.h, body);
      expect(
        codeOf(await resolve(s.h, s.h.ownerToken, request, { decision: 'allow-always' })),
        JSON.stringify(body),
      ).toEqual([400, 'decision_not_allowed']);
      expect(await statusOf(s.h, request)).toBe('pending');
    }
    expect(readFileSync(s.execPath, 'utf8')).toBe(before);
    expect(kinds(s.h)).not.toContain('change.applied');
  });

  it('hostile: an executable under a directory named "**" is not written as a glob that covers other programs', async () => {
    const s = await setup();
    const { h } = s;
    const root = tempDir();
    const script = '#!/bin/sh\necho harmless\n';
    for (const dir of [join(root, '**'), join(root, 'elsewhere', 'deep')]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'tool'), script);
      chmodSync(join(dir, 'tool'), 0o755);
    }
    const request = await ask(h, { argv: [join(root, '**', 'tool')] });
    const before = readFileSync(s.execPath, 'utf8');
    expect(codeOf(await resolve(h, h.ownerToken, request, { decision: 'allow-always' }))).toEqual([
      400,
      'decision_not_allowed',
    ]);
    expect(codeOf(await resolve(h, h.ownerToken, request, { decision: 'allow-for', durationSeconds: 60 }))).toEqual([
      400,
      'decision_not_allowed',
    ]);
    expect(readFileSync(s.execPath, 'utf8')).toBe(before);
    // The program the owner never saw is still asked about.
    await ask(h, { argv: [join(root, 'elsewhere', 'deep', 'tool')] });
    // Allow once is still possible.
    expect((await resolve(h, h.ownerToken, request, { decision: 'allow-once' })).status).toBe(200);
  });

  it('hostile: an agent named "default" or "*" cannot write main\'s or every agent\'s allowlist', async () => {
    const s = await setup();
    const { h } = s;
    const before = readFileSync(s.execPath, 'utf8');
    for (const agentId of ['default', '*']) {
      const token = h.token({ role: 'agent', name: `agent-${agentId}`, agentId });
      const request = await ask(h, plain, token);
      expect(codeOf(await resolve(h, h.ownerToken, request, { decision: 'allow-always' })), agentId).toEqual([
        400,
        'decision_not_allowed',
      ]);
    }
    expect(readFileSync(s.execPath, 'utf8')).toBe(before);
    // main still has to ask.
    await ask(h, plain);
  });

  it('needs the step-up its risk needs, and counts a TOTP failure before writing anything', async () => {
    const s = await setup();
    const { h } = s;
    const before = readFileSync(s.execPath, 'utf8');
    const request = await ask(h, destructive);
    expect(codeOf(await resolve(h, h.ownerToken, request, { decision: 'allow-always' }))).toEqual([
      403,
      'totp_required',
    ]);
    expect(readFileSync(s.execPath, 'utf8')).toBe(before);
    const allowed = await resolve(h, h.ownerToken, request, { decision: 'allow-always', totp: s.code() });
    expect(allowed.status).toBe(200);
    const applied = h.service.audit.list({ limit: 1000 }).find((event) => event.kind === 'change.applied');
    expect(applied?.stepUp).toBe('totp');
    expect(applied?.actor?.name).toBe('owner');
  });
});

describe('allow-for: standing grants that expire, listed and revocable', () => {
  it('durationSeconds is required and at most defaults.maxAllowForSeconds', async () => {
    const { h } = await setup();
    const request = await ask(h, plain);
    expect(codeOf(await resolve(h, h.ownerToken, request, { decision: 'allow-for' }))).toEqual([
      400,
      'invalid_request',
    ]);
    expect(codeOf(await resolve(h, h.ownerToken, request, { decision: 'allow-for', durationSeconds: 3601 }))).toEqual([
      400,
      'invalid_request',
    ]);
    expect(codeOf(await resolve(h, h.ownerToken, request, { decision: 'allow-once', durationSeconds: 60 }))).toEqual([
      400,
      'invalid_request',
    ]);
    expect(await statusOf(h, request)).toBe('pending');
  });

  it('covers the same command until it expires', async () => {
    const { h } = await setup();
    const request = await ask(h, plain);
    const allowed = await resolve(h, h.ownerToken, request, { decision: 'allow-for', durationSeconds: 600 });
    expect(allowed.status).toBe(200);
    const grantId = allowed.body.request.resolution.grantId;
    expect(typeof grantId).toBe('string');

    const listed = await h.http('GET', '/v1/exec/grants', h.ownerToken);
    expect(listed.status).toBe(200);
    expect(listed.body.grants).toEqual([
      expect.objectContaining({
        id: grantId,
        agentId: 'main',
        pattern: '/usr/bin/echo',
        argPattern: exactArgPattern(['hello']),
        requestId: request.id,
      }),
    ]);
    expect((await h.http('GET', '/v1/exec/grants', h.agentToken)).status).toBe(403);

    h.clock.advance(300);
    const covered = await h.http('POST', '/v1/exec/requests', h.agentToken, { ...plain, cwd: '/tmp', sessionKey: 's' });
    expect(covered.status).toBe(200);
    expect(covered.body.request.reason).toBe('allow_for');
    // Other arguments are not covered.
    await ask(h, { argv: ['echo', 'goodbye'] });

    h.clock.advance(301);
    await ask(h, plain);
    expect((await h.http('GET', '/v1/exec/grants', h.ownerToken)).body.grants).toEqual([]);
  });

  it('DELETE revokes it at once (audited); unknown or revoked ids are 404; agents cannot', async () => {
    const { h } = await setup();
    const request = await ask(h, plain);
    const allowed = await resolve(h, h.ownerToken, request, { decision: 'allow-for', durationSeconds: 600 });
    const grantId = allowed.body.request.resolution.grantId as string;

    expect(codeOf(await h.http('DELETE', `/v1/exec/grants/${grantId}`, h.agentToken))).toEqual([403, 'forbidden']);
    const revoked = await h.http('DELETE', `/v1/exec/grants/${grantId}`, h.ownerToken);
    expect(revoked.status).toBe(200);
    expect(revoked.body.grant.revokedAt).not.toBeNull();
    const event = h.service.audit.list({ limit: 1000 }).find((entry) => entry.kind === 'exec.grant_revoked');
    expect(event?.details).toMatchObject({ grantId, agentId: 'main', pattern: '/usr/bin/echo' });
    expect(event?.actor?.name).toBe('owner');

    await ask(h, plain);
    expect(codeOf(await h.http('DELETE', `/v1/exec/grants/${grantId}`, h.ownerToken))).toEqual([404, 'not_found']);
    expect(codeOf(await h.http('DELETE', '/v1/exec/grants/no-such-grant', h.ownerToken))).toEqual([404, 'not_found']);
    expect((await h.http('GET', '/v1/exec/grants', h.ownerToken)).body.grants).toEqual([]);
  });
});
