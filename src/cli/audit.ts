import type { AuditEvent, ChainHead } from '../core/audit.js';
import { parseHead, VerifyQuerySchema } from '../core/requests.js';
import { inert, inertJsonText } from '../core/text/inert.js';
import { verifyAudit } from '../service/audit.js';
import { openService } from '../service/context.js';
import { Client, type ClientOptions } from './client.js';
import { dataDirFrom, requireDataDir, requireInitialised } from './data-dir.js';
import { CliError, printJson } from './io.js';

/** One line per event; names and paths may be an agent's, so everything printed is inert. */
function printEvents(events: AuditEvent[]): void {
  for (const event of events) {
    const who = event.actor
      ? inert(`${event.actor.role}:${event.actor.name}${event.actor.surface ? `@${event.actor.surface}` : ''}`)
      : '-';
    const extra = inert(
      [event.tier, event.stepUp ? `step-up=${event.stepUp}` : null, event.proposalId].filter(Boolean).join(' '),
    );
    process.stdout.write(
      `${String(event.seq).padStart(6)}  ${inert(event.at)}  ${inert(event.kind).padEnd(18)} ${who.padEnd(22)} ${extra}\n`,
    );
    if (event.paths.length)
      process.stdout.write(
        `        paths: ${event.paths
          .slice(0, 8)
          .map((path) => inert(path))
          .join(', ')}${event.paths.length > 8 ? ' …' : ''}\n`,
      );
  }
}

/**
 * Reads from the data directory when given one (no server needed), otherwise from the server:
 * `--data`, then `--url`, then $COUNTERSIGN_DATA, then the server ($COUNTERSIGN_URL or the default).
 */
export async function auditList(
  options: ClientOptions & { data?: string; json?: boolean; after?: string; limit?: string },
): Promise<void> {
  const after = Number(options.after ?? 0);
  const limit = Number(options.limit ?? 500);
  const data = options.data ?? (options.url ? undefined : dataDirFrom(undefined));
  let events: AuditEvent[];
  if (data) {
    const service = openService(requireInitialised(data), { readonlyDatabase: true });
    try {
      events = service.audit.list({ after, limit });
    } finally {
      service.close();
    }
  } else {
    events = (
      await new Client(options).request<{ events: AuditEvent[] }>('GET', `/v1/audit?after=${after}&limit=${limit}`)
    ).events;
  }
  if (options.json) return printJson({ events });
  printEvents(events);
}

function expectedHead(text: string): ChainHead {
  if (!VerifyQuerySchema.safeParse({ expectHead: text }).success) {
    throw new CliError('--expect-head takes SEQ:HASH as printed by `countersign audit head`.');
  }
  return parseHead(text);
}

function jobsOf(text: string): number {
  const jobs = Number(text);
  if (!/^\d+$/.test(text) || jobs < 1 || jobs > 64) throw new CliError('--jobs takes a whole number from 1 to 64.');
  return jobs;
}

/** Exit 0 when the chain is intact, 1 with the first broken sequence number otherwise. */
export async function auditVerify(options: {
  data: string;
  json?: boolean;
  expectHead?: string;
  jobs?: string;
}): Promise<number> {
  const expected = options.expectHead ? expectedHead(options.expectHead) : undefined;
  const jobs = options.jobs === undefined ? undefined : jobsOf(options.jobs);
  const service = openService(requireDataDir(options.data), { readonlyDatabase: true });
  try {
    const result = await verifyAudit(service, { jobs, expectHead: expected });
    if (options.json) printJson(result);
    else if (result.ok)
      process.stdout.write(`Audit chain intact: ${result.count} events, head ${result.head.seq}:${result.head.hash}\n`);
    else process.stdout.write(`Audit chain BROKEN at event ${result.brokenAt}: ${inert(String(result.reason))}\n`);
    return result.ok ? 0 : 1;
  } finally {
    service.close();
  }
}

/** The current head, to keep somewhere the host cannot rewrite (a ticket, a log system, paper). */
export function auditHead(options: { data: string; json?: boolean }): void {
  const service = openService(requireDataDir(options.data), { readonlyDatabase: true });
  try {
    const head = service.audit.head();
    if (options.json) return printJson(head);
    process.stdout.write(head ? `${head.seq}:${head.hash}\n` : 'The audit log is empty.\n');
  } finally {
    service.close();
  }
}

/** One JSON object per line, oldest first, for shipping to a log system (`--json` is accepted: it is JSON already). */
export function auditExport(options: { data: string }): void {
  const service = openService(requireDataDir(options.data), { readonlyDatabase: true });
  try {
    for (const event of service.audit.iterate()) process.stdout.write(`${inertJsonText(JSON.stringify(event))}\n`);
  } finally {
    service.close();
  }
}
