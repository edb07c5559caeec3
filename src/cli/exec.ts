import { CountersignError } from '../core/errors.js';
import type { ExecDecision } from '../core/exec/decide.js';
import { decisionCommands, renderExecText, riskFlags } from '../core/exec/render.js';
import type { ExecRequest } from '../core/exec/request.js';
import { inert } from '../core/text/inert.js';
import { shownValue } from '../core/text/value-diff.js';
import type { ExecGrant } from '../store/exec-requests.js';
import { Client, type ClientOptions } from './client.js';
import { type CheckDecision, checkExitCode, exitCodes, parseDuration, parseEnvOptions } from './exec-args.js';
import { execRun, type RunOptions, realCwd } from './exec-run.js';
import { resolveId } from './ids.js';
import {
  CliError,
  errorBody,
  errorExitCode,
  explainRefusal,
  printJson,
  printTable,
  prompt,
  promptTotp,
  terminalOptions,
  terminalStyle,
} from './io.js';

/*
 * `countersign exec …` (SPEC §9): the agent's `run` (exec-run.ts) and `check`, and the owner's
 * `pending`, `show`, `approve`, `deny` and `grants`. Everything printed that came from the
 * server goes through src/core/text/ (the request is agent text through and through).
 * With --json, a failure is `{ "error": { code, message } }` on stdout and a non-zero exit.
 */

type JsonOptions = ClientOptions & { json?: boolean };

/** Runs a command; with --json, its failure is printed as JSON on stdout instead of a line on stderr. */
async function jsonErrors(
  options: { json?: boolean },
  action: () => Promise<number | undefined>,
  exitCode = 1,
): Promise<number | undefined> {
  try {
    return await action();
  } catch (error) {
    if (!options.json) throw error;
    printJson(errorBody(error));
    return error instanceof CliError ? errorExitCode(error) : exitCode;
  }
}

const requestPath = (id: string) => `/v1/exec/requests/${encodeURIComponent(id)}`;

/** The request an owner named by its id or a unique prefix of 8+ characters of it. */
async function fetchRequest(client: Client, typed: string): Promise<ExecRequest> {
  const id = await resolveId(client, 'exec_request', typed);
  return (await client.request<{ request: ExecRequest }>('GET', requestPath(id))).request;
}

/** The command, on one line and cut: `show` has it whole, token by token. */
function commandCell(request: ExecRequest, max = 60): string {
  const text = request.argv !== null ? shownValue(request.argv) : `sh -c ${shownValue(request.commandText ?? '')}`;
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}

// ---------------------------------------------------------------------------------------------
// Agent

export function run(argv: string[], options: RunOptions): Promise<number> {
  return execRun(argv, options);
}

type CheckOptions = JsonOptions & { cwd?: string; session?: string; env?: string[] };

/** `exec check`: the decision without storing anything (dryRun). Exit 0 allow, 1 ask, 126 deny, 125 error. */
export function check(argv: string[], options: CheckOptions): Promise<number | undefined> {
  return jsonErrors(
    options,
    async () => {
      const client = new Client(options);
      const body = {
        argv,
        cwd: realCwd(options.cwd),
        sessionKey: options.session ?? process.env.COUNTERSIGN_SESSION ?? 'exec-check',
        dryRun: true,
        ...((options.env ?? []).length > 0 ? { env: parseEnvOptions(options.env ?? [], process.env) } : {}),
      };
      let decision: CheckDecision;
      let request: ExecRequest | null = null;
      let denial: CountersignError | null = null;
      try {
        const result = await client.request<{ decision: 'allow' | 'ask'; request: ExecRequest }>(
          'POST',
          '/v1/exec/requests',
          body,
        );
        decision = result.decision;
        request = result.request;
      } catch (error) {
        if (!(error instanceof CountersignError) || error.code !== ('exec_denied' as string)) throw error;
        decision = 'deny';
        denial = error;
      }
      if (options.json) {
        printJson(
          denial ? { decision, reason: denial.details.reason ?? null, message: denial.message } : { decision, request },
        );
        return checkExitCode(decision);
      }
      const reason = denial ? String(denial.details.reason ?? denial.message) : (request?.reason ?? '');
      process.stdout.write(`Decision: ${decision.toUpperCase()} (${inert(reason)})\n`);
      if (denial) process.stdout.write(`${inert(denial.message)}\n`);
      if (request) {
        process.stdout.write('\n');
        process.stdout.write(renderExecText(request, terminalStyle(), { ...terminalOptions(), howToDecide: false }));
      }
      return checkExitCode(decision);
    },
    exitCodes.failed,
  ).catch((error: unknown) => {
    // Without --json, check's own failures must not exit 1 (that means "ask").
    if (error instanceof CliError) throw error;
    const message = error instanceof CountersignError ? explainRefusal(error) : (error as Error).message;
    throw new CliError(message, exitCodes.failed);
  });
}

// ---------------------------------------------------------------------------------------------
// Owner

export function pending(options: JsonOptions & { status?: string }): Promise<number | undefined> {
  return jsonErrors(options, async () => {
    const status = options.status ?? 'pending';
    const { requests } = await new Client(options).request<{ requests: ExecRequest[] }>(
      'GET',
      `/v1/exec/requests?status=${encodeURIComponent(status)}`,
    );
    if (options.json) return void printJson({ requests });
    if (requests.length === 0) return void process.stdout.write(`No ${inert(status)} exec requests.\n`);
    printTable(
      ['ID', 'RISK', 'AGENT', 'EXPIRES (UTC)', 'COMMAND'],
      requests.map((request) => [
        inert(request.id),
        riskFlags(request.risk)
          .map((flag) => flag.toLowerCase())
          .join(',') || '-',
        inert(request.agentId),
        inert(request.expiresAt.replace('T', ' ').slice(0, 19)),
        commandCell(request),
      ]),
    );
    return undefined;
  });
}

export function show(id: string, options: JsonOptions): Promise<number | undefined> {
  return jsonErrors(options, async () => {
    const request = await fetchRequest(new Client(options), id);
    if (options.json) return void printJson({ request });
    process.stdout.write(renderExecText(request, terminalStyle(), terminalOptions()));
    return undefined;
  });
}

type ApproveOptions = JsonOptions & { always?: boolean; for?: string; totp?: string; reason?: string; yes?: boolean };

/**
 * Shows the card, then resolves with exactly the plan shown (its planHash). TOTP is prompted for
 * without echo on a terminal when the request needs it (empty: "I am within my cooldown"); with
 * no terminal, a refusal for want of a code names the option to pass.
 */
export function approve(id: string, options: ApproveOptions): Promise<number | undefined> {
  return jsonErrors(options, async () => {
    const client = new Client(options);
    const request = await fetchRequest(client, id);
    // Not pending: one line, not the whole card first.
    if (request.status !== 'pending') {
      throw new CliError(
        `Exec request ${inert(request.id)} is already ${inert(request.status)}; there is nothing to approve.`,
        1,
        'not_pending',
        { status: request.status },
      );
    }
    if (!options.json) process.stdout.write(renderExecText(request, terminalStyle(), terminalOptions()));
    const durationSeconds = options.for === undefined ? undefined : parseDuration(options.for, '--for');
    const decision: ExecDecision = options.always ? 'allow-always' : durationSeconds ? 'allow-for' : 'allow-once';
    if (!request.allowedDecisions.includes(decision)) {
      const allowed = decisionCommands(request)
        .map(([, command]) => command)
        .join(' | ');
      throw new CliError(
        `${decision} is not allowed for this request (inline eval or unanalysable shell text cannot be allowed for good). Use: ${allowed}`,
      );
    }
    const interactive = process.stdin.isTTY && !options.json;
    if (interactive && !options.yes) {
      const answer = await prompt(
        `\n${decision === 'allow-once' ? 'Allow this command once' : `Decide ${decision}`}? [y/N] `,
      );
      if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('Not approved.');
    }
    let totp = options.totp;
    if (request.approval.totp && totp === undefined && interactive) {
      totp = await promptTotp();
    }
    let result: { status: string; request: ExecRequest };
    try {
      result = await client.request('POST', `${requestPath(request.id)}/resolve`, {
        decision,
        planHash: request.planHash,
        ...(durationSeconds === undefined ? {} : { durationSeconds }),
        ...(totp === undefined ? {} : { totp }),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      });
    } catch (error) {
      if (error instanceof CountersignError && error.code === 'totp_required' && !interactive) {
        throw new CliError(
          `This request needs an authenticator code and there is no terminal to ask on: pass --totp CODE. [totp_required]`,
        );
      }
      throw error;
    }
    if (options.json) return void printJson(result);
    const resolution = result.request.resolution;
    const until = resolution?.grantExpiresAt ? ` The agent may run it until ${inert(resolution.grantExpiresAt)}.` : '';
    const extra =
      decision === 'allow-always'
        ? ' Added to the allowlist.'
        : decision === 'allow-for'
          ? ` Standing grant${resolution?.grantId ? ` ${inert(resolution.grantId)}` : ''} for ${durationSeconds} s (countersign exec grants).`
          : '';
    process.stdout.write(`${decision === 'allow-once' ? 'Allowed once' : `Allowed (${decision})`}.${extra}${until}\n`);
    return undefined;
  });
}

export function deny(id: string, options: JsonOptions & { reason?: string }): Promise<number | undefined> {
  return jsonErrors(options, async () => {
    const client = new Client(options);
    const request = await fetchRequest(client, id);
    const result = await client.request<{ status: string; request: ExecRequest }>(
      'POST',
      `${requestPath(request.id)}/resolve`,
      {
        decision: 'deny',
        planHash: request.planHash,
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      },
    );
    if (options.json) return void printJson(result);
    process.stdout.write(`Denied ${inert(request.id)}.\n`);
    return undefined;
  });
}

export function grants(options: JsonOptions): Promise<number | undefined> {
  return jsonErrors(options, async () => {
    const { grants } = await new Client(options).request<{ grants: ExecGrant[] }>('GET', '/v1/exec/grants');
    if (options.json) return void printJson({ grants });
    if (grants.length === 0) return void process.stdout.write('No standing exec grants.\n');
    printTable(
      ['ID', 'AGENT', 'EXPIRES (UTC)', 'PATTERN', 'ARGUMENTS'],
      grants.map((grant) => [
        inert(grant.id),
        inert(grant.agentId),
        inert(String(grant.expiresAt).replace('T', ' ').slice(0, 19)),
        shownValue(grant.pattern),
        shownValue(grant.argPattern),
      ]),
    );
    return undefined;
  });
}

export function grantsRevoke(typed: string, options: JsonOptions): Promise<number | undefined> {
  return jsonErrors(options, async () => {
    const client = new Client(options);
    const id = await resolveId(client, 'exec_grant', typed);
    const result = await client.request<unknown>('DELETE', `/v1/exec/grants/${encodeURIComponent(id)}`);
    if (options.json) return void printJson(result || { revoked: id });
    process.stdout.write(`Revoked grant ${inert(id)}.\n`);
    return undefined;
  });
}
