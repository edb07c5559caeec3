import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assessRisk, compileRiskRules, RiskRulesError, skeleton } from '../../src/core/exec/risk.js';
import { shippedPolicy } from '../support/harness.js';

const riskFile = join(shippedPolicy, '..', 'exec-risk.json');
const shipped = JSON.parse(readFileSync(riskFile, 'utf8')) as Record<string, unknown>;
const rules = compileRiskRules(shipped);

const ids = (argv: string[], resolvedPath?: string) =>
  assessRisk(rules, argv, resolvedPath ? { resolvedPath } : {}).destructive.map((hit) => hit.ruleId);
const elevated = (argv: string[]) => assessRisk(rules, argv).elevated;

describe('the shipped policies/exec-risk.json', () => {
  it('validates, and every rule explains itself in a sentence', () => {
    for (const rule of rules.source.destructive) expect(rule.explain, rule.id).toMatch(/^[A-Z].* .* .*\.$/);
    expect(rules.source.elevated.explain).toMatch(/^[A-Z].* .* .*\.$/);
  });

  it('a malformed rule file is refused with the field named', () => {
    const bad = structuredClone(shipped) as { destructive: Record<string, unknown>[] };
    (bad.destructive[0] as Record<string, unknown>).args = { anyOf: [{ flag: 'r' }] };
    expect(() => compileRiskRules(bad)).toThrow(RiskRulesError);
    expect(() => compileRiskRules(bad)).toThrow(/destructive.*0.*args.*anyOf/s);
    const duplicate = structuredClone(shipped) as { destructive: unknown[] };
    duplicate.destructive.push(duplicate.destructive[0]);
    expect(() => compileRiskRules(duplicate)).toThrow(/duplicate rule id/);
    expect(() => compileRiskRules({ ...shipped, extra: true })).toThrow(RiskRulesError);
    const badRegex = structuredClone(shipped) as { destructive: Record<string, unknown>[] };
    (badRegex.destructive[0] as Record<string, unknown>).args = { anyOf: [{ argPattern: '(' }] };
    expect(() => compileRiskRules(badRegex)).toThrow(/not a valid regular expression/);
  });
});

describe('rm', () => {
  it('any flag order, clusters, long forms, abbreviations and =values', () => {
    for (const argv of [
      ['rm', '-rf', '/'],
      ['rm', '-fr', 'x'],
      ['rm', '-r', '-f', 'x'],
      ['rm', '-R', 'x'],
      ['rm', '-vrf', 'x'],
      ['rm', '--recursive', 'x'],
      ['rm', '--force', 'x'],
      ['rm', '--rec', 'x'],
      ['rm', 'x', '-rf'],
      ['/bin/rm', '-f', 'x'],
      ['rm', '--no-preserve-root', '-r', '/'],
    ]) {
      expect(ids(argv), argv.join(' ')).toContain('rm-recursive-or-force');
    }
  });

  it('plain rm of a file, and flags after `--` (file names), are not flagged', () => {
    expect(ids(['rm', 'notes.txt'])).toEqual([]);
    expect(ids(['rm', '-i', 'notes.txt'])).toEqual([]);
    expect(ids(['rm', '--', '-rf'])).toEqual([]);
  });

  it('a renamed or symlinked rm is judged by its real path', () => {
    expect(ids(['./cleanup', '-rf', 'x'], '/usr/bin/rm')).toContain('rm-recursive-or-force');
  });
});

describe('the destructive rules of SPEC §9', () => {
  const cases: [string[], string][] = [
    [['shred', '-u', 'secret.txt'], 'shred'],
    [['dd', 'if=/dev/zero', 'of=/dev/sda', 'bs=1M'], 'dd-write'],
    [['mkfs.ext4', '/dev/sdb1'], 'make-filesystem'],
    [['mkfs', '-t', 'xfs', '/dev/sdb1'], 'make-filesystem'],
    [['wipefs', '-a', '/dev/sdb'], 'wipe-disk-signatures'],
    [['git', 'push', '--force'], 'git-push-force'],
    [['git', 'push', '-f', 'origin', 'main'], 'git-push-force'],
    [['git', 'push', '--force-with-lease'], 'git-push-force'],
    [['git', 'push', '--force=true'], 'git-push-force'],
    [['git', 'push', 'origin', '+main'], 'git-push-force'],
    [['git', 'push', 'origin', ':main'], 'git-push-force'],
    [['git', '-C', '/repo', 'push', '-fu', 'origin', 'main'], 'git-push-force'],
    [['git', 'reset', '--hard', 'HEAD~3'], 'git-reset-hard'],
    [['git', 'clean', '-fdx'], 'git-clean-force'],
    [['kubectl', 'delete', 'pod', 'x'], 'kubectl-delete'],
    [['kubectl', '-n', 'prod', 'delete', 'ns', 'prod'], 'kubectl-delete'],
    [['terraform', 'destroy', '-auto-approve'], 'terraform-destroy'],
    [['terraform', 'apply', '-destroy'], 'terraform-destroy'],
    [['docker', 'rm', '-f', 'web'], 'docker-remove'],
    [['docker', 'rmi', 'img'], 'docker-remove'],
    [['docker', 'system', 'prune', '-a'], 'docker-remove'],
    [['docker', 'volume', 'prune'], 'docker-remove'],
    [['docker', 'compose', 'down', '-v'], 'docker-compose-down-volumes'],
    [['chmod', '-R', '777', '/'], 'recursive-permissions'],
    [['chown', '--recursive', 'me', '/srv'], 'recursive-permissions'],
    [['find', '.', '-name', '*.log', '-delete'], 'find-delete'],
    [['truncate', '-s', '0', 'db.sqlite'], 'truncate'],
    [['rsync', '-a', '--delete', 'src/', 'dst/'], 'rsync-delete'],
    [['crontab', '-r'], 'crontab-remove'],
    [['redis-cli', 'FLUSHALL'], 'redis-flush'],
    [['aws', 's3', 'rb', 's3://bucket', '--force'], 'cloud-delete'],
  ];
  for (const [argv, rule] of cases) {
    it(`${argv.join(' ')} → ${rule}`, () => {
      expect(ids(argv)).toContain(rule);
    });
  }

  const harmless: string[][] = [
    ['git', 'push'],
    ['git', 'push', 'origin', 'main'],
    ['git', 'status'],
    ['git', 'reset', 'HEAD', 'file'],
    ['git', 'clean', '-n'],
    ['git', 'log', '--format=%H'],
    ['kubectl', 'get', 'pods'],
    ['terraform', 'plan'],
    ['docker', 'ps'],
    ['docker', 'run', '--rm', 'alpine', 'true'],
    ['chmod', '644', 'file'],
    ['find', '.', '-name', '*.ts'],
    ['dd', 'if=/dev/zero', 'count=1'],
    ['ls', '-la'],
    ['echo', 'rm', '-rf', '/'],
    ['grep', '-r', 'rm -rf', '.'],
  ];
  for (const argv of harmless) {
    it(`${argv.join(' ')} is not destructive`, () => {
      expect(ids(argv)).toEqual([]);
      expect(elevated(argv)).toBe(false);
    });
  }
});

describe('elevated and wrappers', () => {
  it('sudo, doas, su, pkexec and run0 are elevated', () => {
    for (const program of ['sudo', 'doas', 'su', 'pkexec', 'run0', '/usr/bin/sudo']) {
      expect(elevated([program, 'id']), program).toBe(true);
    }
  });

  it('`sudo rm -rf /` is both elevated and destructive', () => {
    expect(assessRisk(rules, ['sudo', 'rm', '-rf', '/'])).toEqual({
      elevated: true,
      destructive: [{ ruleId: 'rm-recursive-or-force', explain: expect.stringMatching(/Deletes files/) }],
    });
  });

  it('looks through wrappers and carriers, however they are stacked', () => {
    const wrapped: string[][] = [
      ['sudo', '-u', 'root', 'rm', '-rf', '/'],
      ['doas', 'rm', '-rf', '/'],
      ['pkexec', '--user', 'root', 'rm', '-rf', '/'],
      ['run0', '--unit=x', 'rm', '-rf', '/'],
      ['su', '-c', 'rm -rf /', 'root'],
      ['env', 'A=1', 'nice', '-n', '5', 'timeout', '10', 'rm', '-rf', '/'],
      ['bash', '-c', 'cd /srv && rm -rf data'],
      ['sh', '-c', "echo hi; 'rm' -rf /"],
      ['xargs', 'rm', '-rf'],
      ['find', '/', '-exec', 'rm', '-rf', '{}', ';'],
      ['nohup', 'sudo', 'bash', '-c', 'git push --force'],
    ];
    for (const argv of wrapped) expect(ids(argv).length, argv.join(' ')).toBeGreaterThan(0);
    expect(elevated(['env', 'sudo', 'id'])).toBe(true);
    expect(elevated(['bash', '-c', 'sudo id'])).toBe(true);
    expect(elevated(['xargs', 'doas', 'id'])).toBe(true);
  });

  it('unicode look-alikes of sudo and rm count as the real thing', () => {
    expect(skeleton('ѕudo')).toBe('sudo');
    expect(skeleton('ＳＵＤＯ')).toBe('sudo');
    expect(skeleton('su\u200bdo')).toBe('sudo');
    expect(elevated(['ѕudo', 'id'])).toBe(true);
    expect(elevated(['ｓｕｄｏ', 'id'])).toBe(true);
    expect(ids(['гm', '-rf', '/'])).toContain('rm-recursive-or-force');
    expect(elevated(['bash', '-c', 'ѕudo id'])).toBe(true);
  });

  it('a command too large or deep to read completely is treated as destructive', () => {
    const deep = Array.from({ length: 20 }, () => 'nice').concat(['true']);
    expect(ids(deep)).toContain('too-complex');
    const wide = ['bash', '-c', Array.from({ length: 10_000 }, () => 'rm').join(' ')];
    const started = performance.now();
    expect(ids(wide)).toContain('too-complex');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('never throws and stays fast on hostile argv', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 30 }), (argv) => {
        const result = assessRisk(rules, argv);
        expect(typeof result.elevated).toBe('boolean');
      }),
    );
    const huge = ['rm', 'x'.repeat(1_000_000)];
    expect(ids(huge)).toEqual([]);
  });

  it('adding sudo in front never removes a destructive flag (monotone)', () => {
    const argvs = fc.constantFrom(
      ['rm', '-rf', 'x'],
      ['git', 'push', '-f'],
      ['ls'],
      ['docker', 'rmi', 'x'],
      ['chmod', '-R', 'a', 'b'],
    );
    fc.assert(
      fc.property(argvs, fc.constantFrom('sudo', 'doas', 'nice', 'env', 'nohup'), (argv, wrapper) => {
        const plain = ids(argv);
        const wrapped = ids([wrapper, ...argv]);
        for (const id of plain) expect(wrapped).toContain(id);
      }),
    );
  });
});
