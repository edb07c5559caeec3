// The built CLI on a real pseudo-terminal (test/support/pty-drive.py), for the tests of what an
// owner sees and types at its prompts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cliPath, repoRoot } from './cli.js';

const driver = fileURLToPath(new URL('../support/pty-drive.py', import.meta.url));

/**
 * Runs `countersign ARGS` on a pseudo-terminal, typing each answer only once its prompt is on
 * screen; returns the exit code and every byte the CLI wrote (with pty-drive's
 * `<<answered …>>` marks). `term` is TERM: `dumb` unless a test emulates a real terminal.
 */
export function onTerminal(
  args: string[],
  answers: Array<[prompt: string, answer: string]>,
  env: Record<string, string>,
  term = 'dumb',
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [driver, JSON.stringify(answers), process.execPath, cliPath, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env, TERM: term },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}
