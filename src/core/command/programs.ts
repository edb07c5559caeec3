import { packageRunner, readRunner } from './packages.js';

/**
 * Reading a command line the way an attentive owner would: which program really runs, and which
 * arguments turn it into "run whatever this string says". Shared by MCP review (SPEC §7, through
 * analyze.ts) and exec approvals (SPEC §9), so both judge one command line the same way. Pure:
 * it sees strings only; src/mcp/probe.ts and the exec service look at the files.
 */

/** `/usr/bin/Python3.12.EXE` → `python3.12`: the name that decides how arguments are read. */
export function programName(command: string): string {
  const base = command.split(/[\\/]/).pop() ?? command;
  return base.toLowerCase().replace(/\.(exe|cmd|bat|com)$/, '');
}

const shells = new Set([
  'sh',
  'bash',
  'zsh',
  'fish',
  'dash',
  'ksh',
  'mksh',
  'ash',
  'csh',
  'tcsh',
  'busybox',
  'cmd',
  'powershell',
  'pwsh',
]);
const posixShells = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'csh', 'tcsh']);
const pythonNames = /^(python|pypy)(\d+(\.\d+)?)?$/;

/** Whether `name` (a `programName`) is a shell: what it runs is decided by its arguments, not by a program. */
export function isShell(name: string): boolean {
  return shells.has(name);
}

function isPython(name: string): boolean {
  return pythonNames.test(name);
}

/**
 * Whether `arg`, among this interpreter's own options, makes it run the string that follows
 * instead of a file. The joined forms (`python -cCODE`, `perl -eCODE`, `php -rCODE`, …) and the
 * extra flags follow OpenClaw's strictInlineEval list (see test/command/openclaw-inline-eval.ts).
 */
function isInlineFlag(name: string, arg: string): boolean {
  if (isPython(name)) return /^-[A-Za-z]*c$/.test(arg) || /^-[BEIOPRSbdiqsuvx]*c./s.test(arg);
  switch (name) {
    case 'node':
    case 'nodejs':
    case 'bun':
    case 'deno':
      return /^(-e|-p|-pe|-ep|--eval|--print)(=.*)?$/s.test(arg) || /^-[ep]./s.test(arg);
    case 'ruby':
      return arg === '--eval' || /^-[A-Za-z]*e$/.test(arg) || /^-[SUWacdlnpsvw0-9]*e./s.test(arg);
    case 'lua':
    case 'luajit':
    case 'osascript':
    case 'rscript':
    case 'r':
      return arg === '--eval' || /^-[A-Za-z]*e$/.test(arg) || /^-e./s.test(arg);
    case 'julia':
      return /^(--eval|--print|-E)$/.test(arg) || /^-[A-Za-z]*e$/.test(arg) || /^-e./s.test(arg);
    case 'elixir':
    case 'iex':
      return /^(--eval|--rpc-eval)$/.test(arg) || /^-[A-Za-z]*e$/.test(arg);
    case 'groovy':
      return arg === '--eval' || /^-[A-Za-z]*e$/.test(arg);
    case 'perl':
      return /^-[A-Za-z]*[eE]$/.test(arg) || /^-[STWXUVacdflnpstuw0-9]*[eE]./s.test(arg);
    case 'php':
      return /^(-r|--run|-B|-E|-R)$/.test(arg) || /^-r./s.test(arg);
    case 'awk':
    case 'gawk':
    case 'mawk':
    case 'nawk':
      return /^-e/.test(arg) || /^--s(o(u(r(ce?)?)?)?)?(=.*)?$/s.test(arg);
    case 'fish':
      return arg === '-c' || arg.startsWith('--command');
    case 'cmd':
      return /^\/[ck]$/i.test(arg);
    case 'powershell':
    case 'pwsh':
      return /^-(c|command|e|ec|enc|encodedcommand)$/i.test(arg);
  }
  return posixShells.has(name) && /^-[A-Za-z]*c[A-Za-z]*$/.test(arg);
}

/**
 * Commands OpenClaw's strictInlineEval also counts as inline eval, whose code-carrying flag may
 * come anywhere among the arguments: `find … -exec`, `make -f/--eval`, `gdb -ex`, `erl -eval`, ….
 */
const anywhereInlineFlags: Record<string, (arg: string) => boolean> = {
  find: (arg) => /^-(exec|execdir|ok|okdir)$/.test(arg),
  make: (arg) => /^(-E|--ev(al?)?)/.test(arg) || /^(-f|--file(=.*)?$|--makefile(=.*)?$)/s.test(arg),
  gdb: (arg) =>
    /^(-ex|-iex|-eiex)(=.*)?$/s.test(arg) ||
    /^--?(ev(a(l(-(c(o(m(m(a(nd?)?)?)?)?)?)?)?)?)?|init-e(v(a(l(-(c(o(m(m(a(nd?)?)?)?)?)?)?)?)?)?)?|early-init-e(v(a(l(-(c(o(m(m(a(nd?)?)?)?)?)?)?)?)?)?)?)(=.*)?$/s.test(
      arg,
    ),
  erl: (arg) => /^-(eval|run|s)$/.test(arg),
  expect: (arg) => arg === '-c',
  guile: (arg) => arg === '-c' || arg === '-e',
  clojure: (arg) => arg === '-e' || arg === '--eval',
  raku: (arg) => arg === '-e' || /^-[np]*e./s.test(arg) || /^-[np]+e$/.test(arg),
  ghc: (arg) => arg === '-e',
  scala: (arg) =>
    /^(-e|--script-snippet|--execute-script|--execute-sc|--execute-scala-script|--scala-snippet|--execute-scala|--java-snippet|--execute-java|--markdown-snippet|--md-snippet|--execute-markdown|--execute-md)$/.test(
      arg,
    ),
};
const anywhereAliases: Record<string, string> = {
  gmake: 'make',
  werl: 'erl',
  clj: 'clojure',
  perl6: 'raku',
  ghci: 'ghc',
  'scala-cli': 'scala',
};

/** Options that take the next argument as their value, so that value is not taken for the script. */
const valueOptions: Record<string, ReadonlySet<string>> = {
  node: new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '--input-type', '-C', '--title']),
  python: new Set(['-W', '-X']),
  ruby: new Set(['-I', '-r', '-C']),
  perl: new Set(['-I']),
  deno: new Set(['--config', '-c', '--import-map', '--lock', '--env-file']),
  bun: new Set(['--config', '-r', '--preload', '--env-file']),
  powershell: new Set(['-ExecutionPolicy', '-WindowStyle', '-Version', '-InputFormat', '-OutputFormat']),
  // OpenClaw's value flags for the commands whose first operand is code.
  sed: new Set(['-l', '--line-length']),
  xargs: new Set([
    '-a',
    '--arg-file',
    '-d',
    '--delimiter',
    '-E',
    '-I',
    '-L',
    '--max-lines',
    '-n',
    '--max-args',
    '-P',
    '--max-procs',
    '-s',
    '--max-chars',
  ]),
};

const scriptInterpreters = new Set([
  'node',
  'nodejs',
  'bun',
  'deno',
  'tsx',
  'ts-node',
  'ruby',
  'perl',
  'php',
  'lua',
  'luajit',
  'rscript',
  'r',
  'julia',
  'awk',
  'gawk',
  'mawk',
  'nawk',
  ...posixShells,
  'fish',
  'cmd',
  'pwsh',
  'powershell',
  'osascript',
  'elixir',
  'iex',
  'groovy',
  'sed',
  'gsed',
  'xargs',
]);

export type InterpreterScan = {
  /** The argument that made this an inline eval (the code itself for `awk`/`sed`/`xargs` operands). */
  inline: string | null;
  /** How to name that: the flag (`-c`), or `<program>`/`<command>` when the operand is the code. */
  flag: string | null;
  script: string | null;
  /** Where `script` is in the arguments given to the scan. */
  scriptIndex: number | null;
  remote: string | null;
};

const none: InterpreterScan = { inline: null, flag: null, script: null, scriptIndex: null, remote: null };

/**
 * Reads an interpreter's own options up to the first operand, as the interpreter does: an
 * inline-code flag there means "run this string"; otherwise the operand is the script file.
 * Arguments after the script belong to the script, so `python server.py -c x` is not eval.
 */
export function scanInterpreter(name: string, args: readonly string[]): InterpreterScan {
  const anywhere = anywhereInlineFlags[anywhereAliases[name] ?? name];
  if (anywhere) {
    for (const arg of args) {
      if (arg === '--' && name !== 'find') break; // find's -exec may follow `--`
      if (anywhere(arg)) return { ...none, inline: arg, flag: arg };
    }
    return none;
  }
  if (!scriptInterpreters.has(name) && !isPython(name)) return none;
  const key = isPython(name)
    ? 'python'
    : name === 'nodejs'
      ? 'node'
      : name === 'pwsh'
        ? 'powershell'
        : name === 'gsed'
          ? 'sed'
          : name;
  const options = valueOptions[key] ?? new Set<string>();
  let rest = args;
  if (name === 'deno' && rest[0] === 'eval') return { ...none, inline: 'eval', flag: 'eval' };
  if ((name === 'deno' || name === 'bun') && rest[0] === 'run') rest = rest.slice(1);
  const base = args.length - rest.length;
  const awk = ['awk', 'gawk', 'mawk', 'nawk'].includes(name);
  const program = (arg: string): InterpreterScan => ({ ...none, inline: arg, flag: '<program>' });
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index] as string;
    if (arg === '--') {
      const next = rest[index + 1];
      if (key === 'sed' && next !== undefined) return program(next);
      if (key === 'xargs') return next === undefined ? none : { ...none, inline: next, flag: '<command>' };
      return asScript(next ?? null, base + index + 1);
    }
    if (key === 'sed' && (/^-e/.test(arg) || /^--expression(=.*)?$/s.test(arg)))
      return { ...none, inline: arg, flag: arg };
    if (isInlineFlag(name, arg)) return { ...none, inline: arg, flag: arg };
    if (isPython(name) && arg.startsWith('-m')) return none; // a module found on sys.path: no one file to pin
    if ((awk || key === 'sed') && (arg === '-f' || arg === '--file'))
      return asScript(rest[index + 1] ?? null, base + index + 1);
    if (key === 'sed' && /^(-f|--file=)./s.test(arg)) return none; // a joined program file
    if (key === 'powershell' && /^-(f|file)$/i.test(arg)) return asScript(rest[index + 1] ?? null, base + index + 1);
    if (arg.startsWith('-') || (name === 'cmd' && arg.startsWith('/'))) {
      if (takesValue(key, options, arg)) index++;
      continue;
    }
    if (awk || key === 'sed') return program(arg); // awk's and sed's first operand is their program
    if (key === 'xargs') return { ...none, inline: arg, flag: '<command>' }; // the command xargs runs
    if (key === 'powershell') return { ...none, inline: arg, flag: '<command>' }; // bare words are a -Command
    return asScript(arg, base + index);
  }
  return none;
}

/** PowerShell's options are caseless, and so were these lookups; xargs's and sed's are not (`-e` is not `-E`). */
function takesValue(key: string, options: ReadonlySet<string>, arg: string): boolean {
  if (key === 'sed' || key === 'xargs') return options.has(arg);
  return [...options].some((option) => option.toLowerCase() === arg.toLowerCase());
}

/** Only something that looks like a file path is pinned as a script; `bun run start` names a package script. */
function asScript(candidate: string | null, index: number): InterpreterScan {
  if (candidate === null) return none;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(candidate)) return { ...none, remote: candidate };
  return /[\\/]|\.[A-Za-z0-9]+$/.test(candidate) ? { ...none, script: candidate, scriptIndex: index } : none;
}

/** Flags that remove a program's own safety limits. */
export function dangerousFlags(name: string, args: readonly string[]): string[] {
  const found: string[] = [];
  const add = (flag: string, why: string) => found.push(`"${flag}" ${why}`);
  args.forEach((arg, index) => {
    const flag = arg.split('=')[0] as string;
    if (/^--dangerously/i.test(flag)) add(flag, 'switches off a safety check by design');
    else if (/^--unsafe/i.test(flag)) add(flag, 'switches off a safety check');
    else if (/^--(no-sandbox|disable-sandbox|disable-web-security|disable-setuid-sandbox)$/i.test(flag))
      add(flag, 'turns off the sandbox');
    else if (/^--allow-all/i.test(flag) || flag === '--yolo') add(flag, 'grants every permission without asking');
    else if (/^--inspect(-brk|-wait)?$/.test(flag) && ['node', 'nodejs', 'deno', 'bun'].includes(name))
      add(flag, 'opens a debugger port through which anyone who reaches it can run code in the server');
    else if (flag === '-A' && name === 'deno') add(flag, 'grants Deno every permission (files, network, processes)');
    else if (['nc', 'ncat', 'netcat'].includes(name) && /^(-e|-c|--exec|--sh-exec|--lua-exec)$/.test(flag))
      add(flag, 'connects a program to the network: a classic remote shell');
    else if (name === 'socat' && /^(EXEC|SYSTEM):/i.test(arg)) add(arg.split(':')[0] as string, 'runs a program');
    else if ((name === 'docker' || name === 'podman') && isContainerEscape(arg, args[index + 1]))
      add(arg, 'weakens the container’s isolation from this machine');
  });
  if (name === 'sudo' || name === 'doas') found.unshift(`"${name}" runs the server as another user, usually root,`);
  return found;
}

function isContainerEscape(arg: string, next: string | undefined): boolean {
  if (/^--(privileged|cap-add.*|security-opt.*|device.*)$/.test(arg.split('=')[0] as string)) return true;
  if (/^--(pid|network|net|ipc|uts|userns)=host$/.test(arg)) return true;
  if (/^--(pid|network|net|ipc|uts|userns)$/.test(arg) && next === 'host') return true;
  const mount = /^(-v|--volume|--mount)$/.test(arg) ? next : /^(-v|--volume|--mount)=(.*)$/.exec(arg)?.[2];
  return mount !== undefined && /(^|[=,])(\/|\/var\/run\/docker\.sock|\/run\/docker\.sock)(:|,|$)/.test(mount);
}

const wrappers = new Set(['nohup', 'nice', 'ionice', 'timeout', 'stdbuf', 'setsid', 'time', 'sudo', 'doas', 'exec']);
/** Shell builtins that run the named program (OpenClaw looks through them too); their options take no value. */
const builtinCarriers = new Set(['command', 'builtin']);

/** How many wrappers deep a command line is read; deeper layers are not looked through. */
export const maxWrapperDepth = 4;

export type Unwrapped = {
  /** `env NAME=value …`: what the wrapper sets in the environment of the program it starts. */
  assignments: Array<{ name: string; value: string }>;
  /** `env -S`: the flag that splits one string into a new command line, which is not read further. */
  split: string | null;
  /** The program the wrapper starts; `start` is its position in `argv` when argv[0] is the wrapper. */
  inner: { command: string; args: string[]; start: number } | null;
};

/**
 * Looks through a wrapper (`env`, `sudo`, `nice`, `timeout 5`, `uv run`, …) to the program it
 * starts, so `env LD_PRELOAD=… node -e …` is judged as `node -e …`. Null when `name` is no wrapper.
 */
export function unwrap(name: string, args: readonly string[]): Unwrapped | null {
  let rest = [...args];
  const assignments: Array<{ name: string; value: string }> = [];
  if (name === 'env') {
    while (rest.length > 0) {
      const arg = rest[0] as string;
      if (arg === '-S' || arg.startsWith('--split-string')) return { assignments, split: arg, inner: null };
      if (arg === '-u' || arg === '--unset' || arg === '-C' || arg === '--chdir') rest = rest.slice(2);
      else if (arg.startsWith('-')) rest = rest.slice(1);
      else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(arg)) {
        const [key = '', value = ''] = arg.split(/=(.*)/s);
        assignments.push({ name: key, value });
        rest = rest.slice(1);
      } else break;
    }
  } else if (wrappers.has(name)) {
    while (rest.length > 0 && (rest[0] as string).startsWith('-')) {
      const flag = rest[0] as string;
      rest = rest.slice(/^-(n|u|g|s|k|c|o|e|i|p|C|h|D|r|t|U)$/.test(flag) ? 2 : 1);
    }
    if (name === 'timeout' && rest.length > 0) rest = rest.slice(1);
  } else if (builtinCarriers.has(name)) {
    while (rest.length > 0 && (rest[0] as string).startsWith('-')) rest = rest.slice(1);
  } else if (name === 'uv' && rest[0] === 'run') {
    rest = rest.slice(1);
    while (rest.length > 0 && (rest[0] as string).startsWith('-')) {
      const flag = rest[0] as string;
      const takesValue =
        !flag.includes('=') && /^(--(with|python|project|directory|env-file|package|index|extra|group)|-p)/.test(flag);
      rest = rest.slice(takesValue ? 2 : 1);
    }
  } else {
    return null;
  }
  const inner =
    rest.length === 0
      ? null
      : { command: rest[0] as string, args: rest.slice(1), start: args.length - rest.length + 1 };
  return { assignments, split: null, inner };
}

/** Each program a command line starts, outermost first, as analyzeCommand reads it; `at` is its argv index. */
function* layers(
  argv: readonly string[],
): Generator<{ name: string; args: readonly string[]; at: number; unwrapped: Unwrapped | null }> {
  if (argv[0] === undefined) return;
  let layer: { command: string; args: readonly string[] } | null = { command: argv[0], args: argv.slice(1) };
  let at = 0;
  for (let depth = 0; layer !== null && depth <= maxWrapperDepth; depth++) {
    const name = programName(layer.command);
    const unwrapped: Unwrapped | null = depth < maxWrapperDepth ? unwrap(name, layer.args) : null;
    yield { name, args: layer.args, at, unwrapped };
    if (unwrapped?.inner) at += unwrapped.inner.start;
    layer = unwrapped?.inner ?? null;
  }
}

/**
 * Whether this argv (argv[0] the program) runs code given inline rather than an installed
 * program or a file: `python -c`, `node -e`, `sh -c`, `perl -e`, `php -r`, `awk '{…}'`,
 * `find … -exec`, `xargs cmd`, `deno eval`, `npx -c`, `env -S`, …, looking through wrappers as
 * analyzeCommand does. The same decision as its `inline_eval` warning; `flag` names the form.
 */
export function inlineEval(argv: readonly string[]): { flag: string } | null {
  for (const { name, args, unwrapped } of layers(argv)) {
    if (unwrapped?.split) return { flag: unwrapped.split };
    const scan = scanInterpreter(name, args);
    if (scan.flag !== null) return { flag: scan.flag };
    const runner = packageRunner(name, args);
    const runnerFlag = runner ? readRunner(runner).inlineFlags[0] : undefined;
    if (runnerFlag !== undefined) return { flag: runnerFlag };
  }
  return null;
}

/**
 * The one file an interpreter or shell runs (`node server.js` → 1, `bash ./x.sh` → 1,
 * `python3 -u tool.py` → 2, `env A=1 node x.js` → 3): what really decides what the command does,
 * so it is the file to pin. Null for inline code, modules (`python -m`), URLs and bare words that
 * are not paths (`bun run start`). analyzeCommand's `script` is the same file.
 */
export function scriptOperand(argv: readonly string[]): { argvIndex: number; path: string } | null {
  for (const { name, args, at } of layers(argv)) {
    const scan = scanInterpreter(name, args);
    if (scan.script !== null && scan.scriptIndex !== null)
      return { argvIndex: at + 1 + scan.scriptIndex, path: scan.script };
  }
  return null;
}
