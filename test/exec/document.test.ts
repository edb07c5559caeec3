import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defaultExecDocument,
  effectivePolicy,
  normaliseAgents,
  OPENCLAW_DEFAULTS,
  parseExecDocument,
} from '../../src/core/exec/document.js';
import { fixtures } from '../support/harness.js';

const load = (name: string): unknown =>
  JSON.parse(readFileSync(join(fixtures, 'exec-approvals', name), 'utf8')) as unknown;

function parsed(json: unknown) {
  const result = parseExecDocument(json);
  if (!result.ok) throw new Error(result.reason);
  return result.document;
}

function reason(json: unknown): string {
  const result = parseExecDocument(json);
  if (result.ok) throw new Error('expected the document to be refused');
  return result.reason;
}

describe('OpenClaw version-1 documents are accepted unchanged', () => {
  for (const name of ['openclaw-legacy.json', 'openclaw-yolo.json', 'openclaw-cautious.json']) {
    it(`${name}: parses, and nothing is lost for the write-back`, () => {
      const original = load(name);
      const snapshot = structuredClone(original);
      const document = parsed(original);
      expect(document).toEqual(snapshot);
      // Parsing never edits what the caller read from disk.
      expect(original).toEqual(snapshot);
    });
  }

  it('keeps socket, mcpTools, lastUsed*, commandText and unknown fields as they are', () => {
    const document = parsed(load('openclaw-legacy.json')) as Record<string, unknown> & {
      agents: Record<string, Record<string, unknown>>;
    };
    expect(document.socket).toEqual({
      path: '~/.openclaw/exec-approvals.sock',
      token: 'q8c1Q2t9s0Vb3mZk4yXwLr7pN5hJ6eFa',
    });
    expect(document.futureTopLevel).toEqual(['kept', 'as', 'is']);
    expect(document.agents.ops?.futureField).toEqual({ kept: true });
    expect(document.agents.main?.mcpTools).toHaveLength(1);
    expect(document.agents.default).toBeDefined();
    const entry = (document.agents.main?.allowlist as Record<string, unknown>[] | undefined)?.[2];
    expect(entry?.commandText).toBe('python3 safe.py');
    expect(entry?.lastUsedCommand).toBe('python3 safe.py');
  });
});

describe('normaliseAgents', () => {
  const document = parsed(load('openclaw-legacy.json'));

  it('merges legacy agents.default into main: main wins, allowlists concatenate without duplicates', () => {
    const agents = normaliseAgents(document);
    expect([...agents.keys()].sort()).toEqual(['main', 'ops']);
    const main = agents.get('main');
    expect(main?.security).toBe('allowlist');
    expect(main?.ask).toBe('on-miss');
    // Only the legacy entry sets askFallback, so it survives the merge.
    expect(main?.askFallback).toBe('allowlist');
    expect(main?.autoAllowSkills).toBe(true);
    // Main's four entries, then default's minus "rg" (same pattern) and "RG" (OpenClaw dedupes case-insensitively).
    expect(main?.allowlist.map((entry) => entry.pattern)).toEqual([
      '~/path/to/**/bin/rg',
      '~/path/to/**/bin/git',
      'python3',
      'rg',
      '/usr/bin/git',
      '~/.local/bin/*',
    ]);
  });

  it('bare strings become { pattern }, legacy nulls become absent, and the document is untouched', () => {
    const snapshot = structuredClone(document);
    const main = normaliseAgents(document).get('main');
    expect(main?.allowlist[3]).toEqual({ pattern: 'rg' });
    expect(main?.allowlist[5]).toEqual({ pattern: '~/.local/bin/*' });
    expect(main?.allowlist[2]).not.toHaveProperty('commandText');
    expect(document).toEqual(snapshot);
  });

  it('an agent called "default" alone becomes main', () => {
    const agents = normaliseAgents(parsed({ version: 1, agents: { default: { security: 'deny' } } }));
    expect(agents.get('main')?.security).toBe('deny');
    expect(agents.has('default')).toBe(false);
  });
});

describe('effectivePolicy: agent over agents["*"] over defaults over OpenClaw built-ins', () => {
  it("OpenClaw's built-in defaults when nothing is set: full / off / deny, no strict inline eval, no TOTP", () => {
    const policy = effectivePolicy(parsed({ version: 1 }), 'main');
    expect(policy).toMatchObject({
      security: 'full',
      ask: 'off',
      askFallback: 'deny',
      autoAllowSkills: false,
      strictInlineEval: false,
      timeoutSeconds: OPENCLAW_DEFAULTS.timeoutSeconds,
      maxAllowForSeconds: 3600,
      totp: { enabled: false },
      allowlist: [],
      sources: { security: 'built-in', ask: 'built-in', askFallback: 'built-in' },
    });
  });

  it('YOLO (docs): security full + ask off + askFallback full', () => {
    const policy = effectivePolicy(parsed(load('openclaw-yolo.json')), 'main');
    expect(policy).toMatchObject({ security: 'full', ask: 'off', askFallback: 'full' });
  });

  it('the agent entry wins field by field; other fields fall to defaults', () => {
    const document = parsed(load('openclaw-legacy.json'));
    const ops = effectivePolicy(document, 'ops');
    expect(ops).toMatchObject({ security: 'deny', ask: 'always', askFallback: 'deny' });
    expect(ops.sources).toEqual({
      security: 'defaults.security',
      ask: 'agents.ops.ask',
      askFallback: 'defaults.askFallback',
    });
    const main = effectivePolicy(document, 'main');
    expect(main).toMatchObject({
      security: 'allowlist',
      ask: 'on-miss',
      askFallback: 'allowlist',
      autoAllowSkills: true,
    });
    const stranger = effectivePolicy(document, 'stranger');
    expect(stranger).toMatchObject({ security: 'deny', ask: 'on-miss', askFallback: 'deny', allowlist: [] });
  });

  it('agents["*"] sits between the agent and defaults, and its allowlist comes first', () => {
    const document = parsed(load('openclaw-cautious.json'));
    const main = effectivePolicy(document, 'main');
    expect(main.allowlist.map((entry) => entry.pattern)).toEqual([
      '/usr/bin/ls',
      '/opt/homebrew/bin/rg',
      '~/.local/bin/*',
      'git',
    ]);
    const reviewer = effectivePolicy(document, 'reviewer');
    expect(reviewer.security).toBe('deny');
    expect(reviewer.allowlist.map((entry) => entry.pattern)).toEqual(['/usr/bin/ls']);
    const withWildcardFields = parsed({ version: 1, defaults: { ask: 'off' }, agents: { '*': { ask: 'always' } } });
    expect(effectivePolicy(withWildcardFields, 'main').ask).toBe('always');
    expect(effectivePolicy(withWildcardFields, 'main').sources.ask).toBe('agents.*.ask');
  });

  it('version 2 fields: strictInlineEval, timeoutSeconds, maxAllowForSeconds and totp', () => {
    const policy = effectivePolicy(
      parsed({
        version: 2,
        defaults: { strictInlineEval: true, timeoutSeconds: 120, maxAllowForSeconds: 600 },
        totp: { enabled: true, scope: 'elevated', cooldownSeconds: 60 },
      }),
      'main',
    );
    expect(policy).toMatchObject({
      strictInlineEval: true,
      timeoutSeconds: 120,
      maxAllowForSeconds: 600,
      totp: { enabled: true, scope: 'elevated', cooldownSeconds: 60 },
    });
    const partial = effectivePolicy(parsed({ version: 2, totp: { enabled: true } }), 'main');
    expect(partial.totp).toEqual({ enabled: true, scope: 'destructive', cooldownSeconds: 300 });
  });

  it('a totp block in a version-1 file is honoured, not silently ignored', () => {
    const policy = effectivePolicy(parsed({ version: 1, totp: { enabled: true, scope: 'all' } }), 'main');
    expect(policy.totp).toMatchObject({ enabled: true, scope: 'all' });
  });
});

describe('malformed documents fail closed with a reason naming the field', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not an object', [], /^document: expected a JSON object/],
    ['null', null, /^document:/],
    ['unknown version', { version: 3 }, /^version:/],
    ['missing version', { defaults: {} }, /^version:/],
    ['bad security', { version: 1, defaults: { security: 'yolo' } }, /^defaults\.security:/],
    ['bad agent ask', { version: 1, agents: { main: { ask: 'sometimes' } } }, /^agents\.main\.ask:/],
    ['bad askFallback', { version: 1, agents: { ops: { askFallback: 'allow' } } }, /^agents\.ops\.askFallback:/],
    ['allowlist not a list', { version: 1, agents: { main: { allowlist: 'rg' } } }, /^agents\.main\.allowlist:/],
    [
      'empty bare string',
      { version: 1, agents: { main: { allowlist: ['rg', '   '] } } },
      /^agents\.main\.allowlist\[1\]/,
    ],
    [
      'entry without pattern',
      { version: 1, agents: { main: { allowlist: [{ id: 'x' }] } } },
      /^agents\.main\.allowlist\[0\]\.pattern:/,
    ],
    [
      'blank pattern',
      { version: 1, agents: { main: { allowlist: [{ pattern: ' ' }] } } },
      /^agents\.main\.allowlist\[0\]\.pattern: expected a non-empty pattern/,
    ],
    [
      'lastUsedAt a string',
      { version: 1, agents: { main: { allowlist: [{ pattern: 'rg', lastUsedAt: 'yesterday' }] } } },
      /^agents\.main\.allowlist\[0\]\.lastUsedAt:/,
    ],
    [
      'mcp grant without tool',
      { version: 1, agents: { main: { mcpTools: [{ server: 's', source: 'allow-always', addedAt: 1 }] } } },
      /^agents\.main\.mcpTools\[0\]\.tool:/,
    ],
    ['agents a list', { version: 1, agents: [] }, /^agents:/],
    ['totp scope typo', { version: 2, totp: { enabled: true, scope: 'everything' } }, /^totp\.scope:/],
    ['totp unknown key', { version: 2, totp: { enabled: true, scopes: 'all' } }, /^totp:/],
    ['totp without enabled', { version: 2, totp: { scope: 'all' } }, /^totp\.enabled:/],
    [
      'strictInlineEval a string',
      { version: 2, defaults: { strictInlineEval: 'yes' } },
      /^defaults\.strictInlineEval:/,
    ],
    ['timeout zero', { version: 2, defaults: { timeoutSeconds: 0 } }, /^defaults\.timeoutSeconds:/],
    ['socket a string', { version: 1, socket: '/tmp/x.sock' }, /^socket:/],
  ];
  for (const [name, json, expected] of cases) {
    it(name, () => {
      expect(reason(json)).toMatch(expected);
    });
  }

  it('refuses an agent called __proto__', () => {
    const json = JSON.parse('{"version":1,"agents":{"__proto__":{"security":"full"}}}') as unknown;
    expect(reason(json)).toMatch(/^agents: .*__proto__/);
  });
});

describe('defaultExecDocument (countersign init without a file)', () => {
  it('is the SPEC default and parses', () => {
    const document = parsed(defaultExecDocument());
    expect(document.version).toBe(2);
    const policy = effectivePolicy(document, 'main');
    expect(policy).toMatchObject({
      security: 'allowlist',
      ask: 'on-miss',
      askFallback: 'deny',
      strictInlineEval: true,
      allowlist: [],
      totp: { enabled: true, scope: 'destructive', cooldownSeconds: 300 },
      maxAllowForSeconds: 3600,
    });
  });

  it('is a fresh object each time', () => {
    const first = defaultExecDocument();
    (first.defaults as Record<string, unknown>).security = 'full';
    expect(defaultExecDocument().defaults?.security).toBe('allowlist');
  });
});
