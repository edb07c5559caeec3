/**
 * OpenClaw compatibility (issue 11, "Import and compatibility"): an OpenClaw user's
 * exec-approvals.json, or what `openclaw approvals get --json` prints, imports without edits, and
 * countersign's decisions for it restate OpenClaw's documented examples.
 *
 * End to end, as a user meets it: `countersign init --exec-approvals FILE` with the built CLI,
 * the file checked byte for byte on disk, `countersign serve`, then real `POST /v1/exec/requests`
 * over HTTP for every example, on real executables (small shell scripts in a temporary
 * directory, found through the request's own `PATH`).
 *
 * OpenClaw is not available to CI: every fact used here is copied. The documents are in
 * test/fixtures/exec-approvals/ (see its README), and each test quotes the sentence of OpenClaw
 * 2026.9.6's docs (`docs/tools/exec-approvals.md`, `exec-approvals-advanced.md`, `exec.md`) it
 * restates. Where countersign deliberately decides differently, the test says "DIFFERS" and why.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type Ctx,
  cli,
  cliOk,
  e2eTimeout,
  type HttpResult,
  http,
  type Installation,
  init,
  type Server,
  serve,
  tempDir,
} from '../e2e/cli.js';

const fixtures = fileURLToPath(new URL('../fixtures/exec-approvals/', import.meta.url));
const fixture = (name: string) => join(fixtures, name);

type Segment = { argv: string[]; resolvedPath: string | null; matched: string | null; inlineEval: boolean };
type ExecRequest = {
  id: string;
  status: string;
  agentId: string;
  argv: string[] | null;
  reason: string;
  planHash: string;
  segments: Segment[];
  risk: { elevated: boolean; destructive: boolean; inlineEval: boolean; unanalysable: boolean };
  allowedDecisions: string[];
  fileOperand: { argvIndex: number; path: string; sha256: string } | null;
  resolution: { status: string; reason: string; pattern: string | null } | null;
};
type Reply = HttpResult<{
  decision?: string;
  request?: ExecRequest;
  error?: { code: string; message: string; reason?: string; requestId?: string | null };
}>;

/** What a test works with: an imported installation, its server, and a workspace of programs. */
type Imported = {
  installation: Installation;
  server: Server;
  /** Programs by bare name, found through the request's PATH. */
  bin: string;
  /** The request's cwd (with safe.py, other.py, app.py in it). */
  cwd: string;
  /** The server's HOME: `~` in patterns. */
  home: string;
  /** Agent tokens by agent id (`main` is init's). */
  agents: Record<string, string>;
  ask: (body: Record<string, unknown>, agent?: string) => Promise<Reply>;
  resolve: (request: ExecRequest, decision: string) => Promise<HttpResult<{ status?: string; error?: unknown }>>;
  /** exec-approvals.json as it is on disk now. */
  onDisk: () => string;
};

function program(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, 0o755);
  return path;
}

/**
 * `init --exec-approvals FILE` (checked: the file on disk is the imported bytes, or for the
 * `approvals get --json` shape the document under `file`), tokens for the extra agents, and
 * `serve` with HOME pointing at a temporary home (so `~/…` patterns are testable).
 */
async function imported(t: Ctx, name: string, extraAgents: string[] = []): Promise<Imported> {
  const root = realpathSync(tempDir(t, 'countersign-compat-'));
  const home = join(root, 'home');
  const bin = join(root, 'bin');
  const cwd = join(root, 'work');
  mkdirSync(home, { recursive: true });
  mkdirSync(cwd, { recursive: true });
  for (const name of ['rg', 'echo', 'pwd', 'whoami', 'python3']) program(join(bin, name));
  for (const script of ['safe.py', 'other.py', 'app.py']) writeFileSync(join(cwd, script), 'print("hi")\n');

  const installation = await init(join(root, 'data'), ['--exec-approvals', fixture(name)]);
  const onDisk = () => readFileSync(join(installation.dataDir, 'exec-approvals.json'), 'utf8');
  const source = readFileSync(fixture(name), 'utf8');
  const sourceValue = JSON.parse(source) as Record<string, unknown>;
  if ('file' in sourceValue && !('version' in sourceValue)) {
    // `openclaw approvals get --json`: the document is the one under `file`, every field kept.
    expect(JSON.parse(onDisk())).toEqual(sourceValue.file);
  } else {
    expect(onDisk()).toBe(source);
  }

  const agents: Record<string, string> = { main: installation.agentToken };
  for (const agent of extraAgents) {
    const created = await cliOk([
      'token',
      'create',
      '--data',
      installation.dataDir,
      '--role',
      'agent',
      '--name',
      agent,
      '--json',
    ]);
    agents[agent] = (JSON.parse(created.stdout) as { token: string }).token;
  }

  // serve() spawns synchronously, so the child alone sees this HOME (os.homedir() reads it).
  const savedHome = process.env.HOME;
  process.env.HOME = home;
  let starting: Promise<Server>;
  try {
    starting = serve(t, installation.dataDir);
  } finally {
    process.env.HOME = savedHome;
  }
  const server = await starting;

  return {
    installation,
    server,
    bin,
    cwd,
    home,
    agents,
    onDisk,
    ask: (body, agent = 'main') =>
      http(server, 'POST', '/v1/exec/requests', agents[agent] ?? null, {
        sessionKey: 'compat',
        cwd,
        env: { PATH: bin },
        ...body,
      }) as Promise<Reply>,
    resolve: (request, decision) =>
      http(server, 'POST', `/v1/exec/requests/${request.id}/resolve`, installation.ownerToken, {
        decision,
        planHash: request.planHash,
      }),
  };
}

function allowed(reply: Reply, reason = 'allowlist'): ExecRequest {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body.decision).toBe('allow');
  expect(reply.body.request).toMatchObject({ status: 'allowed', reason });
  return reply.body.request as ExecRequest;
}

function asked(reply: Reply, reason = 'allowlist_miss'): ExecRequest {
  expect(reply.status, JSON.stringify(reply.body)).toBe(202);
  expect(reply.body.decision).toBe('ask');
  expect(reply.body.request).toMatchObject({ status: 'pending', reason });
  return reply.body.request as ExecRequest;
}

function denied(reply: Reply, reason: string): NonNullable<Reply['body']['error']> {
  expect(reply.status, JSON.stringify(reply.body)).toBe(403);
  expect(reply.body.error).toMatchObject({ code: 'exec_denied', reason });
  return reply.body.error as NonNullable<Reply['body']['error']>;
}

describe.concurrent('importing OpenClaw exec approvals', { timeout: e2eTimeout }, () => {
  it('every fixture imports without edits, byte for byte, extra fields kept', async (t) => {
    // docs/tools/exec-approvals.md "Example schema" and the persisted fields: `socket`, `mcpTools`,
    // `id`, `source`, `lastUsedAt`, `lastResolvedPath`, legacy `agents.default`, bare strings.
    const names = [
      'openclaw-legacy.json',
      'openclaw-yolo.json',
      'openclaw-cautious.json',
      'openclaw-deny-all.json',
      'openclaw-allowlist-examples.json',
      'openclaw-chains.json',
      'openclaw-argpattern.json',
      'openclaw-ask-always.json',
      'countersign-strict-inline.json',
    ];
    await Promise.all(
      names.map(async (name) => {
        const dataDir = join(tempDir(t), 'data');
        const installation = await init(dataDir, ['--exec-approvals', fixture(name)]);
        expect(readFileSync(join(installation.dataDir, 'exec-approvals.json'), 'utf8'), name).toBe(
          readFileSync(fixture(name), 'utf8'),
        );
      }),
    );
  });

  it('`openclaw approvals get --json` output imports: the document under `file`, decided as OpenClaw would', async (t) => {
    // docs/tools/exec-approvals.md: "openclaw approvals get --gateway --json | jq '.file' > approvals.json"
    // — the fixture is that command's real output (OpenClaw 2026.9.6), the document under `file`.
    const c = await imported(t, 'openclaw-approvals-get.json', ['reviewer']);
    const document = JSON.parse(c.onDisk()) as Record<string, unknown>;
    expect(document).not.toHaveProperty('effectivePolicy');
    expect(document).not.toHaveProperty('hash');
    expect(document.socket).toEqual({ path: '~/.openclaw/exec-approvals.sock' });

    // `reviewer: { security: "deny" }`: "`deny` - block all host exec requests."
    denied(await c.ask({ argv: ['rg', 'x'] }, 'reviewer'), 'security_deny');
    // main: cautious defaults (allowlist, on-miss): "`on-miss` - prompt only when the allowlist does not match."
    asked(await c.ask({ argv: ['rg', 'x'] }));
    // `git` with `argPattern: "^(status|diff|log)( |$)"`: bare name through PATH, arguments matched.
    program(join(c.bin, 'git'));
    const status = allowed(await c.ask({ argv: ['git', 'status', '--short'] }));
    expect(status.segments[0]?.matched).toBe('git');
    asked(await c.ask({ argv: ['git', 'push'] }));
    // `agents["*"]` applies to every agent (its `/usr/bin/ls` entry) — where this host has that file.
    if (existsSync('/usr/bin/ls') && realpathSync('/usr/bin/ls') === '/usr/bin/ls') {
      allowed(await c.ask({ argv: ['/usr/bin/ls'] }));
    }
  });

  it('legacy `agents.default` is merged into main; bare strings are patterns; defaults apply to other agents', async (t) => {
    // docs/tools/exec-approvals.md: "Legacy `agents.default` entries are migrated to `agents.main` on load."
    const c = await imported(t, 'openclaw-legacy.json', ['ops', 'stranger']);
    // "rg" (a bare string, in both default and main) through PATH.
    expect(allowed(await c.ask({ argv: ['rg', 'TODO'] })).segments[0]?.matched).toBe('rg');
    // `~/.local/bin/*` came from `agents.default` (with the legacy `null`s) and now serves main.
    const tool = program(join(c.home, '.local/bin/tool'));
    expect(allowed(await c.ask({ argv: [tool] })).segments[0]?.matched).toBe('~/.local/bin/*');
    // `ops` sets only `ask: "always"`; its security comes from `defaults.security: "deny"`.
    denied(await c.ask({ argv: ['rg', 'TODO'] }, 'ops'), 'security_deny');
    // An agent with no entry gets `defaults`: deny.
    denied(await c.ask({ argv: ['rg', 'TODO'] }, 'stranger'), 'security_deny');
  });

  it('a malformed file makes init fail with a clear message, and nothing is initialised', async (t) => {
    const cases: { text: string; message: RegExp }[] = [
      { text: '{ "version": 1, "defaults": ', message: /is not JSON/ },
      { text: '{ "version": 1, "defaults": { "security": "yolo" } }', message: /defaults\.security/ },
      { text: '{ "version": 3 }', message: /version/ },
      {
        text: '{ "version": 1, "agents": { "main": { "allowlist": ["  "] } } }',
        message: /agents\.main\.allowlist\[0\]/,
      },
      { text: '{ "version": 1, "agents": { "main": { "ask": "sometimes" } } }', message: /agents\.main\.ask/ },
      { text: '{ "version": 2, "totp": { "enabled": true, "scop": "all" } }', message: /totp/ },
      { text: '[]', message: /JSON object/ },
    ];
    await Promise.all(
      cases.map(async ({ text, message }) => {
        const dir = tempDir(t);
        const file = join(dir, 'exec-approvals.json');
        writeFileSync(file, text);
        const dataDir = join(dir, 'data');
        const result = await cli(['init', '--data', dataDir, '--exec-approvals', file]);
        expect(result.code, text).not.toBe(0);
        expect(result.stderr, text).toContain(file);
        expect(result.stderr, text).toMatch(message);
        expect(existsSync(join(dataDir, 'countersign.json')), text).toBe(false);
        expect(existsSync(join(dataDir, 'exec-approvals.json')), text).toBe(false);
      }),
    );
  });

  it('a document broken by hand later fails closed: every request denied, saying the document is invalid', async (t) => {
    const c = await imported(t, 'openclaw-yolo.json');
    allowed(await c.ask({ argv: ['rg'] }), 'security_full');
    const path = join(c.installation.dataDir, 'exec-approvals.json');

    // Valid JSON, invalid document: a typo in a policy field.
    writeFileSync(path, '{ "version": 1, "defaults": { "security": "ful", "ask": "off" } }\n');
    const typo = denied(await c.ask({ argv: ['rg'] }), 'policy_invalid');
    expect(typo.message).toMatch(/invalid/i);
    expect(typo.message).toContain('defaults.security');

    // Not JSON at all (an editor saved half a file).
    writeFileSync(path, '{ "version": 1, "defaults": { "security": "full", ');
    const truncated = denied(await c.ask({ argv: ['rg'] }), 'policy_invalid');
    expect(truncated.message).toMatch(/exec approvals document .* is not valid JSON/);
    // Not even a command the old YOLO document allowed, nor a dry run.
    denied(await c.ask({ argv: ['whoami'], dryRun: true }), 'policy_invalid');
  });
});

describe.concurrent("OpenClaw's documented semantics, restated", { timeout: e2eTimeout }, () => {
  it('YOLO = security: full + ask: off: everything runs without a prompt, inline eval too (strict off)', async (t) => {
    // docs/tools/exec-approvals.md: "YOLO chooses **how** host exec is approved: `security=full` plus `ask=off`."
    // The document is the one the docs' "Persistent gateway-host "never prompt" setup" sets.
    const c = await imported(t, 'openclaw-yolo.json');
    allowed(await c.ask({ argv: ['whoami'] }), 'security_full');
    allowed(await c.ask({ command: 'echo ok && pwd' }), 'security_full');
    // "For ordinary configured full-mode execution of recognized inline-eval forms without prompts,
    // leave `tools.exec.strictInlineEval` unset or set it to `false` (the default)."
    const inline = allowed(await c.ask({ argv: ['python3', '-c', 'print(1)'] }), 'security_full');
    expect(inline.risk.inlineEval).toBe(true);
  });

  it('deny-all preset: security: deny blocks every request', async (t) => {
    // docs/tools/exec-approvals.md: "`deny` - block all host exec requests." and the `deny-all`
    // preset: "`security=deny`, `ask=off`, `askFallback=deny`".
    const c = await imported(t, 'openclaw-deny-all.json');
    denied(await c.ask({ argv: ['echo', 'ok'] }), 'security_deny');
    denied(await c.ask({ command: 'pwd' }), 'security_deny');
  });

  it('a chain needs every top-level segment allowlisted; pipelines stage by stage', async (t) => {
    const c = await imported(t, 'openclaw-chains.json', ['batch']);
    // docs/tools/exec-approvals.md: "Shell chains such as `echo ok && pwd` still need every
    // top-level segment to satisfy allowlist rules."
    const chain = allowed(await c.ask({ command: 'echo ok && pwd' }));
    expect(chain.segments.map((segment) => segment.matched)).toEqual(['echo', 'pwd']);
    // exec-approvals-advanced.md: "Shell chaining (`&&`, `||`, `;`) is allowed when every top-level
    // segment satisfies the allowlist".
    allowed(await c.ask({ command: 'echo a; pwd || echo b' }));
    const miss = asked(await c.ask({ command: 'echo ok && whoami' }));
    expect(miss.segments.map((segment) => segment.matched)).toEqual(['echo', null]);
    // exec.md: "shell commands are auto-allowed only if every pipeline segment is allowlisted".
    asked(await c.ask({ command: 'echo ok | whoami' }));
    allowed(await c.ask({ command: 'echo ok | pwd' }));
    // exec.md: "| `allowlist` | `allowlist` | `off` | Only allowlisted/safe-bin commands run;
    // nothing else is asked." (agent `batch`: ask off)
    allowed(await c.ask({ command: 'echo ok && pwd' }, 'batch'));
    denied(await c.ask({ command: 'echo ok && whoami' }, 'batch'), 'allowlist_miss');
  });

  it('redirections and command substitution are never allowlisted; single quotes keep `$()` literal', async (t) => {
    const c = await imported(t, 'openclaw-chains.json');
    // exec-approvals-advanced.md: "Redirections remain unsupported in allowlist mode."
    const redirect = asked(await c.ask({ command: 'echo ok > out.txt' }));
    expect(redirect.risk.unanalysable).toBe(true);
    expect(redirect.allowedDecisions).not.toContain('allow-always');
    // "Command substitution (`$()` / backticks) is rejected during allowlist parsing, including
    // inside double quotes; use single quotes if you need literal `$()` text."
    for (const command of ['echo "$(whoami)"', 'echo `whoami`', 'echo $(pwd)']) {
      expect(asked(await c.ask({ command })).risk.unanalysable, command).toBe(true);
    }
    const literal = allowed(await c.ask({ command: "echo '$(whoami)'" }));
    expect(literal.segments[0]?.argv).toEqual(['echo', '$(whoami)']);
  });

  it('bare names match only commands invoked through PATH; path globs match the resolved path', async (t) => {
    const c = await imported(t, 'openclaw-allowlist-examples.json');
    // docs/tools/exec-approvals.md: "Bare names match only commands invoked through `PATH`, so `rg`
    // can match `/opt/homebrew/bin/rg` when the command is `rg`, but **not** `./rg` or `/tmp/rg`."
    const bare = allowed(await c.ask({ argv: ['rg', 'TODO'] }));
    expect(bare.segments[0]).toMatchObject({ matched: 'rg', resolvedPath: join(c.bin, 'rg') });
    expect(asked(await c.ask({ argv: ['./rg', 'TODO'], cwd: c.bin })).segments[0]?.matched).toBeNull();
    expect(asked(await c.ask({ argv: [join(c.bin, 'rg'), 'TODO'] })).segments[0]?.matched).toBeNull();
    // "Use a path glob to trust one specific binary location." `/opt/homebrew/bin/rg` does not
    // make another `rg` trusted by its path.
    asked(await c.ask({ argv: [join(c.bin, 'rg')] }));

    // Examples: "`~/path/to/**/bin/peekaboo`", "`~/.local/bin/*`" (`~` is the server's HOME).
    const peekaboo = program(join(c.home, 'path/to/one/two/bin/peekaboo'));
    expect(allowed(await c.ask({ argv: [peekaboo] })).segments[0]?.matched).toBe('~/path/to/**/bin/peekaboo');
    const local = program(join(c.home, '.local/bin/tool'));
    expect(allowed(await c.ask({ argv: [local] })).segments[0]?.matched).toBe('~/.local/bin/*');
    // A path glob matches the resolved path however the command was invoked: by bare name too.
    expect(allowed(await c.ask({ argv: ['tool'], env: { PATH: dirname(local) } })).segments[0]?.matched).toBe(
      '~/.local/bin/*',
    );
    // `*` stays within one path segment.
    asked(await c.ask({ argv: [program(join(c.home, '.local/bin/sub/tool'))] }));
  });

  it('argPattern restricts the arguments; a path-only entry for the same binary is a fallback', async (t) => {
    const c = await imported(t, 'openclaw-argpattern.json', ['fallback']);
    // docs/tools/exec-approvals.md: "That entry allows `python3 safe.py`. `python3 other.py` is an allowlist miss."
    const safe = allowed(await c.ask({ argv: ['python3', 'safe.py'] }));
    expect(safe.segments[0]?.matched).toBe('python3');
    expect(safe.fileOperand).toMatchObject({ argvIndex: 1, path: join(c.cwd, 'safe.py') });
    asked(await c.ask({ argv: ['python3', 'other.py'] }));
    // "arguments are joined with a single space, so anchor the pattern when you need an exact match."
    asked(await c.ask({ argv: ['python3', 'safe.py', '--extra'] }));
    // "If a path-only entry for the same binary is also present, unmatched arguments can still
    // fall back to that path-only entry."
    allowed(await c.ask({ argv: ['python3', 'other.py'] }, 'fallback'));
  });

  it('ask: always prompts for allowlisted commands, and allow-always does not stop the prompts', async (t) => {
    const c = await imported(t, 'openclaw-ask-always.json');
    // docs/tools/exec-approvals.md: "`always` - prompt on every command. `allow-always` durable
    // trust does **not** suppress prompts when effective ask mode is `always`."
    const first = asked(await c.ask({ argv: ['rg', 'TODO'] }), 'ask_always');
    expect(first.segments[0]?.matched).toBe('rg');
    expect(first.allowedDecisions).toContain('allow-always');
    const resolved = await c.resolve(first, 'allow-always');
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    expect(resolved.body.status).toBe('allowed');

    // The entry was written, every other field of the imported document kept as it was.
    const after = JSON.parse(c.onDisk()) as {
      socket: unknown;
      futureTopLevel: unknown;
      agents: { main: { allowlist: unknown[]; mcpTools: unknown } };
    };
    const before = JSON.parse(readFileSync(fixture('openclaw-ask-always.json'), 'utf8')) as typeof after;
    expect(after.agents.main.allowlist).toHaveLength(2);
    expect(after.agents.main.allowlist[0]).toEqual(before.agents.main.allowlist[0]);
    expect(after.socket).toEqual(before.socket);
    expect(after.futureTopLevel).toEqual(before.futureTopLevel);
    expect(after.agents.main.mcpTools).toEqual(before.agents.main.mcpTools);

    // The same command again: still asked.
    const again = asked(await c.ask({ argv: ['rg', 'TODO'] }), 'ask_always');
    expect(again.id).not.toBe(first.id);
  });

  it('strict inline eval: an allowlisted interpreter running inline code needs an owner, once', async (t) => {
    const c = await imported(t, 'countersign-strict-inline.json', ['yolo', 'quiet']);
    // docs/tools/exec-approvals.md: "`true` treats recognized inline code-eval forms as
    // approval-only, including under ordinary `full`/`off` policy or an allowlisted interpreter binary."
    const inline = asked(await c.ask({ argv: ['python3', '-c', 'print(1)'] }));
    expect(inline.segments[0]).toMatchObject({ matched: 'python3', inlineEval: true });
    // "`allow-always` does not persist new allowlist entries for inline-eval commands."
    expect(inline.allowedDecisions).toEqual(['allow-once', 'deny']);
    // exec-approvals-advanced.md: "In strict mode, `allow-always` can still persist benign
    // interpreter/script invocations".
    allowed(await c.ask({ argv: ['python3', 'safe.py'] }));
    // The docs' list: "`python -c`, `node -e`/`--eval`/`-p`, `ruby -e`, `perl -e`/`-E`, `php -r`,
    // `lua -e`, `osascript -e` (also `awk`, `sed`, `make`, `find -exec`, and `xargs` inline forms)."
    expect(asked(await c.ask({ command: "python3 -c 'print(1)' && echo ok" })).risk.inlineEval).toBe(true);

    // Under full (agent `yolo`: full, on-miss) strict inline eval still asks; other commands run.
    allowed(await c.ask({ argv: ['whoami'] }, 'yolo'), 'security_full');
    expect(asked(await c.ask({ argv: ['python3', '-c', 'print(1)'] }, 'yolo')).risk.inlineEval).toBe(true);
  });

  it('strict inline eval: askFallback full does not stand in for the approval', async (t) => {
    const c = await imported(t, 'countersign-strict-inline.json', ['yolo']);
    // With no owner credential left, every prompt goes to askFallback at once (as on a timeout).
    await cliOk(['token', 'revoke', 'owner', '--data', c.installation.dataDir]);
    // docs/tools/exec-approvals.md: "If detection runs with strict mode enabled, `askFallback: "full"`
    // does not replace reviewer or explicit approval."
    denied(await c.ask({ argv: ['python3', '-c', 'print(1)'] }, 'yolo'), 'ask_fallback');
    allowed(await c.ask({ argv: ['whoami'] }, 'yolo'), 'security_full');
  });
});

describe.concurrent('where countersign deliberately differs from OpenClaw', { timeout: e2eTimeout }, () => {
  it('DIFFERS: under ask: off, an inline eval strict mode catches is denied, not asked', async (t) => {
    // OpenClaw: "`off` - no ordinary policy prompts. Separately enabled strict inline-eval checks
    // can still require approval." countersign's `ask: off` never asks anyone (SPEC §9), so what
    // would need an approval is denied instead: the conservative side of the same rule.
    const c = await imported(t, 'countersign-strict-inline.json', ['quiet']);
    allowed(await c.ask({ argv: ['whoami'] }, 'quiet'), 'security_full');
    denied(await c.ask({ argv: ['python3', '-c', 'print(1)'] }, 'quiet'), 'allowlist_miss');
  });

  it('DIFFERS: a builtin that changes how later segments resolve (`cd x && …`) makes the text unanalysable', async (t) => {
    // OpenClaw allows shell builtins in allowlist chains; `cd /tmp/x && ./run` would be matched and
    // file-bound against the request's cwd, so countersign asks (src/core/exec/shell.ts).
    const c = await imported(t, 'openclaw-chains.json');
    const cd = asked(await c.ask({ command: `cd ${c.bin} && echo ok` }));
    expect(cd.risk.unanalysable).toBe(true);
    expect(cd.allowedDecisions).not.toContain('allow-always');
  });

  it('DIFFERS: an unquoted glob argument makes the text unanalysable; quoted, it is literal', async (t) => {
    // OpenClaw keeps glob arguments as literal text; `rm *` next to a file named `-rf` runs something
    // no owner saw, so countersign asks.
    const c = await imported(t, 'openclaw-chains.json');
    expect(asked(await c.ask({ command: 'echo *.py' })).risk.unanalysable).toBe(true);
    expect(allowed(await c.ask({ command: "echo '*.py'" })).segments[0]?.argv).toEqual(['echo', '*.py']);
  });

  it('DIFFERS: a background `&` separates segments (OpenClaw refuses it), each still allowlisted', async (t) => {
    // SPEC §9 lists `&` as a separator; every segment is judged as with `&&`.
    const c = await imported(t, 'openclaw-chains.json');
    const background = allowed(await c.ask({ command: 'echo a & pwd' }));
    expect(background.segments.map((segment) => segment.matched)).toEqual(['echo', 'pwd']);
    asked(await c.ask({ command: 'echo a & whoami' }));
  });

  it('DIFFERS: the inline-eval scan stops at the script (`python3 app.py -c x` runs app.py)', async (t) => {
    // OpenClaw scans a flag interpreter's whole argv, so `python app.py -c x` counts as inline eval;
    // the `-c` belongs to app.py, which is bound by its content hash instead.
    const c = await imported(t, 'countersign-strict-inline.json');
    const script = allowed(await c.ask({ argv: ['python3', 'app.py', '-c', 'x'] }));
    expect(script.risk.inlineEval).toBe(false);
    expect(script.fileOperand).toMatchObject({ argvIndex: 1, path: join(c.cwd, 'app.py') });
  });
});
