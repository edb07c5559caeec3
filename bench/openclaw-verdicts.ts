/**
 * Writes test/fixtures/openclaw-verdicts.json: mutated copies of the shared OpenClaw fixtures
 * (test/fixtures/openclaw.json, openclaw.legacy.json) with the verdict OpenClaw itself gives
 * each one (`openclaw config validate --json`). test/core/openclaw-verdicts.test.ts checks that
 * countersign's validator agrees on every document.
 *
 *   OPENCLAW_BIN=/opt/oc/node_modules/openclaw/openclaw.mjs PATH=/opt/oc/package/bin:$PATH \
 *     node --import tsx bench/openclaw-verdicts.ts
 *
 * Each call takes a couple of seconds; the corpus runs in about two minutes. Every document is
 * validated in its own HOME / OPENCLAW_STATE_DIR, so no state from another run is read.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '../src/core/json.js';
import { readJson, repoRoot } from './lib/fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: mutations poke at arbitrary paths of a parsed document
type Mutation = { name: string; base: 'openclaw.json' | 'openclaw.legacy.json'; edit: (document: any) => void };

const mutations: Mutation[] = [
  // Valid edits
  { name: 'unchanged', base: 'openclaw.json', edit: () => {} },
  { name: 'thinking default high', base: 'openclaw.json', edit: (d) => (d.agents.defaults.thinkingDefault = 'high') },
  { name: 'another gateway port', base: 'openclaw.json', edit: (d) => (d.gateway.port = 18790) },
  {
    name: 'new telegram group',
    base: 'openclaw.json',
    edit: (d) => (d.channels.telegram.groups['-1009876543210'] = { requireMention: false }),
  },
  { name: 'exec security full', base: 'openclaw.json', edit: (d) => (d.tools.exec.security = 'full') },
  {
    name: 'unknown key in an mcp server (open object)',
    base: 'openclaw.json',
    edit: (d) => (d.mcp.servers.filesystem.cwdd = '/tmp'),
  },
  { name: 'restart command on', base: 'openclaw.json', edit: (d) => (d.commands.restart = true) },
  { name: 'plugins.allow gains discord', base: 'openclaw.json', edit: (d) => d.plugins.allow.push('discord') },
  {
    name: 'visible replies message_tool',
    base: 'openclaw.json',
    edit: (d) => (d.messages.visibleReplies = 'message_tool'),
  },
  {
    name: 'new agent entry',
    base: 'openclaw.json',
    edit: (d) => (d.agents.entries.research = { model: 'anthropic/claude-sonnet-4-6' }),
  },
  { name: 'gateway.reload removed', base: 'openclaw.json', edit: (d) => delete d.gateway.reload },
  { name: 'meta removed', base: 'openclaw.json', edit: (d) => delete d.meta },
  {
    name: 'discord dmPolicy spelled out',
    base: 'openclaw.json',
    edit: (d) => (d.channels.discord.dmPolicy = 'allowlist'),
  },
  {
    name: 'empty document',
    base: 'openclaw.json',
    edit: (d) => {
      for (const key of Object.keys(d)) delete d[key];
    },
  },
  {
    name: 'new mcp server',
    base: 'openclaw.json',
    edit: (d) => (d.mcp.servers.git = { command: 'uvx', args: ['mcp-server-git'] }),
  },
  // Wrong types
  { name: 'gateway.port a string', base: 'openclaw.json', edit: (d) => (d.gateway.port = 'eighty') },
  { name: 'thinking default a number', base: 'openclaw.json', edit: (d) => (d.agents.defaults.thinkingDefault = 42) },
  {
    name: 'requireMention a string',
    base: 'openclaw.json',
    edit: (d) => (d.channels.telegram.groups['-1001234567890'].requireMention = 'yes'),
  },
  { name: 'plugins.allow a string', base: 'openclaw.json', edit: (d) => (d.plugins.allow = 'telegram') },
  {
    name: 'agent entry a string',
    base: 'openclaw.json',
    edit: (d) => (d.agents.entries.main = 'anthropic/claude-sonnet-4-6'),
  },
  { name: 'workspaceOnly a string', base: 'openclaw.json', edit: (d) => (d.tools.fs.workspaceOnly = 'true') },
  { name: 'commands.mcp a number', base: 'openclaw.json', edit: (d) => (d.commands.mcp = 1) },
  { name: 'mcp server args a string', base: 'openclaw.json', edit: (d) => (d.mcp.servers.filesystem.args = '-y') },
  { name: 'telegram.enabled a string', base: 'openclaw.json', edit: (d) => (d.channels.telegram.enabled = 'yes') },
  { name: 'gateway an array', base: 'openclaw.json', edit: (d) => (d.gateway = []) },
  // Out of range
  { name: 'gateway.port negative', base: 'openclaw.json', edit: (d) => (d.gateway.port = -1) },
  { name: 'gateway.port fractional', base: 'openclaw.json', edit: (d) => (d.gateway.port = 80.5) },
  // Unknown keys at strict objects
  { name: 'gateway.portt', base: 'openclaw.json', edit: (d) => (d.gateway.portt = 1) },
  { name: 'unknown top-level key', base: 'openclaw.json', edit: (d) => (d.telemetryy = {}) },
  { name: 'unknown key in discord', base: 'openclaw.json', edit: (d) => (d.channels.discord.enabledd = true) },
  { name: 'unknown key in tools.exec', base: 'openclaw.json', edit: (d) => (d.tools.exec.sudo = true) },
  {
    name: 'unknown key in an agent entry',
    base: 'openclaw.json',
    edit: (d) => (d.agents.entries.ops.superpowers = true),
  },
  // Bad enums
  { name: 'exec security everything', base: 'openclaw.json', edit: (d) => (d.tools.exec.security = 'everything') },
  { name: 'exec ask sometimes', base: 'openclaw.json', edit: (d) => (d.tools.exec.ask = 'sometimes') },
  {
    name: 'telegram dmPolicy whatever',
    base: 'openclaw.json',
    edit: (d) => (d.channels.telegram.dmPolicy = 'whatever'),
  },
  { name: 'gateway auth mode magic', base: 'openclaw.json', edit: (d) => (d.gateway.auth.mode = 'magic') },
  { name: 'gateway bind everywhere', base: 'openclaw.json', edit: (d) => (d.gateway.bind = 'everywhere') },
  { name: 'sandbox mode some', base: 'openclaw.json', edit: (d) => (d.agents.defaults.sandbox.mode = 'some') },
  { name: 'approvals exec mode bogus', base: 'openclaw.json', edit: (d) => (d.approvals.exec.mode = 'bogus') },
  { name: 'reload mode sometimes', base: 'openclaw.json', edit: (d) => (d.gateway.reload.mode = 'sometimes') },
  // Required keys removed
  { name: 'mcp server without command', base: 'openclaw.json', edit: (d) => delete d.mcp.servers.filesystem.command },
  { name: 'model without primary', base: 'openclaw.json', edit: (d) => delete d.agents.defaults.model.primary },
  // The legacy agents.list form
  { name: 'legacy unchanged', base: 'openclaw.legacy.json', edit: () => {} },
  {
    name: 'legacy list item thinking high',
    base: 'openclaw.legacy.json',
    edit: (d) => (d.agents.list[1].thinkingDefault = 'high'),
  },
  {
    name: 'legacy list item thinking a number',
    base: 'openclaw.legacy.json',
    edit: (d) => (d.agents.list[1].thinkingDefault = 42),
  },
  { name: 'legacy new list item', base: 'openclaw.legacy.json', edit: (d) => d.agents.list.push({ id: 'research' }) },
  {
    name: 'legacy list item unknown key',
    base: 'openclaw.legacy.json',
    edit: (d) => (d.agents.list[0].superpowers = true),
  },
  { name: 'legacy list item without id', base: 'openclaw.legacy.json', edit: (d) => delete d.agents.list[1].id },
  { name: 'legacy gateway.port a string', base: 'openclaw.legacy.json', edit: (d) => (d.gateway.port = 'eighty') },
];

export type Verdict = {
  name: string;
  base: string;
  document: JsonObject;
  valid: boolean;
  /** OpenClaw's own issues (dotted paths), for reading; the test compares only `valid`. */
  issues: { path: string; message: string }[];
};

const bin = process.env.OPENCLAW_BIN ?? '/opt/oc/node_modules/openclaw/openclaw.mjs';

function openclawVerdict(document: JsonObject): { valid: boolean; issues: Verdict['issues'] } {
  const home = mkdtempSync(join(tmpdir(), 'countersign-verdict-'));
  try {
    const file = join(home, 'openclaw.json');
    writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
    const result = spawnSync(process.execPath, [bin, 'config', 'validate', '--json'], {
      env: { ...process.env, HOME: home, OPENCLAW_STATE_DIR: home, OPENCLAW_CONFIG_PATH: file },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const output = JSON.parse(result.stdout) as { valid?: boolean; issues?: Verdict['issues'] };
    if (result.status === 0 && output.valid === true) return { valid: true, issues: [] };
    if (result.status === 1 && output.valid === false) {
      return { valid: false, issues: (output.issues ?? []).map(({ path, message }) => ({ path, message })) };
    }
    throw new Error(`unexpected answer (exit ${result.status}): ${result.stdout}${result.stderr}`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).stdout.trim();
const verdicts: Verdict[] = [];
for (const mutation of mutations) {
  const document = readJson(`${repoRoot}test/fixtures/${mutation.base}`);
  mutation.edit(document);
  const verdict = openclawVerdict(document);
  verdicts.push({ name: mutation.name, base: mutation.base, document, ...verdict });
  process.stdout.write(`${verdict.valid ? 'valid  ' : 'invalid'}  ${mutation.name}\n`);
}
const out = `${repoRoot}test/fixtures/openclaw-verdicts.json`;
writeFileSync(
  out,
  `${JSON.stringify(
    {
      $comment: `OpenClaw's own verdicts (\`openclaw config validate --json\`, ${version}) on mutated copies of openclaw.json and openclaw.legacy.json. Generated by bench/openclaw-verdicts.ts; do not edit by hand.`,
      openclaw: version,
      verdicts,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`${verdicts.length} verdicts written to ${out}\n`);
