import { generateSecret, generateURI } from 'otplib';
import qrcode from 'qrcode-terminal';
import { openService, type Service } from '../service/context.js';
import { type Installation, initInstallation, mintToken, revokeToken } from '../service/install.js';
import {
  disableTotp,
  enrollTotp,
  recoveryCodesLeft,
  regenerateRecoveryCodes,
  totpParameters,
} from '../service/step-up.js';
import { NewCredentialSchema } from '../store/tokens.js';
import { demoOpenClawConfig } from './demo-config.js';
import { CliError, printJson } from './io.js';

export function printInstallation(installation: Installation, json: boolean, serving = false): void {
  if (json) return printJson(installation);
  process.stdout.write(
    [
      `Initialised ${installation.dataDir}`,
      `  document: ${installation.configPath}`,
      `  exec approvals: ${installation.execApprovalsPath}`,
      '',
      'These tokens are shown once; only their hashes are stored.',
      `  owner (surface cli): ${installation.ownerToken}`,
      `  agent (id main):     ${installation.agentToken}`,
      '',
      serving
        ? 'Serving now. Give the agent its token; keep the owner token for yourself (COUNTERSIGN_TOKEN).'
        : `Next: countersign serve --data ${installation.dataDir}, then give the agent its token and keep the owner token for yourself.`,
      '',
    ].join('\n'),
  );
}

export function init(options: {
  data: string;
  config?: string;
  policy?: string;
  schema?: string;
  execApprovals?: string;
  json?: boolean;
}): void {
  const installation = initInstallation(options.data, {
    config: options.config,
    policy: options.policy,
    schema: options.schema,
    execApprovals: options.execApprovals,
    demoDocument: demoOpenClawConfig,
  });
  printInstallation(installation, options.json ?? false);
}

function withService<T>(data: string, run: (service: Service) => T): T {
  const service = openService(data);
  try {
    return run(service);
  } finally {
    service.close();
  }
}

export function tokenCreate(options: {
  data: string;
  role: string;
  name: string;
  surface?: string;
  agentId?: string;
  json?: boolean;
}): void {
  const input = NewCredentialSchema.safeParse(
    options.role === 'owner'
      ? { role: 'owner', name: options.name, surface: options.surface ?? 'cli' }
      : { role: options.role, name: options.name, agentId: options.agentId ?? options.name },
  );
  if (!input.success) {
    throw new CliError(
      `Cannot create that token: ${input.error.issues.map((issue) => `${issue.path.join('.') || 'role'}: ${issue.message}`).join('; ')}`,
    );
  }
  const { token, credential } = withService(options.data, (service) => mintToken(service, input.data));
  if (options.json)
    return printJson({
      token,
      id: credential.id,
      role: credential.role,
      name: credential.name,
      surface: credential.surface,
      agentId: credential.agentId,
    });
  const who =
    credential.role === 'owner'
      ? `owner "${credential.name}" on surface ${credential.surface}`
      : `agent "${credential.agentId}"`;
  process.stdout.write(`Token for ${who} (shown once):\n${token}\n`);
}

export function tokenList(options: { data: string; json?: boolean }): void {
  const credentials = withService(options.data, (service) => service.tokens.list());
  if (options.json) return printJson({ tokens: credentials });
  for (const credential of credentials) {
    const scope = credential.role === 'owner' ? `surface=${credential.surface}` : `agent=${credential.agentId}`;
    const state = credential.revokedAt ? `revoked ${credential.revokedAt}` : 'active';
    process.stdout.write(
      `${credential.id}  ${credential.role.padEnd(5)}  ${credential.name.padEnd(16)}  ${scope.padEnd(20)}  ${state}\n`,
    );
  }
}

export function tokenRevoke(idOrName: string, options: { data: string; json?: boolean }): void {
  const revoked = withService(options.data, (service) => revokeToken(service, idOrName));
  if (revoked.length === 0) throw new CliError(`No active token has the id or name "${idOrName}".`);
  if (options.json) return printJson({ revoked });
  for (const credential of revoked)
    process.stdout.write(`Revoked ${credential.id} (${credential.role} ${credential.name})\n`);
}

export function totpEnroll(options: { data: string; owner: string; json?: boolean }): void {
  // 20 random bytes (160 bits), the RFC 4226 recommendation; otplib refuses fewer than 16.
  const secret = generateSecret({ length: 20 });
  const uri = generateURI({
    issuer: 'countersign',
    label: options.owner,
    secret,
    algorithm: totpParameters.algorithm,
    digits: totpParameters.digits,
    period: totpParameters.period,
  });
  const { recoveryCodes } = withService(options.data, (service) => enrollTotp(service, options.owner, secret));
  if (options.json) return printJson({ owner: options.owner, secret, uri, recoveryCodes });
  process.stdout.write(`Scan this with your authenticator app (owner "${options.owner}"):\n\n`);
  qrcode.generate(uri, { small: true }, (art: string) => process.stdout.write(`${art}\n`));
  process.stdout.write(`\nOr enter the secret by hand: ${secret}\n${uri}\n\n`);
  printRecoveryCodes(recoveryCodes);
}

/** Shown once, right after they are made: only their hashes are stored. */
function printRecoveryCodes(codes: readonly string[]): void {
  process.stdout.write(
    [
      'Recovery codes (shown once; each works once in place of an authenticator code, e.g. if you lose your phone).',
      'Write them down or print them, and keep them away from this machine:',
      '',
      ...codes.map((code) => `  ${code}`),
      '',
    ].join('\n'),
  );
}

/** `totp recovery`: how many unused recovery codes an owner has; `--regenerate` replaces the set. */
export function totpRecovery(options: { data: string; owner: string; regenerate?: boolean; json?: boolean }): void {
  if (options.regenerate) {
    const made = withService(options.data, (service) => regenerateRecoveryCodes(service, options.owner));
    if (!made) throw new CliError(`Owner "${options.owner}" has no authenticator enrolled.`);
    if (options.json) return printJson({ owner: options.owner, recoveryCodes: made.recoveryCodes });
    process.stdout.write(`New recovery codes for owner "${options.owner}"; the old ones no longer work.\n`);
    return printRecoveryCodes(made.recoveryCodes);
  }
  const remaining = withService(options.data, (service) => recoveryCodesLeft(service, options.owner));
  if (remaining === null) throw new CliError(`Owner "${options.owner}" has no authenticator enrolled.`);
  if (options.json) return printJson({ owner: options.owner, remaining });
  process.stdout.write(
    `Owner "${options.owner}" has ${remaining} unused recovery code${remaining === 1 ? '' : 's'}.${
      remaining <= 3 ? ` Make a new set: countersign totp recovery --owner ${options.owner} --regenerate` : ''
    }\n`,
  );
}

export function totpDisable(options: { data: string; owner: string; json?: boolean }): void {
  const removed = withService(options.data, (service) => disableTotp(service, options.owner));
  if (!removed) throw new CliError(`Owner "${options.owner}" has no authenticator enrolled.`);
  if (options.json) return printJson({ owner: options.owner, disabled: true });
  process.stdout.write(
    `TOTP disabled for owner "${options.owner}". Changes that need TOTP can no longer be approved by them.\n`,
  );
}

export function lastGood(options: { data: string; target?: string }): void {
  const text = withService(options.data, (service) => {
    const name = options.target ?? service.defaultTarget;
    const row = service.db.prepare('SELECT last_document FROM targets WHERE name = ?').pluck().get(name) as
      | string
      | undefined;
    if (row === undefined) throw new CliError(`No document recorded for target "${name}".`);
    return row;
  });
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
