/**
 * The OpenClaw schema as a user meets it: attached by `init` unless `--schema none`, used by
 * `serve`, and replaced by `countersign schema refresh --from-openclaw`. The "openclaw" here is a
 * real executable standing in for the installed one (the live suite, test/openclaw, runs the real
 * OpenClaw's): it prints what `openclaw config schema` would, or fails the way a broken one does.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Ctx, cli, cliOk, http, init, repoRoot, serve, tempDir } from './cli.js';

const shippedSchema = join(repoRoot, 'schemas', 'openclaw-2026.9.schema.json');

type Settings = { targets: { name: string; schema: string | null }[] };
const settings = (dataDir: string) => JSON.parse(readFileSync(join(dataDir, 'countersign.json'), 'utf8')) as Settings;
const openclawTarget = (dataDir: string) => settings(dataDir).targets.find((target) => target.name === 'openclaw');

/** An executable `openclaw` whose `config schema` prints `output` (and exits `code`). */
function fakeOpenclaw(t: Ctx, output: string, code = 0): string {
  const dir = tempDir(t, 'countersign-openclaw-');
  const printed = join(dir, 'printed');
  writeFileSync(printed, output);
  const bin = join(dir, 'openclaw');
  writeFileSync(
    bin,
    `#!/bin/sh\n[ "$1 $2" = "config schema" ] || { echo "unexpected: $*" >&2; exit 2; }\ncat '${printed}'\n${code === 0 ? '' : `echo 'Error: config schema failed' >&2\n`}exit ${code}\n`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

/** The shipped schema with gateway.port made a string: a schema that is told apart from the shipped one by what it refuses. */
function schemaWithStringPort(): string {
  const schema = JSON.parse(readFileSync(shippedSchema, 'utf8'));
  schema.properties.gateway.properties.port = { type: 'string' };
  return JSON.stringify(schema);
}

async function proposePort(url: string, agentToken: string, port: unknown) {
  const read = await http<{ hash: string }>({ url }, 'GET', '/v1/config', agentToken);
  return http<{ status?: string; error?: { code: string; issues?: { path: string }[] } }>(
    { url },
    'POST',
    '/v1/proposals',
    agentToken,
    { baseHash: read.body.hash, patch: { gateway: { port } } },
  );
}

describe('the shipped OpenClaw schema is attached by default', () => {
  it('init attaches it, serve validates with it, and --schema none opts out', async (t) => {
    const installed = await init(join(tempDir(t), 'data'));
    expect(openclawTarget(installed.dataDir)?.schema).toBe(shippedSchema);
    const server = await serve(t, installed.dataDir);
    const refused = await proposePort(server.url, installed.agentToken, 'eighty');
    expect(refused.status).toBe(422);
    expect(refused.body.error?.code).toBe('invalid_config');
    expect(refused.body.error?.issues).toEqual([{ path: '/gateway/port', message: 'must be integer' }]);

    const none = await init(join(tempDir(t), 'data'), ['--schema', 'none']);
    expect(openclawTarget(none.dataDir)?.schema).toBeNull();
  });

  it('init refuses a document the schema already fails, saying how to opt out, and creates nothing', async (t) => {
    const dir = tempDir(t);
    const config = join(dir, 'openclaw.json');
    writeFileSync(config, JSON.stringify({ gateway: { port: 'eighty' } }));
    const result = await cli(['init', '--data', join(dir, 'data'), '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/gateway/port: must be integer');
    expect(result.stderr).toContain('--schema none');
    const again = await cli(['init', '--data', join(dir, 'data'), '--config', config, '--schema', 'none', '--json']);
    expect(again.code).toBe(0);
  });
});

describe('countersign schema refresh --from-openclaw', () => {
  it("stores the installed OpenClaw's schema in the data directory and serve uses it after a restart", async (t) => {
    const installed = await init(join(tempDir(t), 'data'));
    const bin = fakeOpenclaw(t, schemaWithStringPort());
    const { stdout } = await cliOk([
      'schema',
      'refresh',
      '--from-openclaw',
      '--openclaw-bin',
      bin,
      '--data',
      installed.dataDir,
      '--json',
    ]);
    const stored = JSON.parse(stdout);
    expect(stored).toMatchObject({
      target: 'openclaw',
      file: join(installed.dataDir, 'openclaw.schema.json'),
      previous: shippedSchema,
      restartNeeded: true,
      source: bin,
    });
    expect(stored.sha256).toMatch(/^[0-9a-f]{64}$/);
    // The demo document's integer port fails the new schema: said, not hidden.
    expect(stored.documentIssues).toEqual([{ path: '/gateway/port', message: 'must be string' }]);
    expect(openclawTarget(installed.dataDir)?.schema).toBe('openclaw.schema.json');
    expect(JSON.parse(readFileSync(stored.file, 'utf8')).properties.gateway.properties.port).toEqual({
      type: 'string',
    });

    const server = await serve(t, installed.dataDir);
    const refused = await proposePort(server.url, installed.agentToken, 18790);
    expect(refused.status).toBe(422);
    expect(refused.body.error?.issues?.[0]?.path).toBe('/gateway/port');
  });

  it('changes nothing when openclaw fails, prints something other than a schema, or a schema that cannot be used', async (t) => {
    const installed = await init(join(tempDir(t), 'data'));
    const before = readFileSync(join(installed.dataDir, 'countersign.json'), 'utf8');
    const cases: [string, number, string][] = [
      ['', 1, 'config schema failed'],
      ['Config schema:\n{ "type": "object" }', 0, 'not JSON'],
      ['{"gateway": {"port": 1}}', 0, 'not a JSON Schema'],
      ['[1, 2]', 0, 'not a JSON Schema'],
      ['{"type": "object", "properties": {"a": {"$ref": "#/$defs/gone"}}}', 0, 'does not define'],
    ];
    for (const [output, code, reason] of cases) {
      const result = await cli([
        'schema',
        'refresh',
        '--from-openclaw',
        '--openclaw-bin',
        fakeOpenclaw(t, output, code),
        '--data',
        installed.dataDir,
        '--json',
      ]);
      expect(result.code, output).toBe(1);
      expect(JSON.parse(result.stdout).error.message).toContain(reason);
      expect(readFileSync(join(installed.dataDir, 'countersign.json'), 'utf8')).toBe(before);
    }
    const missing = await cli([
      'schema',
      'refresh',
      '--from-openclaw',
      '--openclaw-bin',
      join(tempDir(t), 'no-such-openclaw'),
      '--data',
      installed.dataDir,
      '--json',
    ]);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ code: 'openclaw_failed' });
  });

  it('refuses the exec approvals target and a target that does not exist', async (t) => {
    const installed = await init(join(tempDir(t), 'data'));
    const bin = fakeOpenclaw(t, readFileSync(shippedSchema, 'utf8'));
    for (const [target, reason] of [
      ['exec-approvals', 'exec approvals'],
      ['nope', 'No target "nope"'],
    ]) {
      const result = await cli([
        'schema',
        'refresh',
        '--from-openclaw',
        '--openclaw-bin',
        bin,
        '--target',
        target as string,
        '--data',
        installed.dataDir,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(reason);
    }
  });
});
