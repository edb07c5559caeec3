import { createInterface } from 'node:readline';
import { styleText } from 'node:util';
import type { CountersignError } from '../core/errors.js';
import type { TextOptions, TextStyle } from '../core/render.js';
import { inert, inertJson } from '../core/text/inert.js';

/**
 * `--json` output: the same JSON value, with the characters that act on a terminal or hide
 * (bidi overrides, zero-width, C1) written as `\uXXXX` escapes, so printing it is safe too.
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${inertJson(value, 2)}\n`);
}

/** A failure the user can act on: printed without a stack trace, exit code 1 (or as given). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** What each refusal means for the person at the terminal, beyond the server's own sentence. */
const advice: Partial<Record<string, string>> = {
  unauthorized: 'Set COUNTERSIGN_TOKEN to a valid owner token (countersign token create --role owner …).',
  forbidden: 'This needs an owner token.',
  not_found: 'Check the id with `countersign pending`.',
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
};

export function explainRefusal(error: CountersignError | { code: string; message: string }): string {
  const hint = advice[error.code];
  // The server's sentence may quote a path or key the agent chose: shown inert.
  const message = String(error.message).split('\n').map(inert).join('\n  ');
  return `${message} [${inert(error.code)}]${hint ? `\n  ${hint}` : ''}`;
}

export async function prompt(question: string, options: { secret?: boolean } = {}): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new CliError(`${question.trim()} — no terminal to ask on; pass it as an option instead.`);
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
    { secret: true },
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
