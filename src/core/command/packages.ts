import { redactUrlForDisplay } from './secrets.js';
import type { ArgProvenance, ArgWarning, PackageRunner } from './types.js';

/**
 * What a command downloads and runs: npm and PyPI package specs, package runners (`npx`, `uvx`,
 * …) and container images, and whether each is pinned to content the owner approved.
 */

const exactSemver = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

type PackageSpec = { package: string; version: string | null; pinned: boolean; problem: string | null };

/** `@scope/name@1.2.3`, `name@^1`, `name@latest`, `github:u/r`, `https://…tgz`, `./dir`. */
export function parseNpmSpec(raw: string): PackageSpec {
  const spec = raw.startsWith('npm:') ? raw.slice(4) : raw;
  if (/^(git\+|git:|github:|gitlab:|bitbucket:|gist:|https?:|file:|\.{0,2}\/|~\/)/.test(spec) || isGitShorthand(spec)) {
    const commit = /#[0-9a-f]{40}$/.test(spec);
    return {
      package: redactUrlForDisplay(spec),
      version: commit ? (spec.split('#').pop() as string) : null,
      pinned: commit,
      problem: commit
        ? null
        : `"${redactUrlForDisplay(spec)}" is fetched from a repository, URL or path whose content can change after you approve.`,
    };
  }
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  const name = at === -1 ? spec : spec.slice(0, at);
  const version = at === -1 ? null : spec.slice(at + 1);
  if (version === null || version === '') {
    return {
      package: name,
      version: null,
      pinned: false,
      problem: `No version is given for "${name}", so the newest release is downloaded whenever the server starts; pin it as ${name}@<exact version>.`,
    };
  }
  if (exactSemver.test(version)) return { package: name, version, pinned: true, problem: null };
  const tag = /^[A-Za-z][\w.-]*$/.test(version);
  return {
    package: name,
    version,
    pinned: false,
    problem: tag
      ? `"${name}@${version}" follows the "${version}" tag, which the publisher can move to new code at any time; pin an exact version.`
      : `"${name}@${version}" accepts a range of versions, so a later release runs without your approval; pin an exact version.`,
  };
}

function isGitShorthand(spec: string): boolean {
  return !spec.startsWith('@') && /^[\w.-]+\/[\w.-]+(#.*)?$/.test(spec);
}

/** `name==1.2.3`, `name@1.2.3`, `name[extra]>=1`, `git+https://…`. */
export function parsePypiSpec(raw: string): PackageSpec {
  if (/^(git\+|https?:|file:|\.{0,2}\/|~\/)/.test(raw)) {
    const commit = /@[0-9a-f]{40}$/.test(raw);
    return {
      package: redactUrlForDisplay(raw),
      version: null,
      pinned: commit,
      problem: commit
        ? null
        : `"${redactUrlForDisplay(raw)}" is fetched from a repository, URL or path whose content can change after you approve.`,
    };
  }
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$/.exec(raw);
  const name = match?.[1] ?? raw;
  const rest = (match?.[3] ?? '').trim();
  const exact = /^(==|@)\s*([0-9][0-9A-Za-z.+!-]*)$/.exec(rest);
  if (exact && !rest.includes('*')) return { package: name, version: exact[2] as string, pinned: true, problem: null };
  if (rest === '') {
    return {
      package: name,
      version: null,
      pinned: false,
      problem: `No version is given for "${name}", so the newest release is downloaded whenever the server starts; pin it as ${name}==<exact version>.`,
    };
  }
  const version = rest.replace(/^@/, '');
  return {
    package: name,
    version,
    pinned: false,
    problem: `"${name}${rest}" does not name one exact version, so a later release runs without your approval; pin it with ==<version>.`,
  };
}

type RunnerSyntax = {
  valueOptions: ReadonlySet<string>;
  packageOptions: ReadonlySet<string>;
  inlineOptions: ReadonlySet<string>;
  /** When a package option is given, the first positional is a command inside it, not a package. */
  positionalIsCommandWithPackage: boolean;
};

const runnerSyntax: Record<PackageRunner, RunnerSyntax> = {
  npx: {
    valueOptions: new Set([
      '--registry',
      '--cache',
      '--userconfig',
      '--prefix',
      '-w',
      '--workspace',
      '--loglevel',
      '--node-options',
      '--shell',
      '--script-shell',
    ]),
    packageOptions: new Set(['-p', '--package']),
    inlineOptions: new Set(['-c', '--call']),
    positionalIsCommandWithPackage: true,
  },
  'npm exec': {
    valueOptions: new Set(['--registry', '--cache', '--userconfig', '--prefix', '-w', '--workspace', '--loglevel']),
    packageOptions: new Set(['-p', '--package']),
    inlineOptions: new Set(['-c', '--call']),
    positionalIsCommandWithPackage: true,
  },
  'pnpm dlx': {
    valueOptions: new Set(['--reporter', '--allow-build', '-C', '--dir']),
    packageOptions: new Set(['--package']),
    inlineOptions: new Set(['-c', '--shell-mode']),
    positionalIsCommandWithPackage: true,
  },
  'yarn dlx': {
    valueOptions: new Set([]),
    packageOptions: new Set(['-p', '--package']),
    inlineOptions: new Set([]),
    positionalIsCommandWithPackage: true,
  },
  bunx: {
    valueOptions: new Set(['--registry']),
    packageOptions: new Set(['-p', '--package']),
    inlineOptions: new Set([]),
    positionalIsCommandWithPackage: true,
  },
  uvx: {
    valueOptions: new Set([
      '--with',
      '--with-editable',
      '--with-requirements',
      '--python',
      '-p',
      '--index',
      '--index-url',
      '--extra-index-url',
      '--default-index',
      '--find-links',
      '-f',
      '--cache-dir',
      '--directory',
      '--project',
      '--refresh-package',
      '--constraints',
      '--overrides',
      '--env-file',
    ]),
    packageOptions: new Set(['--from']),
    inlineOptions: new Set([]),
    positionalIsCommandWithPackage: true,
  },
  'pipx run': {
    valueOptions: new Set(['--python', '--pip-args', '--index-url', '--backend']),
    packageOptions: new Set(['--spec']),
    inlineOptions: new Set([]),
    positionalIsCommandWithPackage: true,
  },
};

export type RunnerInvocation = { runner: PackageRunner; args: readonly string[] };

/** `npx …`, `npm exec …`, `pnpm dlx …`, `bunx …`, `uvx …`, `uv tool run …`, `pipx run …`. */
export function packageRunner(name: string, args: readonly string[]): RunnerInvocation | null {
  if (name === 'npx') return { runner: 'npx', args };
  if (name === 'npm' && (args[0] === 'exec' || args[0] === 'x')) return { runner: 'npm exec', args: args.slice(1) };
  if (name === 'pnpx' || name === 'pnx') return { runner: 'pnpm dlx', args };
  if (name === 'pnpm' && args[0] === 'dlx') return { runner: 'pnpm dlx', args: args.slice(1) };
  if (name === 'yarn' && args[0] === 'dlx') return { runner: 'yarn dlx', args: args.slice(1) };
  if (name === 'bunx') return { runner: 'bunx', args };
  if (name === 'bun' && args[0] === 'x') return { runner: 'bunx', args: args.slice(1) };
  if (name === 'uvx') return { runner: 'uvx', args };
  if (name === 'uv' && args[0] === 'tool' && args[1] === 'run') return { runner: 'uvx', args: args.slice(2) };
  if (name === 'pipx' && args[0] === 'run') return { runner: 'pipx run', args: args.slice(1) };
  return null;
}

/**
 * A runner's own options, read as the runner reads them: the flags that make it run a shell
 * command written inline (`npx -c '…'`), and the package it would download and run.
 */
export function readRunner(invocation: RunnerInvocation): { inlineFlags: string[]; spec: string | null } {
  const { runner, args } = invocation;
  const syntax = runnerSyntax[runner];
  const inlineFlags: string[] = [];
  let packageOption: string | null = null;
  let positional: string | null = null;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') {
      positional = args[index + 1] ?? null;
      break;
    }
    const [flag, inlineValue] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const takeValue = () => inlineValue ?? (args[++index] as string | undefined) ?? null;
    if (syntax.inlineOptions.has(flag as string)) {
      // `pnpm dlx -c` is a switch that makes the rest a shell command; npx's `-c` takes the command.
      inlineFlags.push(flag as string);
      if (runner === 'pnpm dlx') continue;
      takeValue();
      continue;
    }
    if (syntax.packageOptions.has(flag as string)) {
      packageOption ??= takeValue();
      continue;
    }
    if (syntax.valueOptions.has(flag as string)) {
      takeValue();
      continue;
    }
    if (arg.startsWith('-')) continue;
    positional = arg;
    break;
  }
  return { inlineFlags, spec: packageOption ?? positional };
}

/** The runner's provenance, with a warning for each inline command and for an unpinned package. */
export function analyzeRunner(invocation: RunnerInvocation, warnings: ArgWarning[]): ArgProvenance | null {
  const { runner } = invocation;
  const { inlineFlags, spec: raw } = readRunner(invocation);
  for (const flag of inlineFlags) {
    warnings.push({
      code: 'inline_eval',
      message: `${runner} ${flag} runs a shell command written into the config instead of a published program.`,
    });
  }
  if (raw === null) return null;
  const ecosystem = runner === 'uvx' || runner === 'pipx run' ? 'pypi' : 'npm';
  const spec = ecosystem === 'pypi' ? parsePypiSpec(raw) : parseNpmSpec(raw);
  if (spec.problem) warnings.push({ code: 'unpinned_package', message: `${runner}: ${spec.problem}` });
  return { ecosystem, via: runner, package: spec.package, version: spec.version, pinned: spec.pinned };
}

/** `docker run … ghcr.io/x/y:tag`: an image is only pinned by digest. */
export function containerImage(args: readonly string[]): string | null {
  if (args[0] !== 'run' && !(args[0] === 'container' && args[1] === 'run')) return null;
  const rest = args.slice(args[0] === 'run' ? 1 : 2);
  const booleans =
    /^(-[itdq]+|--rm|--init|--privileged|--read-only|--interactive|--tty|--detach|--quiet|--no-healthcheck|--oom-kill-disable|--sig-proxy)$/;
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index] as string;
    if (!arg.startsWith('-')) return arg;
    if (arg.includes('=') || booleans.test(arg)) continue;
    index++;
  }
  return null;
}
