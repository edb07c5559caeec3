import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReview, changedServers, pinDifference, probeRequest } from '../../src/core/mcp-review.js';
import { locate, probeServer } from '../../src/mcp/probe.js';
import { tempDir } from '../support/harness.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function script(path: string, body = 'echo hello', mode = 0o755): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

/** The full review of one server, probed for real with the given environment. */
function reviewOf(entry: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()) {
  const [change] = changedServers({}, { mcp: { servers: { s: entry as never } } });
  if (!change) throw new Error('no change');
  const request = probeRequest(change.entry);
  const facts = request ? probeServer(request, env, baseDir) : null;
  return { review: buildReview(change, facts), facts };
}

const warningCodes = (review: { warnings: Array<{ code: string }> }) => review.warnings.map((w) => w.code);

describe('the review looks at the real files', () => {
  it('a temp executable script: resolved, executable, hashed, nothing to warn about', () => {
    const dir = tempDir();
    const program = script(join(dir, 'server'));
    const { review } = reviewOf({ command: program, args: ['--port', '1'] });
    expect(review).toMatchObject({
      transport: 'stdio',
      command: program,
      resolvedPath: realpathSync(program),
      absolute: true,
      exists: true,
      executable: true,
      sha256: sha(program),
      provenance: null,
      warnings: [],
    });
  });

  it('a world-writable program, or one in a world-writable directory, can be swapped: world_writable', () => {
    const dir = tempDir();
    const program = script(join(dir, 'server'), 'echo hi', 0o777);
    expect(warningCodes(reviewOf({ command: program }).review)).toEqual(['world_writable']);

    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const inOpen = script(join(open, 'server'));
    const { review } = reviewOf({ command: inOpen });
    expect(review.warnings).toEqual([
      expect.objectContaining({ code: 'world_writable', message: expect.stringContaining(realpathSync(open)) }),
    ]);

    // Sticky (like /tmp): others cannot replace a file they do not own.
    chmodSync(open, 0o1777);
    expect(reviewOf({ command: inOpen }).review.warnings).toEqual([]);
  });

  it('a missing program: executable_missing, nothing hashed', () => {
    const dir = tempDir();
    const { review } = reviewOf({ command: join(dir, 'nope') });
    expect(review).toMatchObject({ exists: false, executable: false, sha256: null, resolvedPath: null });
    expect(warningCodes(review)).toEqual(['executable_missing']);
  });

  it('a file without the execute bit, and a directory: not_executable', () => {
    const dir = tempDir();
    const plain = script(join(dir, 'server'), 'echo', 0o644);
    const { review } = reviewOf({ command: plain });
    expect(review).toMatchObject({ exists: true, executable: false, sha256: sha(plain) });
    expect(warningCodes(review)).toEqual(['not_executable']);
    expect(warningCodes(reviewOf({ command: dir }).review)).toEqual(['not_executable']);
  });

  it('a symlink is followed: the card shows and pins the file it points to', () => {
    const dir = tempDir();
    const real = script(join(dir, 'real-server'));
    const link = join(dir, 'server');
    symlinkSync(real, link);
    const { review } = reviewOf({ command: link });
    expect(review).toMatchObject({ resolvedPath: realpathSync(real), sha256: sha(real), exists: true, warnings: [] });

    const dangling = join(dir, 'dangling');
    symlinkSync(join(dir, 'gone'), dangling);
    expect(warningCodes(reviewOf({ command: dangling }).review)).toEqual(['executable_missing']);
  });

  it('a bare name is looked up on the service PATH: path_resolved, first executable match wins', () => {
    const first = tempDir();
    const second = tempDir();
    script(join(first, 'acme-mcp'), 'echo no', 0o644); // on PATH first, but not executable
    const program = script(join(second, 'acme-mcp'));
    const env = { PATH: [first, second].join(':') };
    const { review, facts } = reviewOf({ command: 'acme-mcp' }, env);
    expect(facts?.executable.path).toBe(program);
    expect(review).toMatchObject({ absolute: false, resolvedPath: realpathSync(program), sha256: sha(program) });
    expect(warningCodes(review)).toEqual(['path_resolved']);
    expect(review.warnings[0]?.message).toContain(program);

    expect(warningCodes(reviewOf({ command: 'acme-mcp' }, { PATH: '/nonexistent' }).review)).toEqual([
      'executable_missing',
    ]);
    expect(locate('acme-mcp', { PATH: first }, '/')).toMatchObject({ path: join(first, 'acme-mcp'), viaPath: true });
  });

  it('a relative command is resolved against its cwd: relative_command', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'bin'));
    const program = script(join(dir, 'bin', 'server'));
    const { review } = reviewOf({ command: './bin/server', cwd: dir });
    expect(review).toMatchObject({ resolvedPath: realpathSync(program), absolute: false });
    expect(warningCodes(review)).toEqual(['relative_command']);
  });

  it('a working directory that does not exist: cwd_missing', () => {
    const dir = tempDir();
    const program = script(join(dir, 'server'));
    expect(warningCodes(reviewOf({ command: program, cwd: join(dir, 'missing') }).review)).toEqual(['cwd_missing']);
  });

  it('a program inside node_modules: provenance from the nearest package.json', () => {
    const dir = tempDir();
    const pkg = join(dir, 'node_modules', '@acme', 'mcp-tools');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@acme/mcp-tools', version: '1.4.2' }));
    writeFileSync(join(pkg, 'dist', 'package.json'), JSON.stringify({ type: 'module' })); // nameless: keep climbing
    const program = script(join(pkg, 'dist', 'cli.js'));
    mkdirSync(join(dir, 'node_modules', '.bin'));
    const bin = join(dir, 'node_modules', '.bin', 'acme-mcp');
    symlinkSync('../@acme/mcp-tools/dist/cli.js', bin);
    const { review } = reviewOf({ command: bin });
    expect(review.resolvedPath).toBe(realpathSync(program));
    expect(review.provenance).toEqual({
      ecosystem: 'npm',
      via: 'node_modules',
      package: '@acme/mcp-tools',
      version: '1.4.2',
      pinned: true,
      packageJson: realpathSync(join(pkg, 'package.json')),
    });
  });

  it('an interpreter and its script: both are resolved and hashed', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'server.mjs'), 'console.log(1)\n');
    const { review } = reviewOf({ command: process.execPath, args: ['server.mjs'], cwd: dir });
    expect(review.sha256).toBe(sha(realpathSync(process.execPath)));
    expect(review.script).toEqual({
      path: 'server.mjs',
      resolvedPath: realpathSync(join(dir, 'server.mjs')),
      exists: true,
      sha256: sha(join(dir, 'server.mjs')),
    });
    const missing = reviewOf({ command: process.execPath, args: ['gone.mjs'], cwd: dir }).review;
    expect(missing.script).toMatchObject({ exists: false, sha256: null });
    expect(warningCodes(missing)).toEqual(['executable_missing']);
  });

  it('the real npx on this machine: resolved through PATH, package pinned from the arguments', () => {
    const found = locate('npx', process.env, process.cwd());
    expect(found.path, 'npx is on PATH wherever Node is installed with npm').not.toBeNull();
    const { review } = reviewOf({
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-filesystem@2026.8.31', '/srv'],
    });
    expect(review).toMatchObject({
      resolvedPath: realpathSync(found.path as string),
      exists: true,
      executable: true,
      sha256: sha(realpathSync(found.path as string)),
      provenance: {
        ecosystem: 'npm',
        via: 'npx',
        package: '@modelcontextprotocol/server-filesystem',
        version: '2026.8.31',
        pinned: true,
        packageJson: null,
      },
    });
    expect(warningCodes(review)).toEqual(['path_resolved']);
    const latest = reviewOf({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@latest'] }).review;
    expect(warningCodes(latest)).toEqual(['path_resolved', 'unpinned_package']);
  });
});

describe('pins', () => {
  it('the same file passes; new bytes, a new target or a file that appeared later do not', () => {
    const dir = tempDir();
    const program = script(join(dir, 'server'));
    const first = reviewOf({ command: program });
    expect(pinDifference(first.review, reviewOf({ command: program }).facts)).toBeNull();

    script(program, 'echo pwned');
    expect(pinDifference(first.review, reviewOf({ command: program }).facts)).toMatch(/sha256/);

    const link = join(dir, 'link');
    symlinkSync(program, link);
    const linked = reviewOf({ command: link });
    symlinkSync(script(join(dir, 'other')), join(dir, 'link2'));
    expect(pinDifference(linked.review, reviewOf({ command: join(dir, 'link2') }).facts)).toMatch(/resolves to/);

    const absent = reviewOf({ command: join(dir, 'later') });
    script(join(dir, 'later'));
    expect(pinDifference(absent.review, reviewOf({ command: join(dir, 'later') }).facts)).toMatch(/resolves to/);
  });

  it('remote servers and removals pin nothing', () => {
    const remote = reviewOf({ url: 'https://mcp.example' });
    expect(remote.facts).toBeNull();
    expect(pinDifference(remote.review, null)).toBeNull();
  });
});
