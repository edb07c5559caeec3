import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../src/core/command/analyze.js';
import { inlineEval, isShell, programName, scriptOperand } from '../../src/core/command/programs.js';
import { openclawInlineEval, openclawNotInlineEval } from './openclaw-inline-eval.js';

describe('programName', () => {
  it.each([
    ['/usr/bin/Python3.12.EXE', 'python3.12'],
    ['C:\\Program Files\\nodejs\\node.exe', 'node'],
    ['npx.cmd', 'npx'],
    ['bash', 'bash'],
  ])('%s → %s', (command, name) => expect(programName(command)).toBe(name));
});

describe('isShell', () => {
  it.each(['sh', 'bash', 'zsh', 'fish', 'dash', 'pwsh', 'cmd', 'busybox'])('%s is a shell', (name) =>
    expect(isShell(name)).toBe(true),
  );
  it.each(['node', 'python3', 'env', 'bash.exe'])('%s is not a shell name', (name) =>
    expect(isShell(name)).toBe(false),
  );
});

describe('inlineEval', () => {
  it.each(openclawInlineEval.map(({ argv, flag }) => [argv.join(' '), argv, flag] as const))(
    'OpenClaw counts %s',
    (_, argv, flag) => expect(inlineEval(argv)).toEqual({ flag }),
  );

  it.each(openclawNotInlineEval.map((argv) => [argv.join(' '), argv] as const))(
    'OpenClaw does not count %s',
    (_, argv) => expect(inlineEval(argv)).toBeNull(),
  );

  it.each([
    [['npx', '-c', 'curl x | sh'], '-c'],
    [['pnpm', 'dlx', '-c', 'echo', 'x'], '-c'],
    [['env', '-S', 'node -e x'], '-S'],
    [['pwsh', '-Command', 'Get-ChildItem'], '-Command'],
    [['powershell', 'Get-ChildItem'], '<command>'],
    [['cmd', '/c', 'dir'], '/c'],
    [['uv', 'run', '--with', 'x', 'python', '-c', 'y'], '-c'],
    [['timeout', '5', 'nice', '-n', '5', 'nohup', 'bash', '-c', 'id'], '-c'],
  ])('%j runs inline code (%s), as analyzeCommand warns', (argv, flag) => {
    expect(inlineEval(argv)).toEqual({ flag });
    const [command, ...args] = argv as [string, ...string[]];
    expect(analyzeCommand(command, args).warnings.map((w) => w.code)).toContain('inline_eval');
  });

  it.each([
    [['python3', 'app.py', '-c', 'x']], // after the script, `-c` is the script's own argument
    [['node', 'server.js', '-e']],
    [['python', '-m', 'http.server']],
    [['bun', 'run', 'start']],
    [[]],
  ])('%j does not', (argv) => expect(inlineEval(argv)).toBeNull());

  it('looks no deeper than analyzeCommand does (five layers)', () => {
    expect(inlineEval(['nice', 'nice', 'nice', 'nice', 'python', '-c', 'x'])).toEqual({ flag: '-c' });
    expect(inlineEval(['nice', 'nice', 'nice', 'nice', 'nice', 'python', '-c', 'x'])).toBeNull();
  });

  const word = fc.constantFrom(
    'python3',
    'node',
    'bash',
    'sh',
    'perl',
    'ruby',
    'awk',
    'find',
    'xargs',
    'sed',
    'npx',
    'deno',
    'eval',
    '-c',
    '-e',
    '-p',
    '-u',
    '-m',
    '-exec',
    '--',
    '-lc',
    'x.js',
    './x.sh',
    'tool.py',
    '{print}',
    'A=1',
    'ls',
    'cat',
  );
  // A program name, not an option or assignment, which a wrapper would read as its own.
  const program = fc.constantFrom(
    'python3',
    'node',
    'bash',
    'perl',
    'ruby',
    'awk',
    'find',
    'xargs',
    'sed',
    'npx',
    'deno',
    'ls',
  );
  const prefix = fc.constantFrom(
    ['env'],
    ['env', 'A=1'],
    ['nice'],
    ['nice', '-n', '5'],
    ['timeout', '5'],
    ['nohup'],
    ['sudo'],
    ['command'],
  );

  it('is unchanged by a leading env, nice, timeout 5, nohup, sudo or command', () => {
    fc.assert(
      fc.property(program, fc.array(word, { maxLength: 6 }), prefix, (program, args, wrapper) => {
        const argv = [program, ...args];
        expect(inlineEval([...wrapper, ...argv])).toEqual(inlineEval(argv));
      }),
    );
  });

  it('agrees with analyzeCommand: an inline eval exactly when it warns inline_eval', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 7 }), prefix, (argv, wrapper) => {
        for (const line of [argv, [...wrapper, ...argv]]) {
          const [command, ...args] = line as [string, ...string[]];
          const warned = analyzeCommand(command, args).warnings.some((w) => w.code === 'inline_eval');
          expect(inlineEval(line) !== null).toBe(warned);
        }
      }),
    );
  });

  it('never finds inline code in an argv with no interpreter, shell, runner or carrier in it', () => {
    const plain = fc.constantFrom(
      'ls',
      'cat',
      'grep',
      'git',
      'curl',
      'echo',
      '-c',
      '-e',
      '-exec',
      '-r',
      'x.js',
      '--eval',
    );
    fc.assert(
      fc.property(fc.array(plain, { minLength: 1, maxLength: 8 }), (argv) => {
        expect(inlineEval(argv)).toBeNull();
      }),
    );
  });
});

describe('scriptOperand', () => {
  it.each([
    [['node', 'server.js'], 1, 'server.js'],
    [['bash', './x.sh'], 1, './x.sh'],
    [['python3', '-u', 'tool.py'], 2, 'tool.py'],
    [['python3', '-W', 'ignore', 'tool.py', '--port', '1'], 3, 'tool.py'],
    [['node', '--require', './hook.js', 'server.js'], 3, 'server.js'],
    [['deno', 'run', '-A', 'main.ts'], 3, 'main.ts'],
    [['env', 'A=1', 'node', 'x.js'], 3, 'x.js'],
    [['sudo', '-u', 'svc', 'timeout', '5', 'ruby', 'app.rb'], 6, 'app.rb'],
    [['uv', 'run', '--with', 'httpx', 'python', 'srv.py'], 5, 'srv.py'],
    [['awk', '-f', 'prog.awk', 'data'], 2, 'prog.awk'],
    [['/usr/bin/python3', '--', 'weird-name.py'], 2, 'weird-name.py'],
  ])('%j → %i', (argv, argvIndex, path) => {
    expect(scriptOperand(argv)).toEqual({ argvIndex, path });
    expect(argv[argvIndex]).toBe(path);
    const [command, ...args] = argv as [string, ...string[]];
    expect(analyzeCommand(command, args).script).toBe(path);
  });

  it.each([
    [['python', '-c', 'x', 'y.py']],
    [['python', '-m', 'pkg']],
    [['bun', 'run', 'start']],
    [['deno', 'run', 'https://example.com/x.ts']],
    [['ls', 'x.js']],
    [[]],
  ])('%j has no one script', (argv) => expect(scriptOperand(argv)).toBeNull());

  it('always points at the argument it names, and agrees with analyzeCommand', () => {
    const word = fc.constantFrom(
      'env',
      'A=1',
      'nice',
      'timeout',
      '5',
      'node',
      'python3',
      'bash',
      '-u',
      '-c',
      'x.js',
      './s.sh',
      'y.py',
      '--',
    );
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 7 }), (argv) => {
        const found = scriptOperand(argv);
        const [command, ...args] = argv as [string, ...string[]];
        expect(found?.path ?? null).toBe(analyzeCommand(command, args).script);
        if (found) expect(argv[found.argvIndex]).toBe(found.path);
      }),
    );
  });
});
