import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { CountersignError } from '../core/errors.js';
import type { ExecPlan } from '../core/exec/plan.js';
import { renderExecSummary } from '../core/exec/render.js';
import type { ExecRequest } from '../core/exec/request.js';
import { inert } from '../core/text/inert.js';
import { Client, type ClientOptions } from './client.js';
import {
  childEnvironment,
  childExitCode,
  exitCodes,
  parseDuration,
  parseEnvOptions,
  signalExitCode,
  spawnTarget,
} from './exec-args.js';
import { CliError, explainRefusal } from './io.js';

/*
 * `countersign exec run -- ARGV…`, the agent's wrapper (SPEC §9): ask, wait for the owner,
 * consume the grant, then run exactly the plan the service returns — never the argv typed here —
 * with inherited stdio. Progress goes to stderr; stdout belongs to the command.
 */

export type RunOptions = ClientOptions & { session?: string; cwd?: string; wait?: string; env?: string[] };

type Posted = { decision: 'allow' | 'ask'; request: ExecRequest; grant?: { expiresAt: string } };

function say(line: string): void {
  process.stderr.write(`countersign: ${line}\n`);
}

/** The working directory as the service wants it: absolute and real (symlinks resolved). */
export function realCwd(dir: string | undefined): string {
  try {
    return realpathSync(resolve(dir ?? process.cwd()));
  } catch (error) {
    throw new CliError(`--cwd ${inert(dir ?? '')}: ${(error as Error).message}`, exitCodes.failed);
  }
}

/** countersign's refusals end the wrapper with 125 (it failed) unless they mean "no" (126). */
function failure(error: unknown, meaning: 'failed' | 'denied' = 'failed'): CliError {
  if (error instanceof CliError) return error;
  const message = error instanceof CountersignError ? explainRefusal(error) : (error as Error).message;
  return new CliError(message, exitCodes[meaning]);
}

export async function execRun(argv: string[], options: RunOptions): Promise<number> {
  const client = new Client(options);
  const cwd = realCwd(options.cwd);
  const waitSeconds = parseDuration(options.wait ?? '300', '--wait');
  const env = parseEnvOptions(options.env ?? [], process.env);
  let sessionKey = options.session ?? process.env.COUNTERSIGN_SESSION;
  if (!sessionKey) {
    sessionKey = `exec-${randomUUID()}`;
    say(`session ${sessionKey} (set COUNTERSIGN_SESSION or pass --session to choose one)`);
  }

  let posted: Posted;
  try {
    posted = await client.request<Posted>('POST', '/v1/exec/requests', {
      argv,
      cwd,
      sessionKey,
      ...(Object.keys(env).length > 0 ? { env } : {}),
    });
  } catch (error) {
    if (error instanceof CountersignError && error.code === ('exec_denied' as string)) {
      const id = typeof error.details.requestId === 'string' ? ` ${inert(error.details.requestId)}` : '';
      const reason = typeof error.details.reason === 'string' ? ` (${inert(error.details.reason)})` : '';
      say(`exec request${id} denied${reason}: ${inert(error.message)}`);
      return exitCodes.denied;
    }
    throw failure(error);
  }

  let request = posted.request;
  if (posted.decision === 'ask') {
    const pending = request;
    // Announced only once Ctrl-C is handled: whoever reads "waiting" may interrupt at once.
    const waited = await waitForDecision(client, request, waitSeconds, () => {
      say(`exec request ${inert(pending.id)} is waiting for an owner's decision.`);
      say(`the owner sees: ${renderExecSummary(pending)}`);
      say(
        `approve with \`countersign exec approve ${inert(pending.id)}\`; waiting up to ${waitSeconds} s (Ctrl-C withdraws).`,
      );
    });
    if (typeof waited === 'number') return waited;
    request = waited;
  }

  // A 200 from the POST is the service's "allow"; after a wait, the request's status says.
  if (posted.decision !== 'allow' && request.status !== 'allowed') {
    const resolution = request.resolution;
    const by = resolution?.by ? ` by ${inert(resolution.by.name)}` : '';
    say(
      `exec request ${inert(request.id)} ${inert(request.status)}${by}: ${inert(resolution?.reason ?? request.reason)}; nothing ran.`,
    );
    return exitCodes.denied;
  }
  if (posted.decision === 'ask') say(`exec request ${inert(request.id)} allowed; running it.`);

  let plan: ExecPlan;
  try {
    ({ plan } = await client.request<{ run: true; plan: ExecPlan }>(
      'POST',
      `/v1/exec/requests/${encodeURIComponent(request.id)}/consume`,
      { planHash: request.planHash, sessionKey },
    ));
  } catch (error) {
    if (error instanceof CountersignError) {
      say(`exec request ${inert(request.id)} cannot run: ${explainRefusal(error)}`);
      return exitCodes.denied;
    }
    throw failure(error);
  }
  return runPlan(plan, env);
}

/**
 * Long-polls `GET …/:id?wait=` until the request is no longer pending or `seconds` run out
 * (then the request is withdrawn). SIGINT/SIGTERM while waiting withdraw it and end the wrapper
 * with 128+N. Each poll asks for at most 30 s, well under any HTTP client or proxy timeout.
 */
async function waitForDecision(
  client: Client,
  request: ExecRequest,
  seconds: number,
  announce: () => void,
): Promise<ExecRequest | number> {
  const path = `/v1/exec/requests/${encodeURIComponent(request.id)}`;
  const stop = new AbortController();
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  announce();
  try {
    const deadline = Date.now() + seconds * 1000;
    let current = request;
    while (current.status === 'pending' && interrupted === null) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) break;
      const started = Date.now();
      try {
        ({ request: current } = await client.request<{ request: ExecRequest }>(
          'GET',
          `${path}?wait=${Math.min(left, 30)}`,
          undefined,
          { signal: stop.signal },
        ));
      } catch (error) {
        if (interrupted !== null) break;
        throw failure(error);
      }
      // A server that answers "pending" at once (no long poll) is polled once a second, not in a busy loop.
      if (current.status === 'pending' && Date.now() - started < 500) await sleep(1000, stop.signal);
    }
    if (current.status !== 'pending' && interrupted === null) return current;
    const why = interrupted === null ? `no decision within ${seconds} s` : `interrupted (${interrupted})`;
    await withdraw(client, request.id);
    say(`exec request ${inert(request.id)} withdrawn: ${why}; nothing ran.`);
    return interrupted === null ? exitCodes.denied : signalExitCode(interrupted);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Best effort: the request expires on its own anyway, and nothing runs without a consume. */
async function withdraw(client: Client, id: string): Promise<void> {
  try {
    await client.request('POST', `/v1/exec/requests/${encodeURIComponent(id)}/withdraw`, {});
  } catch (error) {
    const detail = error instanceof CountersignError ? explainRefusal(error) : (error as Error).message;
    say(`could not withdraw ${inert(id)} (${detail}); it expires unused.`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        done();
      },
      { once: true },
    );
  });
}

const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Starts exactly the plan (no shell of ours; `spawnTarget` says what) with inherited stdio and
 * resolves with its exit code. Signals sent to the wrapper are passed on (a Ctrl-C at a terminal
 * reaches both, as with npm's run-script; the child decides what a second one means).
 */
function runPlan(plan: ExecPlan, sent: Record<string, string>): Promise<number> {
  const target = spawnTarget(plan);
  return new Promise((done) => {
    const child = spawn(target.file, target.args, {
      argv0: target.argv0,
      cwd: plan.cwd,
      env: childEnvironment(process.env, plan.env, sent),
      stdio: 'inherit',
    });
    const forward = (signal: NodeJS.Signals) => {
      child.kill(signal);
    };
    for (const signal of forwarded) process.on(signal, forward);
    const finish = (code: number) => {
      for (const signal of forwarded) process.off(signal, forward);
      done(code);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      say(`cannot start ${inert(target.file)}: ${inert(error.message)}`);
      finish(error.code === 'ENOENT' ? exitCodes.notFound : exitCodes.denied);
    });
    child.on('exit', (code, signal) => finish(childExitCode(code, signal)));
  });
}
