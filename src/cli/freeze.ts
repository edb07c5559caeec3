import { CountersignError } from '../core/errors.js';
import { type FreezeState, type LastDrill, statusText } from '../core/freeze.js';
import { inert } from '../core/text/inert.js';
import {
  dataDirActor,
  type FreezeOutcome,
  type FreezeStatus,
  freeze,
  freezeStatus,
  type UnfreezeOutcome,
  unfreezeOnDataDir,
} from '../service/freeze.js';
import { Client, type ClientOptions } from './client.js';
import { withService } from './data-dir.js';
import { CliError, printJson, promptTotp } from './io.js';

/*
 * Manual takeover (SPEC §11) from the terminal. Each command works either directly on the data
 * directory (`--data DIR`: no server needed, so it works when the server is wedged; a running
 * server honours the stored state from its next request) or through a running server with an
 * owner token (COUNTERSIGN_URL, COUNTERSIGN_TOKEN), like `countersign audit`.
 */

type Options = ClientOptions & { data?: string; json?: boolean };

function since(state: FreezeState): string {
  return state.since ? ` since ${inert(state.since)}` : '';
}

export async function freezeCommand(options: Options & { reason?: string }): Promise<void> {
  const reason = options.reason?.trim();
  if (!reason) throw new CliError('Say why with --reason TEXT (it is audited and shown to every owner).');
  const outcome = options.data
    ? withService(options.data, (service) => freeze(service, dataDirActor(undefined), reason))
    : await new Client(options).request<FreezeOutcome>('POST', '/v1/freeze', { reason });
  if (options.json) return printJson(outcome);
  if (outcome.alreadyFrozen) {
    process.stdout.write(
      `Already frozen${since(outcome)}: ${inert(outcome.reason ?? '')}\nNothing changed; the first freeze stands.\n`,
    );
    return;
  }
  const { voided } = outcome;
  process.stdout.write(
    [
      `Frozen${since(outcome)}. Agents can propose, apply and run nothing; you can still look, deny, roll back and restore.`,
      `Voided for good: ${voided.proposals.length} by-agent grant(s), ${voided.execGrants.length} standing exec grant(s), ${voided.execRequests.length} allowed exec request(s) not yet run.`,
      'Lift it with: countersign unfreeze',
      '',
    ].join('\n'),
  );
}

/** Asks for a code on a terminal when the first try says one is needed; otherwise the refusal stands. */
async function withTotpRetry<T>(totp: string | undefined, attempt: (code: string | undefined) => Promise<T>) {
  try {
    return await attempt(totp);
  } catch (error) {
    if (!(error instanceof CountersignError) || error.code !== 'totp_required' || totp !== undefined) throw error;
    if (!process.stdin.isTTY) throw error;
    const code = await promptTotp();
    if (code === undefined) throw error;
    return attempt(code);
  }
}

export async function unfreezeCommand(
  options: Options & { totp?: string; owner?: string; reason?: string },
): Promise<void> {
  const outcome = await withTotpRetry<UnfreezeOutcome>(options.totp, async (totp) => {
    if (options.data) {
      const data = options.data;
      return withService(data, (service) =>
        unfreezeOnDataDir(service, { owner: options.owner, totp, reason: options.reason }),
      );
    }
    if (options.owner !== undefined) {
      throw new CliError('--owner goes with --data; through the server, the owner is the one the token belongs to.');
    }
    return new Client(options).request<UnfreezeOutcome>('POST', '/v1/unfreeze', {
      ...(totp === undefined ? {} : { totp }),
      ...(options.reason ? { reason: options.reason } : {}),
    });
  });
  if (options.json) return printJson(outcome);
  process.stdout.write(
    outcome.wasFrozen
      ? 'Unfrozen. Agents may propose and ask again; grants voided by the freeze stay void.\n'
      : 'Not frozen; nothing to lift.\n',
  );
}

export async function statusCommand(options: Options): Promise<void> {
  const status = options.data
    ? withService(options.data, (service) => freezeStatus(service))
    : await new Client(options).request<FreezeStatus>('GET', '/v1/status');
  if (options.json) return printJson(status);
  process.stdout.write(statusText(status, status.lastDrill as LastDrill | null));
}
