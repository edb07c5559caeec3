/**
 * A new user's first hour (issue 15), through the real CLI: --json on every printing command and
 * JSON errors, short ids, COUNTERSIGN_DATA, errors that name the server and the cause, typo'd
 * owner names, no-argument help, prompts without a terminal, and the one-line "already applied".
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  agentProposesMcp,
  type Card,
  cli,
  cliOk,
  e2eTimeout,
  enrollTotp,
  http,
  init,
  ownerEnv,
  repoRoot,
  running,
  tempDir,
  totpCode,
} from './cli.js';

type ErrorJson = { error: { code: string; message: string } & Record<string, unknown> };

/** The JSON error a failing `--json` command printed on stdout (and nothing else there). */
function jsonError(result: { code: number | null; stdout: string }): ErrorJson['error'] {
  expect(result.code).not.toBe(0);
  const parsed = JSON.parse(result.stdout) as ErrorJson;
  expect(parsed.error).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
  return parsed.error;
}

/** One section of a help text ("Options:", "Commands:"), up to the blank line that ends it. */
function helpSection(help: string, title: string): string {
  const start = help.indexOf(`\n${title}\n`);
  return start < 0 ? '' : (help.slice(start + title.length + 2).split('\n\n')[0] ?? '');
}

/** Whether a help text's Options section lists --json. */
const takesJson = (help: string) => /^\s+--json\b/m.test(helpSection(help, 'Options:'));

/** Subcommand names listed under "Commands:" in a help text (without commander's `help`). */
function subcommands(help: string): string[] {
  return helpSection(help, 'Commands:')
    .split('\n')
    .map((line) => /^ {2}([a-z][\w-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

/**
 * Commands that print nothing of their own on stdout: the MCP server speaks its protocol there,
 * `exec run` hands stdout to the command it runs, `serve` logs. Everything else must take --json.
 */
const exempt = new Set(['mcp', 'exec run', 'serve']);

describe.concurrent('--json everywhere (real CLI)', { timeout: 120_000 }, () => {
  it('every command that prints accepts --json (walking the whole command tree through --help)', async () => {
    const leaves: { path: string[]; help: string }[] = [];
    const walk = async (path: string[]): Promise<void> => {
      const { stdout } = await cliOk([...path, '--help']);
      const children = subcommands(stdout);
      // A group (exec, token) is a command of its own only when it has an action (audit, exec grants).
      if (path.length > 0 && (children.length === 0 || takesJson(stdout))) leaves.push({ path, help: stdout });
      await Promise.all(children.map((child) => walk([...path, child])));
    };
    await walk([]);
    const names = leaves.map((leaf) => leaf.path.join(' '));
    // The walk did find the tree: a few commands from each part of it.
    expect(names).toEqual(
      expect.arrayContaining(['init', 'pending', 'approve', 'last-good', 'token create', 'audit verify', 'exec show']),
    );
    expect(names).toEqual(expect.arrayContaining(['exec grants revoke', 'policy explain', 'totp enroll']));
    const without = leaves
      .filter((leaf) => !exempt.has(leaf.path.join(' ')))
      .filter((leaf) => !takesJson(leaf.help))
      .map((leaf) => leaf.path.join(' '));
    expect(without).toEqual([]);
  });

  it('usage errors under --json are { error } on stdout with a non-zero exit; without it, text on stderr', async () => {
    const unknownOption = await cli(['pending', '--frobnicate', '--json']);
    expect(jsonError(unknownOption)).toMatchObject({
      code: 'invalid_usage',
      message: expect.stringContaining('--frobnicate'),
    });
    expect(unknownOption.stderr).toBe('');

    const unknownCommand = await cli(['pendnig', '--json']);
    expect(jsonError(unknownCommand).code).toBe('invalid_usage');

    const missingArgument = await cli(['show', '--json']);
    expect(jsonError(missingArgument).message).toContain('id');

    const text = await cli(['pending', '--frobnicate']);
    expect(text.code).not.toBe(0);
    expect(text.stdout).toBe('');
    expect(text.stderr).toContain("unknown option '--frobnicate'");

    // After `--`, --json belongs to the command `exec check` would run, not to countersign.
    const passed = await cli(['exec', 'check', '--url', 'http://127.0.0.1:9', '--', 'ls', '--json'], {
      env: { COUNTERSIGN_TOKEN: 'cs_agent_x' },
    });
    expect(passed.stdout).toBe('');
    expect(passed.stderr).toContain('Cannot reach countersign');
  });

  it('`countersign` alone prints the help on stdout and exits 0', async () => {
    const bare = await cli([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('Usage: countersign');
    expect(bare.stdout).toContain('COUNTERSIGN_DATA');
    expect(bare.stderr).toBe('');
  });
});

describe.concurrent('the data directory (real CLI)', { timeout: e2eTimeout }, () => {
  it('a missing one says "not initialised" and the command to run, never ENOENT', async (t) => {
    const missing = join(tempDir(t), 'dta');
    for (const args of [
      ['token', 'list', '--data', missing],
      ['last-good', '--data', missing],
      ['audit', 'verify', '--data', missing],
      ['audit', '--data', missing],
      ['policy', 'explain', 'commands.mcp', '--data', missing],
      ['totp', 'enroll', '--owner', 'owner', '--data', missing],
    ]) {
      const text = await cli(args);
      expect(text.code, args.join(' ')).toBe(1);
      expect(text.stderr).toContain(`not initialised (no such directory): run countersign init --data ${missing}`);
      expect(text.stderr).not.toContain('ENOENT');
      const json = await cli([...args, '--json']);
      expect(jsonError(json)).toMatchObject({ code: 'not_initialised', dataDir: missing });
    }
  });

  it('COUNTERSIGN_DATA is used wherever --data is accepted, and --data wins over it', async (t) => {
    const dir = tempDir(t);
    // Its own copy of the policy, so that `policy explain` shows which installation it read.
    const policy = join(dir, 'policy.json');
    copyFileSync(join(repoRoot, 'policies', 'openclaw.json'), policy);
    const installation = await init(join(dir, 'data'), ['--policy', policy]);
    const env = { COUNTERSIGN_DATA: installation.dataDir };
    const tokens = JSON.parse((await cliOk(['token', 'list', '--json'], { env })).stdout) as { tokens: unknown[] };
    expect(tokens.tokens).toHaveLength(2);
    const events = JSON.parse((await cliOk(['audit', '--json'], { env })).stdout) as { events: { kind: string }[] };
    expect(events.events.map((event) => event.kind)).toContain('token.created');
    expect(JSON.parse((await cliOk(['audit', 'head', '--json'], { env })).stdout)).toMatchObject({ seq: 2 });
    const explained = JSON.parse((await cliOk(['policy', 'explain', 'commands.mcp', '--json'], { env })).stdout);
    expect(explained.policy).toBe(policy);
    const lastGood = JSON.parse((await cliOk(['last-good', '--json'], { env })).stdout);
    expect(lastGood).toMatchObject({ target: 'openclaw', document: { commands: { mcp: false } } });

    const wrongEnv = { COUNTERSIGN_DATA: join(tempDir(t), 'elsewhere') };
    expect((await cli(['token', 'list'], { env: wrongEnv })).stderr).toContain('not initialised');
    await cliOk(['token', 'list', '--data', installation.dataDir], { env: wrongEnv });
  });

  it('totp enroll refuses an owner name no token has (naming the owners), unless --force', async (t) => {
    const installation = await init(join(tempDir(t), 'data'));
    const typo = await cli(['totp', 'enroll', '--data', installation.dataDir, '--owner', 'ownr']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('"ownr"');
    expect(typo.stderr).toContain('"owner"');
    expect(typo.stderr).toContain('--force');
    expect(typo.stdout).toBe('');
    const json = await cli(['totp', 'enroll', '--data', installation.dataDir, '--owner', 'ownr', '--json']);
    expect(jsonError(json)).toMatchObject({ code: 'unknown_owner', owners: ['owner'] });
    // Nothing was enrolled for the typo: its recovery codes do not exist.
    expect((await cli(['totp', 'recovery', '--data', installation.dataDir, '--owner', 'ownr'])).code).toBe(1);

    // An agent's name is not an owner's either.
    expect((await cli(['totp', 'enroll', '--data', installation.dataDir, '--owner', 'main'])).code).toBe(1);

    const forced = await cliOk([
      'totp',
      'enroll',
      '--data',
      installation.dataDir,
      '--owner',
      'ownr',
      '--force',
      '--json',
    ]);
    expect(JSON.parse(forced.stdout)).toMatchObject({ owner: 'ownr' });
    await enrollTotp(installation.dataDir, 'owner');
  });
});

describe.concurrent('talking to the server (real CLI)', { timeout: e2eTimeout }, () => {
  it('names the URL (and that it is the default) when there is no token or no server', async () => {
    const noToken = await cli(['pending']);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('http://127.0.0.1:7070 (the default: set COUNTERSIGN_URL or pass --url)');
    expect(noToken.stderr).toContain('COUNTERSIGN_TOKEN');

    // A token in a variable the CLI does not read is named.
    const stray = await cli(['pending'], { env: { COUNTERSIGN_OWNER_TOKEN: 'cs_owner_x' } });
    expect(stray.stderr).toContain('COUNTERSIGN_OWNER_TOKEN is set, but the CLI reads only COUNTERSIGN_TOKEN');

    const down = await cli(['pending', '--json'], {
      env: { COUNTERSIGN_URL: 'http://127.0.0.1:9', COUNTERSIGN_TOKEN: 'cs_owner_x' },
    });
    const error = jsonError(down);
    expect(error.code).toBe('unreachable');
    expect(error.message).toContain('http://127.0.0.1:9 (from COUNTERSIGN_URL)');
  });

  it('a refused token names the server and the cause; "Bearer <token>" is taken for the token', async (t) => {
    const { installation, server } = await running(t);
    const wrong = await cli(['pending'], { env: ownerEnv(server, 'not-a-token') });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`The server at ${server.url} (from COUNTERSIGN_URL) refused the token`);
    expect(wrong.stderr).toContain('does not look like a countersign token');
    expect(wrong.stderr).toContain('[unauthorized]');

    const revokedLooking = await cli(['pending', '--json'], { env: ownerEnv(server, 'cs_owner_AAAAAAAA') });
    const error = jsonError(revokedLooking);
    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain(server.url);
    expect(error.message).toContain('not revoked');

    const pasted = await cliOk(['pending', '--json'], { env: ownerEnv(server, `Bearer ${installation.ownerToken}\n`) });
    expect(JSON.parse(pasted.stdout)).toEqual({ proposals: [] });
  });

  it('a string merge patch is refused saying the patch must be an object (or use operations), and nothing changes', async (t) => {
    const { installation, server, documentText } = await running(t);
    const before = documentText();
    const { body } = await http<{ hash: string }>(server, 'GET', '/v1/config', installation.agentToken);
    for (const patch of ['x', 1, null, [1]]) {
      const refused = await http<ErrorJson>(server, 'POST', '/v1/proposals', installation.agentToken, {
        baseHash: body.hash,
        patch,
      });
      expect(refused.status, JSON.stringify(patch)).toBe(400);
      expect(refused.body.error.code).toBe('invalid_patch');
      expect(refused.body.error.message).toContain('The patch must be a JSON object');
      expect(refused.body.error.message).toContain('"operations"');
    }
    expect(documentText()).toBe(before);
    const pending = await http<{ proposals: unknown[] }>(server, 'GET', '/v1/proposals', installation.ownerToken);
    expect(pending.body.proposals).toEqual([]);
  });
});

describe.concurrent('short ids (real CLI)', { timeout: e2eTimeout }, () => {
  it('show, approve, deny and rollback take any unique prefix of 8+ characters', async (t) => {
    const { installation, server, document } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const secret = await enrollTotp(installation.dataDir);
    const card = await agentProposesMcp(server, installation.agentToken);
    const short = card.id.slice(0, 8);
    const { body } = await http<{ hash: string }>(server, 'GET', '/v1/config', installation.agentToken);
    const other = await http<{ proposal: Card }>(server, 'POST', '/v1/proposals', installation.agentToken, {
      baseHash: body.hash,
      patch: { mcp: { servers: { docs: { url: 'https://mcp.example.com/mcp' } } } },
    });
    expect(other.body.proposal.status).toBe('pending');
    const denied = await cliOk(['deny', other.body.proposal.id.slice(0, 9), '--reason', 'not now'], { env });
    expect(denied.stdout).toBe(`Denied ${other.body.proposal.id}.\n`);

    const shown = JSON.parse((await cliOk(['show', short, '--json'], { env })).stdout) as Card;
    expect(shown.id).toBe(card.id);
    expect((await cliOk(['show', card.id.slice(0, 13).toUpperCase()], { env })).stdout).toContain(card.id);

    const approved = await cliOk(
      ['approve', short, '--confirm', card.approval.confirmPhrase as string, '--totp', totpCode(secret), '--json'],
      { env },
    );
    expect(JSON.parse(approved.stdout)).toMatchObject({ status: 'applied' });
    expect(document().commands.mcp).toBe(true);

    // Already applied: one line saying so, not the card; the JSON code says which.
    const again = await cli(['approve', short, '--yes'], { env });
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(`Proposal ${card.id} is already applied`);
    expect(again.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(jsonError(await cli(['approve', short, '--json'], { env }))).toMatchObject({
      code: 'already_applied',
      status: 'applied',
    });

    const rolledBack = await cliOk(['rollback', short, '--json'], { env });
    expect(['pending', 'applied']).toContain((JSON.parse(rolledBack.stdout) as { status: string }).status);
  });

  it('too short, unknown and ambiguous prefixes are clear errors; the lookup is for owners only', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const first = await agentProposesMcp(server, installation.agentToken);

    const tooShort = await cli(['show', first.id.slice(0, 7), '--json'], { env });
    expect(jsonError(tooShort)).toMatchObject({ code: 'id_too_short', message: expect.stringContaining('8') });
    const nothing = await cli(['show', first.id.startsWith('0') ? '11111111' : '00000000', '--json'], { env });
    expect(jsonError(nothing).code).toBe('not_found');
    // Not an id at all: the server's own not_found.
    expect(jsonError(await cli(['show', 'no-such-proposal', '--json'], { env })).code).toBe('not_found');

    // Two proposals whose ids share their first 8 characters (ids rewritten in the database).
    const { body } = await http<{ hash: string }>(server, 'GET', '/v1/config', installation.agentToken);
    const second = await http<{ proposal: Card }>(server, 'POST', '/v1/proposals', installation.agentToken, {
      baseHash: body.hash,
      patch: { mcp: { servers: { docs: { url: 'https://mcp.example.com/mcp' } } } },
    });
    expect(second.body.proposal.status).toBe('pending');
    const ids = ['abcdef01-0000-4000-8000-000000000001', 'abcdef01-0000-4000-8000-000000000002'];
    const db = new Database(join(installation.dataDir, 'countersign.db'));
    try {
      const update = db.prepare('UPDATE proposals SET id = ? WHERE id = ?');
      expect(update.run(ids[0], first.id).changes).toBe(1);
      expect(update.run(ids[1], second.body.proposal.id).changes).toBe(1);
    } finally {
      db.close();
    }
    const ambiguous = await cli(['show', 'abcdef01', '--json'], { env });
    const error = jsonError(ambiguous);
    expect(error.code).toBe('ambiguous_id');
    expect((error.matches as { id: string }[]).map((match) => match.id)).toEqual(ids);
    const text = await cli(['approve', 'abcdef01', '--yes'], { env });
    expect(text.code).toBe(1);
    for (const id of ids) expect(text.stderr).toContain(id);
    expect(text.stdout).toBe('');

    // The endpoint behind it: owners only, and only a hex prefix of 8+ characters.
    const asAgent = await http<ErrorJson>(
      server,
      'GET',
      '/v1/ids?kind=proposal&prefix=abcdef01',
      installation.agentToken,
    );
    expect(asAgent.status).toBe(403);
    expect(asAgent.body.error.code).toBe('forbidden');
    for (const prefix of ['abcdef0', '%%%%%%%%', '________', 'ABCDEF01', "abcdef01'--"]) {
      const bad = await http<ErrorJson>(
        server,
        'GET',
        `/v1/ids?kind=proposal&prefix=${encodeURIComponent(prefix)}`,
        installation.ownerToken,
      );
      expect(bad.status, prefix).toBe(400);
    }
    const badKind = await http(server, 'GET', '/v1/ids?kind=tokens&prefix=abcdef01', installation.ownerToken);
    expect(badKind.status).toBe(400);
    const anonymous = await http(server, 'GET', '/v1/ids?kind=proposal&prefix=abcdef01', null);
    expect(anonymous.status).toBe(401);
  });

  it('exec show / approve take a short id too', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    const asked = await http<{ decision: string; request: { id: string } }>(
      server,
      'POST',
      '/v1/exec/requests',
      installation.agentToken,
      { argv: ['/bin/sh', '-c', 'echo first-hour'], cwd: '/', sessionKey: 'first-hour' },
    );
    expect(asked.body.decision).toBe('ask');
    const id = asked.body.request.id;
    const shown = JSON.parse((await cliOk(['exec', 'show', id.slice(0, 8), '--json'], { env })).stdout);
    expect(shown.request.id).toBe(id);
    const denied = await cliOk(['exec', 'deny', id.slice(0, 10)], { env });
    expect(denied.stdout).toBe(`Denied ${id}.\n`);
    const again = await cli(['exec', 'approve', id.slice(0, 8), '--yes'], { env });
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain('already denied');
  });
});

describe.concurrent('prompts without a terminal (real CLI)', { timeout: e2eTimeout }, () => {
  it('a missing confirmation phrase names --confirm with the phrase; a missing code names --totp', async (t) => {
    const { installation, server } = await running(t);
    const env = ownerEnv(server, installation.ownerToken);
    await enrollTotp(installation.dataDir);
    const card = await agentProposesMcp(server, installation.agentToken);
    const phrase = card.approval.confirmPhrase as string;

    const noPhrase = await cli(['approve', card.id], { env });
    expect(noPhrase.code).toBe(1);
    expect(noPhrase.stderr).toContain(`--confirm "${phrase}"`);
    expect(jsonError(await cli(['approve', card.id, '--json'], { env })).code).toBe('confirm_required');

    const noCode = await cli(['approve', card.id, '--confirm', phrase], { env });
    expect(noCode.code).toBe(1);
    expect(noCode.stderr).toContain('--totp');
    expect(noCode.stderr).toContain('totp_required');
    const still = await http<Card>(server, 'GET', `/v1/proposals/${card.id}`, installation.ownerToken);
    expect(still.body.status).toBe('pending');
  });
});
