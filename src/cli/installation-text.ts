import type { Installation } from '../service/install.js';

/**
 * What a new installation is, and its two one-time tokens: the block `init` and `serve --init`
 * both print. Kept apart from admin.ts so `serve` does not load the TOTP modules to print it.
 */
export function installationLines(installation: Installation): string[] {
  return [
    `Initialised ${installation.dataDir}`,
    `  document:       ${installation.configPath}`,
    `  exec approvals: ${installation.execApprovalsPath}`,
    '',
    'These tokens are shown once; only their hashes are stored.',
    `  owner (surface cli): ${installation.ownerToken}`,
    `  agent (id main):     ${installation.agentToken}`,
    '',
  ];
}
