import { execFile } from 'node:child_process';
import type { Card } from '../core/card.js';
import { appendAudit, withAudit } from './audit.js';
import type { Service, TargetRuntime } from './context.js';

export type ReloadOutcome = {
  command: string[];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  /** The last part of what it printed (stdout and stderr), bounded so a chatty command cannot flood the audit. */
  outputTail: string;
};

const tailBytes = 2000;
/** One reload at a time per target: two applies in quick succession restart twice, in order, never concurrently. */
const queues = new Map<string, Promise<unknown>>();

function run(hook: NonNullable<TargetRuntime['reload']>): Promise<ReloadOutcome> {
  const env: NodeJS.ProcessEnv = {};
  for (const name of hook.env) if (process.env[name] !== undefined) env[name] = process.env[name];
  const [file, ...args] = hook.command as [string, ...string[]];
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env, timeout: hook.timeoutSeconds * 1000, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, shell: false },
      (error, stdout, stderr) => {
        const failure = error as
          | (NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string })
          | null;
        const output = `${stdout}${stderr}`;
        resolve({
          command: hook.command,
          exitCode: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
          signal: failure?.signal ?? null,
          timedOut: Boolean(failure?.killed && failure.signal === 'SIGKILL'),
          durationMs: Date.now() - started,
          outputTail: failure && typeof failure.code === 'string' ? `${failure.message}` : output.slice(-tailBytes),
        });
      },
    );
  });
}

/**
 * Runs the target's reload hook after an apply that needs a restart (or after every apply with
 * `when: "always"`). The change is already applied and audited; the hook's outcome is a second
 * audit event, and a failing hook is reported, not rolled back.
 */
export async function reloadAfterApply(service: Service, card: Card): Promise<ReloadOutcome | null> {
  const target = service.targets.get(card.target);
  const hook = target?.reload;
  if (!hook || (hook.when === 'restart' && !card.restartRequired)) return null;
  const previous = queues.get(card.target) ?? Promise.resolve();
  const next = previous.then(() => run(hook));
  queues.set(
    card.target,
    next.catch(() => undefined),
  );
  const outcome = await next;
  try {
    withAudit(service, () =>
      appendAudit(service, {
        kind: 'reload.ran',
        target: card.target,
        proposalId: card.id,
        targetHash: card.targetHash,
        details: { ...outcome },
      }),
    );
  } catch (error) {
    service.log.error({ err: error, proposal: card.id }, 'could not record the reload hook outcome');
  }
  return outcome;
}
