// The README's worked example, run as written: its `sh` blocks go through bash against a fresh
// `npm start` (serve --data ./data --init), then the owner steps of its transcript run for real
// and the audit listing it shows is compared with the one a fresh install really produces.
// If the README drifts from the product, this fails.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk, cliPath, e2eTimeout, ownerEnv, repoRoot, serve, tempDir, totpCode } from './cli.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** The text of a `## ` section, up to the next one. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}`);
  if (start < 0) throw new Error(`README has no section "## ${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

function fencedBlocks(text: string, language: string): string[] {
  const blocks: string[] = [];
  const fence = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g');
  for (const match of text.matchAll(fence)) blocks.push(match[1] as string);
  return blocks;
}

/**
 * Runs a script in bash from `cwd`; `npx countersign …` is the checkout's CLI (what `npx` finds
 * there), so the README's commands run unchanged from a directory outside the checkout.
 */
function bash(script: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const prelude = [
    'set -euo pipefail',
    `npx() { if [ "$1" = countersign ]; then shift; node ${JSON.stringify(cliPath)} "$@"; else command npx "$@"; fi; }`,
  ].join('\n');
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const key of Object.keys(env)) if (key.startsWith('COUNTERSIGN_')) delete env[key];
    const child = spawn('bash', ['-c', `${prelude}\n${script}`], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

type AuditRow = { seq: number; kind: string; actor: string };

/** `countersign audit` lines: seq, time, kind, actor, … */
function auditRows(text: string): AuditRow[] {
  const rows: AuditRow[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s+(\d+)\s+\d{4}-\d\d-\d\dT\S+\s+(\S+)\s+(\S+)/.exec(line);
    if (match) rows.push({ seq: Number(match[1]), kind: match[2] as string, actor: match[3] as string });
  }
  return rows;
}

describe('README: quick start', { timeout: e2eTimeout }, () => {
  it('what it shows `npm start` printing is what serve --data ./data --init prints', async (t) => {
    const quickStart = section('Quick start');
    expect(quickStart).toContain('`npm start` runs `countersign serve --data ./data --init`');
    const [shown] = fencedBlocks(quickStart, 'text');
    expect(shown).toBeTruthy();
    const server = await serve(t, join(tempDir(t), 'data'), ['--init']);
    const printed = new Set(server.stdout().split('\n'));
    for (const line of (shown as string).split('\n')) {
      if (line === '' || line.includes('…')) continue;
      expect(printed, line).toContain(line.replaceAll('http://127.0.0.1:7070', server.url));
    }
    // "npm start -- --port 7171": everything after -- goes to serve, which takes --port.
    expect(quickStart).toContain('npm start -- --port 7171');
    const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(packageJson.scripts.start).toBe('node dist/cli/main.js serve --data ./data --init');
  });
});

describe('README: worked example', { timeout: e2eTimeout * 2 }, () => {
  const example = section('Worked example: the owner asks the agent to enable MCP');
  const shell = fencedBlocks(example, 'sh');
  const transcript = fencedBlocks(example, 'text').join('\n');

  it('has the blocks this test runs', () => {
    expect(shell.length).toBe(2);
    expect(transcript).toContain('$ npx countersign pending');
    expect(transcript).toContain('$ npx countersign audit --data ./data');
  });

  it('works from where the quick start leaves a user', async (t) => {
    const cwd = tempDir(t);
    // `npm start` is `countersign serve --data ./data --init`; the test needs a free port.
    const server = await serve(t, join(cwd, 'data'), ['--init']);
    const script = shell.map((block) => block.replaceAll('http://127.0.0.1:7070', server.url)).join('\n');
    const run = await bash(`${script}\necho\necho "::owner=$COUNTERSIGN_TOKEN"\necho "::agent=$AGENT"`, cwd);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);

    const owner = /^::owner=(\S+)$/m.exec(run.stdout)?.[1] ?? '';
    const agent = /^::agent=(\S+)$/m.exec(run.stdout)?.[1] ?? '';
    expect(owner, run.stdout).toMatch(/^cs_owner_/);
    expect(agent).toMatch(/^cs_agent_/);
    const secret = /enter the secret by hand: (\S+)/.exec(run.stdout)?.[1];
    expect(secret, run.stdout).toBeTruthy();
    const answer = run.stdout.split('\n').find((line) => line.startsWith('{"status"'));
    expect(answer, run.stdout).toBeTruthy();
    const proposed = JSON.parse(answer as string) as {
      status: string;
      proposal: { id: string; tier: string; approval: { confirmPhrase: string } };
    };
    expect(proposed.status).toBe('pending');
    expect(proposed.proposal.tier).toBe('dangerous');
    const { id, approval } = proposed.proposal;

    // The transcript's owner steps, with the exported variables the first block set.
    const env = ownerEnv(server, owner);
    const pending = await cliOk(['pending'], { env });
    expect(pending.stdout).toMatch(new RegExp(`${id}\\s+dangerous\\s+main\\s+.*commands\\.mcp`));
    // "Non-interactively: countersign approve ID --confirm "apply …" --totp 123456"
    expect(example).toMatch(/countersign approve ID --confirm "apply \d{8}" --totp \d{6}/);
    const approved = await cliOk(
      ['approve', id, '--confirm', approval.confirmPhrase, '--totp', totpCode(secret as string)],
      { env },
    );
    expect(approved.stdout).toContain('Changes:');
    expect(approved.stdout).toContain('  [dangerous] replace commands.mcp');
    expect(approved.stdout).toMatch(/Applied\. Document is now hmac-sha256:\w+/);
    // Every line of the card the README shows (ids, times and cut lines aside) is printed as shown.
    const card = transcript.slice(
      transcript.indexOf('$ npx countersign approve'),
      transcript.indexOf('This is a dangerous change.'),
    );
    const printed = new Set(approved.stdout.split('\n'));
    const phrase = /"(apply \d{8})"/.exec(card)?.[1] as string;
    for (const line of card.split('\n').slice(1)) {
      if (line === '' || line.includes('…') || /\d{4}-\d\d-\d\dT/.test(line) || line.startsWith('Proposal ')) continue;
      expect(printed, line).toContain(line.replace(phrase, approval.confirmPhrase));
    }

    // The audit listing as the README shows it: the same events, in the same order.
    const audit = await cliOk(['audit', '--data', join(cwd, 'data')]);
    const shown = auditRows(transcript.slice(transcript.indexOf('$ npx countersign audit --data ./data')));
    expect(shown.length).toBeGreaterThan(0);
    expect(auditRows(audit.stdout)).toEqual(shown);
    const verify = await cliOk(['audit', 'verify', '--data', join(cwd, 'data')]);
    const count = /Audit chain intact: (\d+) events/.exec(transcript)?.[1];
    expect(verify.stdout).toContain(`Audit chain intact: ${count} events`);
  });
});
