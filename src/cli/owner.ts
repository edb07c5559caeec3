import { styleText } from 'node:util';
import type { Card } from '../core/card.js';
import { renderText, type TextStyle } from '../core/render.js';
import { Client, type ClientOptions } from './client.js';
import { CliError, printJson, prompt } from './io.js';

type OwnerOptions = ClientOptions & { json?: boolean };

const colours = { removed: 'red', added: 'green', danger: 'red', heading: 'bold' } as const;

/** Colour only for a terminal that wants it (NO_COLOR, pipes and files get plain text). */
function terminalStyle(): TextStyle | undefined {
  if (!process.stdout.isTTY || process.env.NO_COLOR) return undefined;
  return (role, text) => styleText(colours[role], text);
}

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
    card.id,
    card.tier,
    card.requestedBy.agentId ?? card.requestedBy.name,
    card.expiresAt.replace('T', ' ').slice(0, 19),
    card.changes
      .map((change) => change.path)
      .slice(0, 3)
      .join(', ') + (card.changes.length > 3 ? ` (+${card.changes.length - 3})` : ''),
  ]);
  const header = ['ID', 'TIER', 'FROM', 'EXPIRES (UTC)', 'PATHS'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  for (const row of [header, ...rows]) {
    process.stdout.write(
      `${row
        .map((cell, column) => cell.padEnd(widths[column] as number))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

export async function show(id: string, options: OwnerOptions): Promise<void> {
  const card = await new Client(options).request<Card>('GET', `/v1/proposals/${encodeURIComponent(id)}`);
  if (options.json) return printJson(card);
  process.stdout.write(renderText(card, terminalStyle()));
}

/**
 * Shows the card, then asks for exactly what it requires: the confirmation phrase and, for
 * TOTP tiers, a code (read without echo; empty means "I am within my cooldown").
 */
export async function approveCommand(
  id: string,
  options: OwnerOptions & { totp?: string; confirm?: string; yes?: boolean },
): Promise<void> {
  const client = new Client(options);
  const card = await client.request<Card>('GET', `/v1/proposals/${encodeURIComponent(id)}`);
  if (!options.json) process.stdout.write(renderText(card, terminalStyle()));
  if (card.status !== 'pending') throw new CliError(`Proposal ${id} is ${card.status}; there is nothing to approve.`);
  let confirm = options.confirm;
  if (card.approval.confirmPhrase && confirm === undefined) {
    confirm = await prompt(`\nThis is a ${card.tier} change. Type "${card.approval.confirmPhrase}" to approve: `);
  } else if (!card.approval.confirmPhrase && !options.yes && process.stdin.isTTY) {
    const answer = await prompt('\nApprove this change? [y/N] ');
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('Not approved.');
  }
  let totp = options.totp;
  if (card.approval.totp && totp === undefined && process.stdin.isTTY) {
    totp =
      (await prompt('Authenticator code (empty if you approved within your cooldown): ', { secret: true })).trim() ||
      undefined;
  }
  const result = await client.request<{
    status: string;
    hash?: string;
    restartRequired?: boolean;
    grant?: { expiresAt: string };
  }>('POST', `/v1/proposals/${encodeURIComponent(id)}/approve`, {
    patchHash: card.patchHash,
    ...(confirm === undefined ? {} : { confirm }),
    ...(totp === undefined ? {} : { totp }),
  });
  if (options.json) return printJson(result);
  if (result.status === 'approved') {
    process.stdout.write(`Approved. The agent may apply it until ${result.grant?.expiresAt}.\n`);
  } else {
    process.stdout.write(
      `Applied. Document is now ${result.hash}.${result.restartRequired ? ' Restart the gateway for it to take effect.' : ''}\n`,
    );
  }
}

export async function denyCommand(id: string, options: OwnerOptions & { reason?: string }): Promise<void> {
  const result = await new Client(options).request<{ status: string }>(
    'POST',
    `/v1/proposals/${encodeURIComponent(id)}/deny`,
    {
      ...(options.reason ? { reason: options.reason } : {}),
    },
  );
  if (options.json) return printJson(result);
  process.stdout.write(`Denied ${id}.\n`);
}

export async function rollbackCommand(id: string, options: OwnerOptions): Promise<void> {
  const result = await new Client(options).request<{ status: string; proposal?: Card; hash?: string }>(
    'POST',
    `/v1/proposals/${encodeURIComponent(id)}/rollback`,
  );
  if (options.json) return printJson(result);
  if (result.status === 'unchanged')
    process.stdout.write('Nothing to roll back: the document already has those values.\n');
  else if (result.status === 'applied')
    process.stdout.write(`Rolled back (allowlisted, applied at once). Document is now ${result.hash}.\n`);
  else
    process.stdout.write(
      `Rollback proposed as ${result.proposal?.id} (${result.proposal?.tier}); approve it with \`countersign approve ${result.proposal?.id}\`.\n`,
    );
}

/** Follows the server's event stream (SSE) until interrupted: one line per event, or raw JSON lines with --json. */
export async function watch(options: OwnerOptions): Promise<void> {
  const client = new Client(options);
  const response = await client.stream('/v1/events');
  const decoder = new TextDecoder();
  let buffer = '';
  if (!options.json) process.stdout.write(`Watching ${client.url} — Ctrl-C to stop.\n`);
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
        process.stdout.write(`${JSON.stringify({ event, data: JSON.parse(data) })}\n`);
        continue;
      }
      const payload = JSON.parse(data) as { proposal?: Card; hash?: string } & Partial<Card>;
      const card = payload.proposal ?? (payload as Card);
      const paths = card.changes?.map((change) => change.path).join(', ') ?? '';
      process.stdout.write(
        `${new Date().toISOString()}  ${event.padEnd(18)} ${card.id ?? ''}  ${card.tier ?? ''}  ${card.status ?? ''}  ${paths}\n`,
      );
    }
  }
}
