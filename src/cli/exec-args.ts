import { constants } from 'node:os';
import type { ExecPlan } from '../core/exec/plan.js';
import { inert } from '../core/text/inert.js';
import { CliError } from './io.js';

/*
 * The pure part of `countersign exec …`: option parsing, exit codes and what exactly to spawn.
 * Kept apart from the I/O so that each rule has a unit test (test/cli/exec-args.test.ts).
 */

/**
 * Exit codes of `exec run`, chosen so that a caller can tell the command's own code from
 * countersign's answer (the conventions of env(1), timeout(1) and POSIX shells):
 * - the command's own code, or 128+N when a signal N ended it;
 * - 125: countersign itself failed (bad options, unreachable, bad token, a request refused as malformed);
 * - 126: nothing ran because countersign said no (denied, expired, no decision within --wait,
 *   or the consume was refused: file_changed, executable_changed, …);
 * - 127: the planned program could not be started (not found);
 * - 130: interrupted (Ctrl-C) while waiting; the request was withdrawn.
 * `exec check`: 0 allow, 1 ask, 126 deny, 125 when it could not find out.
 */
export const exitCodes = { failed: 125, denied: 126, notFound: 127, interrupted: 130 } as const;

export type CheckDecision = 'allow' | 'ask' | 'deny';

export function checkExitCode(decision: CheckDecision): number {
  return decision === 'allow' ? 0 : decision === 'ask' ? 1 : exitCodes.denied;
}

/** A finished child's code; a signal N gives 128+N, as shells report it. */
export function childExitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal !== null) return 128 + ((constants.signals as Record<string, number>)[signal] ?? 0);
  return code ?? exitCodes.failed;
}

/** A signal that should end the wrapper itself (while waiting) gives the same 128+N. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return childExitCode(null, signal);
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `--env NAME` (the value this process has) or `--env NAME=VALUE`, repeatable. The entries go
 * into the request, so the owner sees them and the plan binds them; a NAME that is not set here
 * is an error rather than a silent empty value.
 */
export function parseEnvOptions(specs: readonly string[], environment: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const spec of specs) {
    const equals = spec.indexOf('=');
    const name = equals < 0 ? spec : spec.slice(0, equals);
    if (!envName.test(name)) {
      throw new CliError(
        `--env ${inert(spec)}: a name is [A-Za-z_][A-Za-z0-9_]* (NAME or NAME=VALUE).`,
        exitCodes.failed,
      );
    }
    const value = equals < 0 ? environment[name] : spec.slice(equals + 1);
    if (value === undefined)
      throw new CliError(`--env ${inert(name)}: it is not set in this environment.`, exitCodes.failed);
    env[name] = value;
  }
  return env;
}

const units: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

/** `300`, `90s`, `30m`, `1h`, `1d` → seconds (a whole, non-negative number). */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!match)
    throw new CliError(`${option} ${inert(text)}: expected seconds, or a number with s, m, h or d.`, exitCodes.failed);
  return Number(match[1]) * (units[match[2] as string] as number);
}

/** Commander's collector for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export type SpawnTarget = { file: string; args: string[]; argv0: string };

/**
 * What to start for a plan, exactly as planned and with no shell of ours in between. An argv
 * plan runs the executable the service resolved and hashed (segment 0, stage 0), with argv[0]
 * kept as the agent wrote it: a PATH lookup here could find a different program than the one the
 * owner approved. Shell text runs with `/bin/sh -c`, as the card said it would.
 */
export function spawnTarget(plan: Pick<ExecPlan, 'argv' | 'commandText' | 'executables'>): SpawnTarget {
  if (plan.argv !== null && plan.argv.length > 0) {
    const [argv0, ...args] = plan.argv as [string, ...string[]];
    const first = plan.executables.find((executable) => executable.segment === 0 && executable.stage === 0);
    return { file: first?.resolvedPath ?? argv0, args, argv0 };
  }
  if (plan.commandText !== null) return { file: '/bin/sh', args: ['-c', plan.commandText], argv0: '/bin/sh' };
  throw new CliError('The plan has neither argv nor shell text: nothing to run.', exitCodes.denied);
}

const redacted = '[redacted]';

/**
 * The child's environment: this process's, overlaid with the plan's entries. The service shows
 * secret values as "[redacted]"; where the plan says so for a variable this wrapper sent, the
 * value sent is the one the plan was hashed over, so it is used (never the placeholder).
 */
export function childEnvironment(
  base: NodeJS.ProcessEnv,
  planEnv: ExecPlan['env'],
  sent: Record<string, string>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const entry of planEnv) {
    const own = sent[entry.name];
    env[entry.name] = entry.value === redacted && own !== undefined ? own : entry.value;
  }
  return env;
}
