import { execFile } from 'node:child_process';
import { storeTargetSchema } from '../service/schema.js';
import { requireDataDir } from './data-dir.js';
import { CliError, printJson } from './io.js';

/** OpenClaw's schema is about 2.4 MB; this leaves room for plugins without reading without end. */
const MAX_SCHEMA_BYTES = 64 * 1024 * 1024;

/** Runs `openclaw config schema` (argv, no shell) and returns what it printed. */
function openclawSchema(bin: string, timeoutSeconds: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      ['config', 'schema'],
      { encoding: 'utf8', maxBuffer: MAX_SCHEMA_BYTES, timeout: timeoutSeconds * 1000 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const reason =
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `${bin} was not found (pass --openclaw-bin PATH, or put openclaw on PATH)`
            : error.killed
              ? `${bin} config schema did not finish within ${timeoutSeconds} s`
              : `${bin} config schema failed: ${(stderr || error.message).trim().split('\n')[0]}`;
        reject(new CliError(reason, 1, 'openclaw_failed'));
      },
    );
  });
}

/**
 * `countersign schema refresh --from-openclaw`: takes the JSON Schema of the OpenClaw installed
 * here, so validation follows the gateway actually running instead of the shipped 2026.9 one.
 */
export async function refresh(options: {
  data?: string;
  fromOpenclaw?: boolean;
  openclawBin?: string;
  target?: string;
  timeout?: string;
  json?: boolean;
}): Promise<void> {
  if (!options.fromOpenclaw) {
    throw new CliError('Say where the schema comes from: --from-openclaw (the only source for now).', 2, 'usage');
  }
  const data = requireDataDir(options.data);
  const timeout = Number(options.timeout ?? 60);
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 600) {
    throw new CliError('--timeout is whole seconds from 1 to 600.', 2, 'usage');
  }
  const bin = options.openclawBin ?? 'openclaw';
  const text = await openclawSchema(bin, timeout);
  const stored = storeTargetSchema(data, options.target ?? 'openclaw', text);
  const restart = 'A running `countersign serve` keeps the schema it started with: restart it to use this one.';
  if (options.json) return printJson({ ...stored, source: bin, restartNeeded: true });
  const lines = [
    `Stored the JSON Schema of ${bin} for target "${stored.target}": ${stored.file}`,
    `  ${stored.bytes.toLocaleString('en')} bytes, sha256 ${stored.sha256}`,
    stored.previous === null ? '  (the target had no schema before)' : `  (it replaces ${stored.previous})`,
  ];
  if (stored.documentIssues.length > 0) {
    lines.push(
      `The current document does not satisfy it (${stored.documentIssues.length} issue(s)); every change will be refused until it does:`,
      ...stored.documentIssues.slice(0, 10).map((issue) => `  ${issue.path}: ${issue.message}`),
    );
  }
  lines.push(restart, '');
  process.stdout.write(lines.join('\n'));
}
