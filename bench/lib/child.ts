import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './fixtures.js';

/** Extra node flags for child processes: `BENCH_CPU_PROF=DIR` writes their CPU profiles into DIR/NAME/. */
export function profileFlags(name: string): string[] {
  const directory = process.env.BENCH_CPU_PROF;
  if (!directory) return [];
  const into = join(directory, name);
  mkdirSync(into, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${into}`];
}

export type Server = { child: ChildProcess; address: string; stop: () => Promise<void> };

/** Starts a TypeScript server script under tsx and waits for the `{ address }` line it prints. */
export async function startServer(script: string, args: string[], name: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      ...profileFlags(name),
      '--import',
      'tsx',
      fileURLToPath(new URL(`../servers/${script}`, import.meta.url)),
      ...args,
    ],
    // Deprecation notices from dependencies would interleave with the progress lines.
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  const address = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((text) => text.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { address: string }).address);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening: ${output}`)));
  });
  return {
    child,
    address,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
