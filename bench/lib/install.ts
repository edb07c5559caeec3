import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Service } from '../../src/service/context.js';
import type { Credential } from '../../src/store/tokens.js';
import { context, installer } from './dist.js';
import { documentText } from './fixtures.js';

export type BenchInstallation = {
  root: string;
  data: string;
  configPath: string;
  ownerToken: string;
  agentToken: string;
  remove: () => void;
};

/** A real installation in a fresh temporary directory: settings, SQLite database, document on disk. */
export function install(
  document: object,
  options: { policy?: string; schema?: string; execApprovals?: object } = {},
): BenchInstallation {
  const root = mkdtempSync(join(tmpdir(), 'countersign-bench-'));
  const configPath = join(root, 'openclaw.json');
  writeFileSync(configPath, documentText(document as never), { mode: 0o600 });
  // An exec approvals document is imported as `countersign init --exec-approvals FILE` does, so
  // the service's remembered hash is the file's own (editing DIR/exec-approvals.json afterwards would be drift).
  let execApprovals: string | undefined;
  if (options.execApprovals) {
    execApprovals = join(root, 'exec-approvals.import.json');
    writeFileSync(execApprovals, documentText(options.execApprovals as never), { mode: 0o600 });
  }
  const data = join(root, 'data');
  const installed = installer.initInstallation(data, {
    config: configPath,
    policy: options.policy,
    // No schema unless asked for: init now attaches the shipped OpenClaw schema by default, and
    // the benchmarks that do not name one measure the service without it, as they always have.
    schema: options.schema ?? null,
    execApprovals,
    demoDocument: {},
  });
  return {
    root,
    data,
    configPath,
    ownerToken: installed.ownerToken,
    agentToken: installed.agentToken,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export type OpenInstallation = BenchInstallation & { service: Service; owner: Credential; agent: Credential };

export function open(installation: BenchInstallation): OpenInstallation {
  const service = context.openService(installation.data, { logger: pino({ level: 'silent' }) });
  const owner = service.tokens.authenticate(installation.ownerToken);
  const agent = service.tokens.authenticate(installation.agentToken);
  if (!owner || !agent) throw new Error('the installation tokens do not authenticate');
  return { ...installation, service, owner, agent };
}
