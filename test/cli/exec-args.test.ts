/**
 * The pure part of `countersign exec` (src/cli/exec-args.ts): option parsing, exit codes, and
 * what exactly the wrapper starts for a plan.
 */
import { describe, expect, it } from 'vitest';
import {
  checkExitCode,
  childEnvironment,
  childExitCode,
  exitCodes,
  parseDuration,
  parseEnvOptions,
  signalExitCode,
  spawnTarget,
} from '../../src/cli/exec-args.js';
import { CliError } from '../../src/cli/io.js';

describe('exit codes', () => {
  it('passes the command code through and maps a signal N to 128+N', () => {
    expect(childExitCode(0, null)).toBe(0);
    expect(childExitCode(7, null)).toBe(7);
    expect(childExitCode(null, 'SIGINT')).toBe(130);
    expect(childExitCode(null, 'SIGTERM')).toBe(143);
    expect(childExitCode(null, 'SIGKILL')).toBe(137);
    expect(signalExitCode('SIGINT')).toBe(exitCodes.interrupted);
  });

  it('keeps countersign answers apart from command codes', () => {
    expect(exitCodes).toEqual({ failed: 125, denied: 126, notFound: 127, interrupted: 130 });
    expect(checkExitCode('allow')).toBe(0);
    expect(checkExitCode('ask')).toBe(1);
    expect(checkExitCode('deny')).toBe(126);
  });
});

describe('--env', () => {
  it('takes NAME from this environment, or NAME=VALUE as given (the value may hold "=")', () => {
    expect(parseEnvOptions(['HOME', 'MODE=a=b', 'EMPTY='], { HOME: '/home/me' })).toEqual({
      HOME: '/home/me',
      MODE: 'a=b',
      EMPTY: '',
    });
  });

  it('refuses a NAME that is not set here, and names that are not names', () => {
    expect(() => parseEnvOptions(['MISSING'], {})).toThrow(/not set/);
    expect(() => parseEnvOptions(['1BAD=x'], {})).toThrow(CliError);
    expect(() => parseEnvOptions(['A-B'], {})).toThrow(/a name is/);
    try {
      parseEnvOptions(['\u001b[2J'], {});
    } catch (error) {
      expect((error as CliError).message).toContain('\\x1b[2J');
      expect((error as CliError).exitCode).toBe(125);
    }
  });
});

describe('durations', () => {
  it('reads seconds and s/m/h/d', () => {
    expect(parseDuration('300', '--wait')).toBe(300);
    expect(parseDuration('0', '--wait')).toBe(0);
    expect(parseDuration('90s', '--wait')).toBe(90);
    expect(parseDuration('30m', '--for')).toBe(1800);
    expect(parseDuration('1h', '--for')).toBe(3600);
    expect(parseDuration('2d', '--for')).toBe(172_800);
  });

  it('refuses anything else', () => {
    for (const bad of ['', '-1', '1.5', '10x', 'm', '1e3', '1 h', '9999999999']) {
      expect(() => parseDuration(bad, '--for')).toThrow(CliError);
    }
  });
});

describe('what runs', () => {
  const executable = (segment: number, stage: number, resolvedPath: string | null) => ({
    segment,
    stage,
    resolvedPath,
    sha256: null,
  });

  it('an argv plan runs the executable the service resolved, with argv[0] as written', () => {
    expect(
      spawnTarget({
        argv: ['git', 'push', '--force'],
        commandText: null,
        executables: [executable(0, 0, '/usr/lib/git-core/git')],
      }),
    ).toEqual({ file: '/usr/lib/git-core/git', args: ['push', '--force'], argv0: 'git' });
    // Nothing resolved (security: full on a missing program): the name as planned.
    expect(spawnTarget({ argv: ['nope'], commandText: null, executables: [executable(0, 0, null)] })).toEqual({
      file: 'nope',
      args: [],
      argv0: 'nope',
    });
  });

  it('shell text runs with /bin/sh -c, exactly as planned', () => {
    expect(
      spawnTarget({ argv: null, commandText: 'make && make test', executables: [executable(0, 0, '/usr/bin/make')] }),
    ).toEqual({ file: '/bin/sh', args: ['-c', 'make && make test'], argv0: '/bin/sh' });
    expect(() => spawnTarget({ argv: null, commandText: null, executables: [] })).toThrow(CliError);
  });

  it("the child's environment is ours overlaid with the plan's; a redacted value is the one this wrapper sent", () => {
    const env = childEnvironment(
      { PATH: '/bin', KEEP: '1', MODE: 'old' },
      [
        { name: 'MODE', value: 'new' },
        { name: 'TOKEN', value: '[redacted]' },
      ],
      { TOKEN: 's3cret' },
    );
    expect(env).toEqual({ PATH: '/bin', KEEP: '1', MODE: 'new', TOKEN: 's3cret' });
  });
});
