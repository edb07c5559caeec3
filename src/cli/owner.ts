import type { Card } from '../core/card.js';
import { CountersignError } from '../core/errors.js';
import { renderText } from '../core/render.js';
import { inert, inertJson } from '../core/text/inert.js';
import { Client, type ClientOptions } from './client.js';
import { resolveId } from './ids.js';
import { CliError, printJson, printTable, prompt, promptTotp, terminalOptions, terminalStyle } from './io.js';

type OwnerOptions = ClientOptions & { json?: boolean };

/*
 * Everything printed here that came from the server and could hold agent text (ids, names, paths,
 * statuses, hashes) goes through `inert`: a path such as "a\x1b[2K…" must not act on the terminal.
 */

export async function pending(options: OwnerOptions & { status?: string }): Promise<void> {
  const status = options.status ?? 'pending';
  const { proposals } = await new Client(options).request<{ proposals: Card[] }>(
    'GET',
    `/v1/proposals?status=${encodeURIComponent(status)}`,
  );
  if (options.json) return printJson({ proposals });
  if (proposals.length === 0) {
    process.stdout.write(`No ${status} proposals.\n`);
    return;
  }
  const rows = proposals.map((card) => [
    inert(card.id),
    inert(card.tier),
    inert(card.requestedBy.agentId ?? card.requestedBy.name),
    inert(card.expiresAt.replace('T', ' ').slice(0, 19)),
    card.changes
      .map((change) => inert(change.path))
      .slice(0, 3)
      .join(', ') + (card.changes.length > 3 ? ` (+${card.changes.length - 3})` : ''),
  ]);
  printTable(['ID', 'TIER', 'FROM', 'EXPIRES (UTC)', 'PATHS'], rows);
}

export async function show(typed: string, options: OwnerOptions): Promise<void> {
  const client = new Client(options);
  const id = await resolveId(client, 'proposal', typed);
  const card = await client.request<Card>('GET', `/v1/proposals/${encodeURIComponent(id)}`);
  if (options.json) return printJson(card);
  process.stdout.write(renderText(card, terminalStyle(), terminalOptions()));
}

/** A card that is no longer pending: said in one line (who decided, when), without the card. */
function notPending(card: Card): CliError {
  const by = card.resolution?.by ? ` by ${inert(card.resolution.by.name)}` : '';
  const at = card.resolution?.at ? ` at ${inert(card.resolution.at)}` : '';
  const code = card.status === 'applied' ? 'already_applied' : 'not_pending';
  return new CliError(
    `Proposal ${inert(card.id)} is already ${inert(card.status)}${by}${at}; there is nothing to approve (countersign show ${inert(card.id)} shows it).`,
    1,
    code,
    { status: card.status },
  );
}

/**
 * Shows the card, then asks for exactly what it requires: the confirmation phrase and, for
 * TOTP tiers, a code (read without echo; empty means "I am within my cooldown"). With no
 * terminal (or with --json, whose stdout is for JSON) nothing is asked: a missing phrase fails
 * naming `--confirm`, a missing code naming `--totp`.
 */
export async function approveCommand(
  typed: string,
  options: OwnerOptions & { totp?: string; confirm?: string; yes?: boolean },
): Promise<void> {
  const client = new Client(options);
  const id = await resolveId(client, 'proposal', typed);
  const card = await client.request<Card>('GET', `/v1/proposals/${encodeURIComponent(id)}`);
  if (card.status !== 'pending') throw notPending(card);
  const interactive = Boolean(process.stdin.isTTY) && !options.json;
  if (!options.json) process.stdout.write(renderText(card, terminalStyle(), terminalOptions()));
  let confirm = options.confirm;
  const phrase = card.approval.confirmPhrase;
  if (phrase && confirm === undefined) {
    const question = `\nThis is a ${inert(card.tier)} change. Type "${inert(phrase)}" to approve: `;
    const option = `--confirm "${inert(phrase)}"`;
    if (!interactive) {
      throw new CliError(
        `This ${inert(card.tier)} change needs its confirmation phrase and there is no terminal to ask on: pass ${option}.`,
        1,
        'confirm_required',
      );
    }
    confirm = await prompt(question, { option });
  } else if (!phrase && !options.yes && interactive) {
    const answer = await prompt('\nApprove this change? [y/N] ', { option: '--yes' });
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('Not approved.', 1, 'not_approved');
  }
  let totp = options.totp;
  if (card.approval.totp && totp === undefined && interactive) {
    totp = await promptTotp();
  }
  const result = await client
    .request<{
      status: string;
      hash?: string;
      restartRequired?: boolean;
      grant?: { expiresAt: string };
    }>('POST', `/v1/proposals/${encodeURIComponent(id)}/approve`, {
      patchHash: card.patchHash,
      ...(confirm === undefined ? {} : { confirm }),
      ...(totp === undefined ? {} : { totp }),
    })
    .catch((error: unknown) => {
      // Without a terminal no code was asked for: say which option gives it.
      if (error instanceof CountersignError && error.code === 'totp_required' && !interactive) {
        throw new CountersignError(
          'totp_required',
          `${error.message} There is no terminal to ask on: pass --totp CODE (or a recovery code).`,
          error.details,
        );
      }
      throw error;
    });
  if (options.json) return printJson(result);
  if (result.status === 'approved') {
    process.stdout.write(`Approved. The agent may apply it until ${inert(result.grant?.expiresAt ?? '')}.\n`);
  } else {
    process.stdout.write(
      `Applied. Document is now ${inert(result.hash ?? '')}.${result.restartRequired ? ' Restart the gateway for it to take effect.' : ''}\n`,
    );
  }
}

export async function denyCommand(typed: string, options: OwnerOptions & { reason?: string }): Promise<void> {
  const client = new Client(options);
  const id = await resolveId(client, 'proposal', typed);
  const result = await client.request<{ status: string }>('POST', `/v1/proposals/${encodeURIComponent(id)}/deny`, {
    ...(options.reason ? { reason: options.reason } : {}),
  });
  if (options.json) return printJson(result);
  process.stdout.write(`Denied ${inert(id)}.\n`);
}

export async function rollbackCommand(typed: string, options: OwnerOptions): Promise<void> {
  const client = new Client(options);
  const id = await resolveId(client, 'proposal', typed);
  const result = await client.request<{ status: string; proposal?: Card; hash?: string }>(
    'POST',
    `/v1/proposals/${encodeURIComponent(id)}/rollback`,
  );
  if (options.json) return printJson(result);
  if (result.status === 'unchanged')
    process.stdout.write('Nothing to roll back: the document already has those values.\n');
  else if (result.status === 'applied')
    process.stdout.write(`Rolled back (allowlisted, applied at once). Document is now ${inert(result.hash ?? '')}.\n`);
  else {
    const proposalId = inert(result.proposal?.id ?? '');
    process.stdout.write(
      `Rollback proposed as ${proposalId} (${inert(result.proposal?.tier ?? '')}); approve it with \`countersign approve ${proposalId}\`.\n`,
    );
  }
}

/** Follows the server's event stream (SSE) until interrupted: one line per event, or raw JSON lines with --json. */
export async function watch(options: OwnerOptions): Promise<void> {
  const client = new Client(options);
  const response = await client.stream('/v1/events');
  const decoder = new TextDecoder();
  let buffer = '';
  if (!options.json) process.stdout.write(`Watching ${inert(client.url)} — Ctrl-C to stop.\n`);
  for await (const chunk of response) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const event = /^event: (.+)$/m.exec(frame)?.[1];
      const data = /^data: (.+)$/m.exec(frame)?.[1];
      if (!event || !data) continue;
      if (options.json) {
        process.stdout.write(`${inertJson({ event, data: JSON.parse(data) })}\n`);
        continue;
      }
      const payload = JSON.parse(data) as { proposal?: Card; hash?: string } & Partial<Card>;
      const card = payload.proposal ?? (payload as Card);
      const paths = card.changes?.map((change) => inert(String(change.path))).join(', ') ?? '';
      const field = (value: unknown) => (value === undefined || value === null ? '' : inert(String(value)));
      process.stdout.write(
        `${new Date().toISOString()}  ${inert(event).padEnd(18)} ${field(card.id)}  ${field(card.tier)}  ${field(card.status)}  ${paths}\n`,
      );
    }
  }
}
