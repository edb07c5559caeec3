import { createInterface } from 'node:readline';
import { styleText } from 'node:util';
import { CommanderError } from 'commander';
import { CountersignError, SetupError } from '../core/errors.js';
import type { TextOptions, TextStyle } from '../core/render.js';
import { inert, inertJson } from '../core/text/inert.js';

/**
 * `--json` output: the same JSON value, with the characters that act on a terminal or hide
 * (bidi overrides, zero-width, C1) written as `\uXXXX` escapes, so printing it is safe too.
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${inertJson(value, 2)}\n`);
}

/**
 * A failure the user can act on: printed without a stack trace, exit code 1 (or as given).
 * `code` is what `--json` reports as `error.code` (e.g. `not_initialised`, `ambiguous_id`);
 * `details` are merged into that object (e.g. `matches`).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly code = 'cli_error',
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The server could not be reached (refused, DNS, TLS): `error.code` `unreachable`. */
export class UnreachableError extends Error {
  readonly code = 'unreachable';
}

/** What `--json` prints for a failure, on stdout: `{ "error": { "code", "message", … } }`. */
export type ErrorBody = { error: { code: string; message: string } & Record<string, unknown> };

/**
 * Whether the command line asked for JSON, judged from the words before `--` (after it they
 * belong to the command `exec run` runs). Used where commander has not parsed the options yet
 * (its own usage errors) or could not.
 */
export function jsonRequested(argv: readonly string[] = process.argv.slice(2)): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Any failure as the `--json` error object: the server's refusals keep their code and details. */
export function errorBody(error: unknown): ErrorBody {
  // The server's refusal as it came, advice aside (that is for people; programs go by `code`).
  if (error instanceof CountersignError)
    return { error: { ...error.details, code: error.code, message: error.message } };
  if (error instanceof CliError) return { error: { ...error.details, code: error.code, message: error.message } };
  if (error instanceof CommanderError) {
    // commander's own usage errors ("error: unknown option '--x'"): one code, commander's kept beside it.
    return {
      error: { code: 'invalid_usage', message: error.message.replace(/^error: /, ''), commanderCode: error.code },
    };
  }
  if (error instanceof UnreachableError) return { error: { code: error.code, message: error.message } };
  if (error instanceof SetupError) return { error: { code: 'setup_error', message: error.message } };
  return { error: { code: 'internal', message: (error as Error)?.message ?? String(error) } };
}

/** The exit code a failure ends the command with: a CliError's own, commander's, else 1. */
export function errorExitCode(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof CommanderError) return error.exitCode || 1;
  return 1;
}

/**
 * Prints a failure the way the command line was asked for — JSON on stdout with `json`, one
 * readable line (plus advice) on stderr otherwise — and returns the exit code to end with.
 * Command modules that catch their own errors use this so every command fails alike.
 */
export function reportError(error: unknown, json: boolean): number {
  if (json) {
    printJson(errorBody(error));
  } else if (error instanceof CountersignError) {
    process.stderr.write(`countersign: ${explainRefusal(error)}\n`);
  } else {
    process.stderr.write(`countersign: ${(error as Error)?.message ?? String(error)}\n`);
    const known = [CliError, SetupError, UnreachableError, CommanderError].some((type) => error instanceof type);
    if (!known && process.env.COUNTERSIGN_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
  }
  return errorExitCode(error);
}

/** What each refusal means for the person at the terminal, beyond the server's own sentence. */
const advice: Partial<Record<string, string>> = {
  unauthorized:
    'Tokens come from `countersign init` or `countersign token create --data DIR --role owner --name NAME`; export it as COUNTERSIGN_TOKEN.',
  forbidden: 'This needs an owner token.',
  not_found: 'Check the id with `countersign pending` (any unique prefix of 8 or more characters will do).',
  not_pending: 'Someone already decided on it.',
  expired: 'Ask the agent to propose the change again.',
  surface_not_allowed: 'Approve it from a surface the policy allows for this tier (e.g. the CLI with a cli token).',
  patch_mismatch: 'The change is not the one you reviewed; run `countersign show` again.',
  confirm_required: 'Type the confirmation phrase exactly as shown on the card.',
  totp_not_enrolled: 'Enrol an authenticator: countersign totp enroll --data DIR --owner NAME.',
  totp_required: 'Enter the 6-digit code from your authenticator app.',
  totp_invalid: 'Check your authenticator app and the clock of this machine.',
  totp_replayed: 'Wait for the next code (up to 30 seconds).',
  totp_locked: 'Too many wrong codes; wait before trying again.',
  stale_base: 'The document changed; the proposal is now stale and the agent must propose again.',
  audit_unavailable: 'The server cannot write its audit log; check its disk and database.',
  frozen: 'An owner froze agent actions (see `countersign status`); only an owner can lift it: `countersign unfreeze`.',
};

export function explainRefusal(error: CountersignError | { code: string; message: string }): string {
  const hint = advice[error.code];
  // The server's sentence may quote a path or key the agent chose: shown inert.
  const message = String(error.message).split('\n').map(inert).join('\n  ');
  return `${message} [${inert(error.code)}]${hint ? `\n  ${hint}` : ''}`;
}

/**
 * Asks on the terminal. Without one (a pipe, CI, an agent), fails naming `option`, the flag
 * that answers the question instead (e.g. `--confirm "PHRASE"`), with code `no_terminal`.
 */
export async function prompt(question: string, options: { secret?: boolean; option?: string } = {}): Promise<string> {
  if (!process.stdin.isTTY) {
    const instead = options.option ? `pass ${options.option}` : 'pass it as an option';
    throw new CliError(`${question.trim()} — there is no terminal to ask on; ${instead} instead.`, 1, 'no_terminal');
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (options.secret) {
    // Keep the question visible but do not echo what is typed.
    const output = rl as unknown as { _writeToOutput: (text: string) => void; output: NodeJS.WriteStream };
    output._writeToOutput = (text: string) => {
      if (text.includes(question)) output.output.write(text);
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    if (options.secret) process.stdout.write('\n');
    rl.close();
  }
}

/** The question for a TOTP step-up; empty means "I am within my cooldown" (undefined: send no code). */
export async function promptTotp(): Promise<string | undefined> {
  const answer = await prompt(
    'Authenticator code from your app, or a recovery code (empty if you approved within your cooldown): ',
    { secret: true, option: '--totp CODE' },
  );
  return answer.trim() || undefined;
}

const colours = { removed: 'red', added: 'green', danger: 'red', heading: 'bold' } as const;

/** Colour only for a terminal that wants it (NO_COLOR, pipes and files get plain text). */
export function terminalStyle(): TextStyle | undefined {
  if (!process.stdout.isTTY || process.env.NO_COLOR) return undefined;
  return (role, text) => styleText(colours[role], text);
}

/** A terminal's width, so that agent text is cut before the terminal would wrap it (src/core/render.ts). */
export function terminalOptions(): TextOptions {
  return process.stdout.isTTY && process.stdout.columns ? { width: process.stdout.columns } : {};
}

/** Columns padded to their widest cell; cells must already be inert. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
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
