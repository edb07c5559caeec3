import { generateSecret, generateURI } from 'otplib';
import qrcode from 'qrcode-terminal';
import type { Service } from '../service/context.js';
import { type Installation, initInstallation, mintToken, revokeToken } from '../service/install.js';
import {
  disableTotp,
  enrollTotp,
  recoveryCodesLeft,
  regenerateRecoveryCodes,
  totpParameters,
} from '../service/step-up.js';
import { NewCredentialSchema } from '../store/tokens.js';
import { withService } from './data-dir.js';
import { demoOpenClawConfig } from './demo-config.js';
import { installationLines } from './installation-text.js';
import { CliError, printJson } from './io.js';

export function printInstallation(installation: Installation, json: boolean): void {
  if (json) return printJson(installation);
  process.stdout.write(
    [
      ...installationLines(installation),
      `Next: countersign serve --data ${installation.dataDir}, then give the agent its token and keep the owner token for yourself.`,
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
    // `--schema none` opts out of the shipped OpenClaw schema; no option at all keeps it.
    schema: options.schema === 'none' ? null : options.schema,
    execApprovals: options.execApprovals,
    demoDocument: demoOpenClawConfig,
  });
  printInstallation(installation, options.json ?? false);
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

/**
 * TOTP is looked up by the owner name of the approving token, so a secret enrolled under a name
 * no token has (a typo: `ownr`) would never be asked for. Refused unless --force (for an owner
 * whose token is minted next); the error names the owners there are.
 */
function requireKnownOwner(service: Service, owner: string): void {
  const owners = [
    ...new Set(
      service.tokens
        .list()
        .filter((credential) => credential.role === 'owner' && !credential.revokedAt)
        .map((credential) => credential.name),
    ),
  ].sort();
  if (owners.includes(owner)) return;
  const known = owners.length
    ? `Owners with a token: ${owners.map((name) => `"${name}"`).join(', ')}.`
    : 'No owner has an active token.';
  throw new CliError(
    `No active owner token has the name "${owner}". ${known} Mint one first (countersign token create --role owner --name ${owner}), or pass --force to enrol the name anyway.`,
    1,
    'unknown_owner',
    { owners },
  );
}

export function totpEnroll(options: { data: string; owner: string; force?: boolean; json?: boolean }): void {
  if (!options.force) withService(options.data, (service) => requireKnownOwner(service, options.owner));
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

export function lastGood(options: { data: string; target?: string; json?: boolean }): void {
  const { name, text } = withService(options.data, (service) => {
    const name = options.target ?? service.defaultTarget;
    // Kept once, by hash, in the documents table (issue 14).
    const row = service.db
      .prepare('SELECT text FROM targets JOIN documents ON hash = last_hash WHERE name = ?')
      .pluck()
      .get(name) as string | undefined;
    if (row === undefined) throw new CliError(`No document recorded for target "${name}".`, 1, 'not_found');
    return { name, text: row };
  });
  // The document is printed as stored (it is the owner's own, secrets included), or wrapped with its target.
  if (options.json) return printJson({ target: name, document: JSON.parse(text) as unknown });
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
