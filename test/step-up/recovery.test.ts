import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatRecoveryCode,
  normalizeRecoveryCode,
  recoveryCodeBytes,
  recoveryCodeHash,
  recoveryCodePattern,
} from '../../src/core/recovery-codes.js';
import { TotpCodeSchema } from '../../src/core/requests.js';
import { totpLock } from '../../src/core/step-up.js';
import { DATABASE_FILE } from '../../src/service/context.js';
import { enrollTotp, regenerateRecoveryCodes } from '../../src/service/step-up.js';
import { openDatabase } from '../../src/store/database.js';
import { TotpStore } from '../../src/store/totp.js';
import { agentProposesMcp, cliOk, e2eTimeout, http, running } from '../e2e/cli.js';
import { onTerminal } from '../e2e/pty.js';
import { type Harness, installation } from '../support/harness.js';
import { base32, totpCode } from '../support/rfc6238.js';
import { midStepClock } from '../support/totp.js';

/**
 * TOTP recovery codes (SPEC §6): printed once at enrolment, stored hashed, each accepted once in
 * place of an authenticator code for config approvals and exec resolutions alike, counted toward
 * the lock like a wrong code when wrong, audited as `recovery` and never shown again. Everything
 * over a real socket (`h.http`) with real TOTP codes; enrolment through the built CLI.
 */

const codeShape = /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;

type Card = { id: string; patchHash: string; approval: { confirmPhrase: string } };

async function owned(): Promise<{ h: Harness; secret: Buffer; codes: string[] }> {
  const h = await installation({ clock: midStepClock() });
  const secret = randomBytes(20);
  const { recoveryCodes } = enrollTotp(h.service, 'owner', base32(secret));
  return { h, secret, codes: recoveryCodes };
}

let patchCounter = 0;
/** A dangerous change (TOTP required), a different one each time so proposals never collide. */
async function proposeDangerous(h: Harness): Promise<Card> {
  patchCounter++;
  // Any change to the exec safe-bin list is dangerous (rule exec-allowlists).
  const patch = { tools: { exec: { safeBins: [`tool-${patchCounter}`] } } };
  const response = await h.http('POST', '/v1/proposals', h.agentToken, { baseHash: h.currentHash(), patch });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  expect(response.body.proposal.approval.totp).toBe(true);
  return response.body.proposal as Card;
}

function approve(h: Harness, card: Card, totp?: string, token = h.ownerToken) {
  return h.http('POST', `/v1/proposals/${card.id}/approve`, token, {
    patchHash: card.patchHash,
    confirm: card.approval.confirmPhrase,
    ...(totp === undefined ? {} : { totp }),
  });
}

const codeOf = (response: { status: number; body: { error?: { code: string } } }) => [
  response.status,
  response.body.error?.code,
];

function auditText(h: Harness): string {
  return JSON.stringify(h.service.audit.list({ limit: 10_000 }));
}

function recoveryEvents(h: Harness) {
  return h.service.audit.list({ limit: 10_000 }).filter((event) => event.kind === 'totp.recovery_used');
}

/** Every byte SQLite holds for the installation: the database file and its write-ahead log. */
function databaseBytes(h: Harness): string {
  const file = join(h.dir, DATABASE_FILE);
  return [file, `${file}-wal`]
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path).toString('latin1'))
    .join('');
}

/** A well-formed recovery code that is not one of `codes`. */
function wrongCode(codes: readonly string[]): string {
  for (;;) {
    const code = formatRecoveryCode(randomBytes(recoveryCodeBytes));
    if (!codes.includes(code)) return code;
  }
}

describe('the code form (pure)', () => {
  it('codes are 12 Crockford symbols in three groups; typed variants normalise to the same code', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: recoveryCodeBytes, maxLength: recoveryCodeBytes }), (bytes) => {
        const code = formatRecoveryCode(bytes);
        expect(code).toMatch(codeShape);
        expect(recoveryCodePattern.test(code)).toBe(true);
        expect(TotpCodeSchema.safeParse(code).success).toBe(true);
        const canonical = normalizeRecoveryCode(code);
        expect(canonical).toBe(code.replaceAll('-', ''));
        // Typed from paper: lower case, no hyphens, O for 0 and l/I for 1.
        const typed = code.toLowerCase().replaceAll('-', '').replaceAll('0', 'o').replaceAll('1', 'l');
        expect(TotpCodeSchema.safeParse(typed).success).toBe(true);
        expect(normalizeRecoveryCode(typed)).toBe(canonical);
        expect(normalizeRecoveryCode(code.replaceAll('1', 'I'))).toBe(canonical);
      }),
    );
  });

  it('authenticator digits stay valid; other shapes are refused before any check', () => {
    for (const ok of ['123456', '1234567', '12345678', 'ABCD-EFGH-JKMN', 'abcdefghjkmn', '1234-5678-9012']) {
      expect(TotpCodeSchema.safeParse(ok).success, ok).toBe(true);
    }
    for (const bad of [
      '12345',
      '123456789',
      'ABCD-EFGH-JKMU',
      'ABCD-EFGH-JKM',
      'ABCD EFGH JKMN',
      'ABCD--EFGHJKMN',
      '',
    ]) {
      expect(TotpCodeSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('60 bits each: ten fresh codes are all different', () => {
    const codes = Array.from({ length: 1000 }, () => formatRecoveryCode(randomBytes(recoveryCodeBytes)));
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('enrolment prints 10 codes once and stores only hashes (built CLI)', () => {
  it('totp enroll --json has recoveryCodes; the database never holds a code; totp recovery counts and regenerates', async () => {
    const h = await installation({ clock: midStepClock() });
    const { stdout } = await cliOk(['totp', 'enroll', '--data', h.dir, '--owner', 'owner', '--json']);
    const enrolled = JSON.parse(stdout) as { secret: string; uri: string; recoveryCodes: string[] };
    expect(enrolled.uri).toMatch(/^otpauth:\/\/totp\//);
    expect(enrolled.recoveryCodes).toHaveLength(10);
    for (const code of enrolled.recoveryCodes) expect(code).toMatch(codeShape);
    expect(new Set(enrolled.recoveryCodes).size).toBe(10);

    const stored = h.service.db.prepare('SELECT * FROM totp_recovery_codes').all() as Record<string, unknown>[];
    expect(stored).toHaveLength(10);
    const bytes = databaseBytes(h);
    for (const code of enrolled.recoveryCodes) {
      expect(bytes).not.toContain(code);
      expect(bytes).not.toContain(code.replaceAll('-', ''));
      expect(JSON.stringify(stored)).not.toContain(code.replaceAll('-', ''));
    }
    expect(auditText(h)).not.toContain(enrolled.recoveryCodes[0]?.replaceAll('-', '') as string);

    const counted = await cliOk(['totp', 'recovery', '--data', h.dir, '--owner', 'owner', '--json']);
    expect(JSON.parse(counted.stdout)).toEqual({ owner: 'owner', remaining: 10 });

    // One code approves; the count drops; the audit says how many remain.
    const card = await proposeDangerous(h);
    const used = await approve(h, card, enrolled.recoveryCodes[3]);
    expect(used.status, JSON.stringify(used.body)).toBe(200);
    const after = await cliOk(['totp', 'recovery', '--data', h.dir, '--owner', 'owner']);
    expect(after.stdout).toContain('9 unused recovery codes');

    // --regenerate: a new set; every old code stops working, and it is audited.
    const regenerated = await cliOk([
      'totp',
      'recovery',
      '--data',
      h.dir,
      '--owner',
      'owner',
      '--regenerate',
      '--json',
    ]);
    const fresh = (JSON.parse(regenerated.stdout) as { recoveryCodes: string[] }).recoveryCodes;
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((code) => enrolled.recoveryCodes.includes(code))).toEqual([]);
    expect(h.auditKinds()).toContain('totp.recovery_regenerated');
    const second = await proposeDangerous(h);
    expect(codeOf(await approve(h, second, enrolled.recoveryCodes[0]))).toEqual([403, 'totp_invalid']);
    const withFresh = await approve(h, second, fresh[0]);
    expect(withFresh.status).toBe(200);
    expect(withFresh.body.proposal.resolution.stepUp).toBe('recovery');
  });

  it('the text form shows the codes under the QR code; an owner without TOTP has no codes to count', async () => {
    const h = await installation();
    const { stdout } = await cliOk(['totp', 'enroll', '--data', h.dir, '--owner', 'owner']);
    const shown = stdout.match(/^ {2}[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/gm) ?? [];
    expect(shown).toHaveLength(10);
    expect(stdout).toMatch(/Recovery codes \(shown once/);
    const stored = h.service.db.prepare('SELECT code_hash FROM totp_recovery_codes').pluck().all() as string[];
    expect(stored).toHaveLength(10);
    for (const hash of stored) expect(hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });
});

describe('a recovery code in place of a TOTP code (SPEC §6, over HTTP)', () => {
  it('approves a dangerous config change once; a second use reads like any invalid code', async () => {
    const { h, codes } = await owned();
    const code = codes[0] as string;
    const first = await proposeDangerous(h);
    const approved = await approve(h, first, code);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.proposal.resolution.stepUp).toBe('recovery');

    const second = await proposeDangerous(h);
    const before = h.documentText();
    const again = await approve(h, second, code);
    expect(codeOf(again)).toEqual([403, 'totp_invalid']);
    // The same answer as a code that never existed: the caller cannot tell spent from wrong.
    const never = await approve(h, second, wrongCode(codes));
    expect(codeOf(never)).toEqual([403, 'totp_invalid']);
    expect(never.body.error.message).toBe(again.body.error.message);
    expect(h.documentText()).toBe(before);

    // Audited: the approval says `recovery`, the use says how many remain, nothing says the code.
    const [use] = recoveryEvents(h);
    expect(use?.details).toEqual({ owner: 'owner', remaining: 9 });
    expect(use?.actor?.name).toBe('owner');
    const decided = h.service.audit
      .list({ limit: 1000 })
      .filter((event) => event.proposalId === first.id && event.stepUp !== null)
      .map((event) => [event.kind, event.stepUp]);
    expect(decided).toContainEqual(['change.applied', 'recovery']);
    const text = auditText(h);
    for (const shown of codes) {
      expect(text).not.toContain(shown);
      expect(text).not.toContain(shown.replaceAll('-', ''));
    }
    const stored = h.service.db.prepare('SELECT code_hash FROM totp_recovery_codes').pluck().all() as string[];
    for (const hash of stored) expect(text).not.toContain(hash.slice('hmac-sha256:'.length));
  });

  it('is accepted as typed from paper: lower case, without hyphens, O for 0', async () => {
    const { h, codes } = await owned();
    const typed = (codes[1] as string).toLowerCase().replaceAll('-', '').replaceAll('0', 'o');
    const card = await proposeDangerous(h);
    const approved = await approve(h, card, typed);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.proposal.resolution.stepUp).toBe('recovery');
  });

  it('opens no cooldown: the next dangerous approval needs a code again', async () => {
    const { h, codes, secret } = await owned();
    const first = await proposeDangerous(h);
    expect((await approve(h, first, codes[0])).status).toBe(200);
    const second = await proposeDangerous(h);
    expect(codeOf(await approve(h, second))).toEqual([403, 'totp_required']);
    // An authenticator code still works, and still opens its cooldown.
    const withTotp = await approve(h, second, totpCode(secret, h.clock.now()));
    expect(withTotp.body.proposal.resolution.stepUp).toBe('totp');
  });

  it("belongs to its owner: another owner's code is an invalid code", async () => {
    const { h } = await owned();
    const alice = enrollTotp(h.service, 'alice', base32(randomBytes(20))).recoveryCodes;
    const card = await proposeDangerous(h);
    expect(codeOf(await approve(h, card, alice[0]))).toEqual([403, 'totp_invalid']);
    // Alice's own token can use it (the surface is the same cli).
    const aliceToken = h.token({ role: 'owner', name: 'alice', surface: 'cli' });
    expect((await approve(h, card, alice[0], aliceToken)).status).toBe(200);
  });

  it('an owner without an authenticator cannot pass with a code-shaped guess', async () => {
    const h = await installation();
    const card = await proposeDangerous(h);
    expect(codeOf(await approve(h, card, 'ABCD-EFGH-JKMN'))).toEqual([403, 'totp_not_enrolled']);
  });

  it('allows a destructive exec request once (shared with config approvals)', async () => {
    const { h, codes } = await owned();
    const ask = async () => {
      const response = await h.http('POST', '/v1/exec/requests', h.agentToken, {
        argv: ['rm', '-rf', '/tmp/countersign-test-nothing-here'],
        cwd: '/tmp',
        sessionKey: 'session-1',
      });
      expect(response.status, JSON.stringify(response.body)).toBe(202);
      expect(response.body.request.approval.totp).toBe(true);
      return response.body.request as { id: string; planHash: string };
    };
    const resolve = (request: { id: string; planHash: string }, totp?: string) =>
      h.http('POST', `/v1/exec/requests/${request.id}/resolve`, h.ownerToken, {
        decision: 'allow-once',
        planHash: request.planHash,
        ...(totp === undefined ? {} : { totp }),
      });

    const first = await ask();
    const allowed = await resolve(first, codes[5]);
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
    expect(allowed.body.request.status).toBe('allowed');
    expect(allowed.body.request.resolution.stepUp).toBe('recovery');
    const approved = h.service.audit.list({ limit: 1000 }).find((event) => event.kind === 'exec.approved');
    expect(approved?.stepUp).toBe('recovery');

    // Spent for exec, spent for config too; and no cooldown for the next request.
    const second = await ask();
    expect(codeOf(await resolve(second, codes[5]))).toEqual([403, 'totp_invalid']);
    expect(codeOf(await resolve(second))).toEqual([403, 'totp_required']);
    const card = await proposeDangerous(h);
    expect(codeOf(await approve(h, card, codes[5]))).toEqual([403, 'totp_invalid']);
    expect(recoveryEvents(h)).toHaveLength(1);
    expect(auditText(h)).not.toContain((codes[5] as string).replaceAll('-', ''));
  });

  it('one code presented by concurrent approvals approves exactly one of them', async () => {
    const { h, codes } = await owned();
    const code = codes[2] as string;
    // Two config proposals on different bases would go stale; one config and several exec requests
    // race instead, all for the same code.
    const card = await proposeDangerous(h);
    const requests = await Promise.all(
      Array.from({ length: 5 }, async (_, index) => {
        const response = await h.http('POST', '/v1/exec/requests', h.agentToken, {
          argv: ['rm', '-rf', `/tmp/countersign-test-nothing-here-${index}`],
          cwd: '/tmp',
          sessionKey: 'session-1',
        });
        expect(response.status).toBe(202);
        return response.body.request as { id: string; planHash: string };
      }),
    );
    const results = await Promise.all([
      approve(h, card, code),
      ...requests.map((request) =>
        h.http('POST', `/v1/exec/requests/${request.id}/resolve`, h.ownerToken, {
          decision: 'allow-once',
          planHash: request.planHash,
          totp: code,
        }),
      ),
    ]);
    const passed = results.filter((result) => result.status === 200);
    expect(passed).toHaveLength(1);
    for (const result of results.filter((r) => r.status !== 200)) {
      expect(codeOf(result)).toEqual([403, 'totp_invalid']);
    }
    expect(recoveryEvents(h)).toHaveLength(1);
    expect(recoveryEvents(h)[0]?.details).toMatchObject({ remaining: 9 });
  });

  it('two readers that both find the code unused: only one of them can spend it (the conditional update)', async () => {
    const { h, codes } = await owned();
    const hash = recoveryCodeHash(
      h.service.fingerprintKey,
      'owner',
      normalizeRecoveryCode(codes[0] as string) as string,
    );
    const other = openDatabase(join(h.dir, DATABASE_FILE));
    try {
      const here = new TotpStore(h.service.db);
      const there = new TotpStore(other);
      expect(here.unusedRecoveryHashes('owner')).toContain(hash);
      expect(there.unusedRecoveryHashes('owner')).toContain(hash);
      const spent = [here.useRecoveryCode('owner', hash, new Date()), there.useRecoveryCode('owner', hash, new Date())];
      expect(spent).toEqual([true, false]);
      expect(there.recoveryCodesLeft('owner')).toBe(9);
    } finally {
      other.close();
    }
  });

  it('wrong recovery codes lock like wrong TOTP codes; while locked, a good code is refused and not spent', async () => {
    const { h, codes, secret } = await owned();
    const card = await proposeDangerous(h);
    // Mixed: wrong TOTP codes and wrong recovery codes count toward the same lock.
    const good = totpCode(secret, h.clock.now());
    expect(codeOf(await approve(h, card, good === '000000' ? '111111' : '000000'))).toEqual([403, 'totp_invalid']);
    for (let attempt = 1; attempt < totpLock.failures; attempt++) {
      expect(codeOf(await approve(h, card, wrongCode(codes)))).toEqual([403, 'totp_invalid']);
    }
    expect(codeOf(await approve(h, card, codes[0]))).toEqual([429, 'totp_locked']);
    expect(codeOf(await approve(h, card, totpCode(secret, h.clock.now())))).toEqual([429, 'totp_locked']);
    expect(recoveryEvents(h)).toEqual([]);

    h.clock.advance(totpLock.lockMs / 1000 + 1);
    // The lock refused the good code before looking at it: it is still unused.
    const fresh = await proposeDangerous(h);
    const approved = await approve(h, fresh, codes[0]);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(recoveryEvents(h)[0]?.details).toMatchObject({ remaining: 9 });
  });

  it('five wrong recovery codes alone lock the owner for exec resolutions too', async () => {
    const { h, codes } = await owned();
    const card = await proposeDangerous(h);
    for (let attempt = 0; attempt < totpLock.failures; attempt++) {
      expect(codeOf(await approve(h, card, wrongCode(codes)))).toEqual([403, 'totp_invalid']);
    }
    const response = await h.http('POST', '/v1/exec/requests', h.agentToken, {
      argv: ['rm', '-rf', '/tmp/countersign-test-nothing-here'],
      cwd: '/tmp',
      sessionKey: 'session-1',
    });
    const request = response.body.request as { id: string; planHash: string };
    const locked = await h.http('POST', `/v1/exec/requests/${request.id}/resolve`, h.ownerToken, {
      decision: 'allow-once',
      planHash: request.planHash,
      totp: codes[1],
    });
    expect(codeOf(locked)).toEqual([429, 'totp_locked']);
  });

  it('re-enrolment replaces the codes: the old ones stop working, the new ones work', async () => {
    const { h, codes } = await owned();
    const again = enrollTotp(h.service, 'owner', base32(randomBytes(20))).recoveryCodes;
    expect(again.filter((code) => codes.includes(code))).toEqual([]);
    expect(h.service.db.prepare('SELECT count(*) FROM totp_recovery_codes').pluck().get()).toBe(10);
    const card = await proposeDangerous(h);
    expect(codeOf(await approve(h, card, codes[0]))).toEqual([403, 'totp_invalid']);
    expect((await approve(h, card, again[0])).status).toBe(200);
  });

  it('regeneration for an owner without an authenticator makes nothing', async () => {
    const h = await installation();
    expect(regenerateRecoveryCodes(h.service, 'nobody')).toBeNull();
    expect(h.service.db.prepare('SELECT count(*) FROM totp_recovery_codes').pluck().get()).toBe(0);
  });

  it('an agent cannot spend or probe an owner code', async () => {
    const { h, codes } = await owned();
    const card = await proposeDangerous(h);
    expect(codeOf(await approve(h, card, codes[0], h.agentToken))).toEqual([403, 'forbidden']);
    // The code is still there for the owner.
    expect((await approve(h, card, codes[0])).status).toBe(200);
  });
});

describe('the owner CLI takes a recovery code at the TOTP prompt (built CLI, real terminal)', () => {
  it(
    '`countersign approve` says a recovery code works, applies with one, never echoes it; the code is then spent',
    async (t) => {
      const { installation, server, document } = await running(t);
      const { stdout } = await cliOk(['totp', 'enroll', '--data', installation.dataDir, '--owner', 'owner', '--json']);
      const [code] = (JSON.parse(stdout) as { recoveryCodes: string[] }).recoveryCodes as [string];
      const card = await agentProposesMcp(server, installation.agentToken);
      const env = { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: installation.ownerToken };
      const { code: exit, output: screen } = await onTerminal(
        ['approve', card.id],
        [
          [`Type "${card.approval.confirmPhrase}"`, card.approval.confirmPhrase as string],
          ['or a recovery code', code],
        ],
        env,
      );
      expect(screen).toContain('Authenticator code from your app, or a recovery code');
      expect(screen.split('<<answered or a recovery code>>')[1]).not.toContain(code);
      expect(screen).toContain('Applied.');
      expect(exit).toBe(0);
      expect(document().commands.mcp).toBe(true);

      const counted = await cliOk(['totp', 'recovery', '--data', installation.dataDir, '--owner', 'owner', '--json']);
      expect(JSON.parse(counted.stdout)).toMatchObject({ remaining: 9 });
      const audit = await http<{ events: { kind: string; stepUp: string | null }[] }>(
        server,
        'GET',
        '/v1/audit?limit=100',
        installation.ownerToken,
      );
      expect(JSON.stringify(audit.body)).not.toContain(code.replaceAll('-', ''));
      expect(audit.body.events.filter((event) => event.kind === 'totp.recovery_used')).toHaveLength(1);
    },
    e2eTimeout,
  );
});
