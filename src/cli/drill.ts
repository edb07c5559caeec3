import type { z } from 'zod';
import type { Card } from '../core/card.js';
import { type DrillReport, DrillRequestSchema } from '../core/drill.js';
import { CountersignError } from '../core/errors.js';
import { renderText } from '../core/render.js';
import { RestoreRequestSchema } from '../core/restore.js';
import { inert } from '../core/text/inert.js';
import { runDrill } from '../service/drill.js';
import { dataDirActor } from '../service/freeze.js';
import type { ProposeOutcome } from '../service/propose.js';
import { restore } from '../service/restore.js';
import { Client, type ClientOptions } from './client.js';
import { withService } from './data-dir.js';
import { CliError, printJson, printTable, reportError, terminalOptions, terminalStyle } from './io.js';

/*
 * `countersign drill` and `countersign restore` (SPEC §11, issue 13). Each works through a
 * running server with an owner token (COUNTERSIGN_URL, COUNTERSIGN_TOKEN), or directly on the
 * data directory with --data (no server needed), like `countersign audit` and `freeze`.
 * With --json, a failure is `{ "error": { code, message } }` on stdout and a non-zero exit.
 */

type Options = ClientOptions & { data?: string; json?: boolean; target?: string };

/** A whole positive number from an option, or a CliError naming the option. */
function count(value: string | undefined, option: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim()))
    throw new CliError(`${option} takes a whole number, not "${value}".`, 1, 'invalid_usage');
  return Number(value.trim());
}

/** The request body, or a CliError saying which value is wrong (checked here so --json reports it alike). */
function parsed<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`);
  throw new CliError(`Invalid options: ${issues.join('; ')}`, 1, 'invalid_usage');
}

function printDrill(report: DrillReport): void {
  if (report.changes.length === 0) {
    process.stdout.write('No applied changes to drill yet. Nothing to restore means nothing can fail to restore.\n');
    return;
  }
  printTable(
    ['PROPOSAL', 'TARGET', 'RESTORABLE', 'MS', 'TIER'],
    report.changes.map((change) => [
      inert(change.proposalId),
      inert(change.target),
      change.restorable ? 'yes' : 'NO',
      String(change.ms),
      inert(change.tier ?? '-'),
    ]),
  );
  for (const change of report.changes.filter((item) => !item.restorable)) {
    process.stdout.write(
      `\n${inert(change.proposalId)} [${inert(change.code ?? '')}]\n  ${inert(change.reason ?? '')}\n`,
    );
    for (const issue of change.issues?.slice(0, 5) ?? []) {
      process.stdout.write(`  schema: ${inert(issue.path)} ${inert(issue.message)}\n`);
    }
  }
  const failed = report.changes.filter((change) => !change.restorable).length;
  process.stdout.write(
    failed === 0
      ? `\nEvery change is restorable (${report.changes.length} drilled; recorded as audit event ${report.seq ?? '?'}).\n`
      : `\n${failed} of ${report.changes.length} changes are NOT restorable (recorded as audit event ${report.seq ?? '?'}).\n`,
  );
}

/** `countersign drill`: exit 0 when every drilled change is restorable, 1 otherwise (or on failure). */
export async function drillCommand(options: Options & { last?: string }): Promise<number> {
  try {
    const request = parsed(DrillRequestSchema, {
      last: count(options.last, '--last', 10),
      ...(options.target ? { target: options.target } : {}),
    });
    const report = options.data
      ? withService(options.data, (service) => runDrill(service, dataDirActor(undefined), request))
      : await new Client(options).request<DrillReport>('POST', '/v1/drill', request);
    if (options.json) printJson(report);
    else printDrill(report);
    return report.ok ? 0 : 1;
  } catch (error) {
    return reportError(error, options.json ?? false);
  }
}

function printRestore(outcome: ProposeOutcome['body'], toSeq: number): void {
  if (outcome.status === 'unchanged') {
    process.stdout.write(`The document is already as it was after audit event ${toSeq}; nothing to restore.\n`);
    return;
  }
  const card = (outcome as { proposal: Card }).proposal;
  process.stdout.write(renderText(card, terminalStyle(), terminalOptions()));
  process.stdout.write(
    outcome.status === 'applied'
      ? `\nRestored: every change was allowlisted, so it applied at once (now ${inert((outcome as { hash: string }).hash)}).\n`
      : `\nProposed as ${inert(card.id)}, pending. Review and apply it with: countersign approve ${inert(card.id)}\n`,
  );
}

/** `countersign restore --to SEQ`: proposes the document as it was after that audit event. */
export async function restoreCommand(options: Options & { to?: string; reason?: string }): Promise<number> {
  try {
    const request = parsed(RestoreRequestSchema, {
      toSeq: count(options.to, '--to'),
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.target ? { target: options.target } : {}),
    });
    let outcome: ProposeOutcome['body'];
    if (options.data) {
      // A proposal is made by a credential: directly on the data directory, the owner token says whose.
      const token = options.token ?? process.env.COUNTERSIGN_TOKEN;
      if (!token) {
        throw new CliError(
          'restore --data needs an owner token (COUNTERSIGN_TOKEN or --token): the proposal is made in its name.',
          1,
          'unauthorized',
        );
      }
      outcome = withService(options.data, (service) => {
        const caller = service.tokens.authenticate(token);
        if (!caller) throw new CountersignError('unauthorized', 'That token is not valid for this installation.');
        return restore(service, caller, request).body;
      });
    } else {
      outcome = await new Client(options).request<ProposeOutcome['body']>('POST', '/v1/restore', request);
    }
    if (options.json) printJson(outcome);
    else printRestore(outcome, request.toSeq);
    return 0;
  } catch (error) {
    return reportError(error, options.json ?? false);
  }
}
