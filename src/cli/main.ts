#!/usr/bin/env node
import { Command, Option } from 'commander';
import { CountersignError, SetupError } from '../core/errors.js';
import { version } from '../version.js';
import { CliError, explainRefusal } from './io.js';

// Command modules load on use: `pending` should not pay for fastify, nor `--help` for SQLite.
const admin = () => import('./admin.js');
const auditCommands = () => import('./audit.js');
const owner = () => import('./owner.js');
const policyCommands = () => import('./policy.js');
const server = () => import('./serve.js');

/** Runs an action and turns every expected failure into one readable line and a non-zero exit. */
function run<M, K extends keyof M>(load: () => Promise<M>, name: K): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    try {
      const action = (await load())[name] as (...args: unknown[]) => unknown;
      const code = await action(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (error) {
      if (error instanceof CountersignError) {
        process.stderr.write(`countersign: ${explainRefusal(error)}\n`);
        process.exitCode = 1;
      } else if (error instanceof CliError || error instanceof SetupError) {
        process.stderr.write(`countersign: ${error.message}\n`);
        process.exitCode = error instanceof CliError ? error.exitCode : 1;
      } else {
        process.stderr.write(`countersign: ${(error as Error).message}\n`);
        if (process.env.COUNTERSIGN_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
        process.exitCode = 1;
      }
    }
  };
}

const dataOption = () =>
  new Option('--data <dir>', 'data directory (settings, database)').env('COUNTERSIGN_DATA').makeOptionMandatory();
const urlOption = () => new Option('--url <url>', 'server URL (default $COUNTERSIGN_URL or http://127.0.0.1:7070)');
const tokenOption = () =>
  new Option('--token <token>', 'owner token (prefer $COUNTERSIGN_TOKEN: options end up in shell history)');
const jsonOption = () => new Option('--json', 'machine-readable output');

const program = new Command('countersign')
  .description('Protected-config change control: agents propose, owners countersign the exact diff.')
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .enablePositionalOptions();

program
  .command('init')
  .description('create a data directory with its database, settings, a demo document and two tokens')
  .addOption(dataOption())
  .option('--config <file>', 'the JSON document to manage (default DIR/openclaw.json; a demo is written if missing)')
  .option('--policy <file>', 'policy file (default: the shipped policies/openclaw.json)')
  .option('--schema <file>', 'JSON Schema every resulting document must satisfy (422 invalid_config otherwise)')
  .addOption(jsonOption())
  .action(run(admin, 'init'));

program
  .command('serve')
  .description('run the HTTP service')
  .addOption(dataOption())
  .option('--host <host>', 'address to bind (default from settings: 127.0.0.1)')
  .option('--port <port>', 'port (default from settings: 7070; 0 picks a free one)')
  .addOption(new Option('--rate-limit <mode>', 'request rate limits').choices(['on', 'off']).default('on'))
  .option('--init', 'initialise the data directory first if it is not (prints the tokens once)')
  .option('--log-level <level>', 'pino log level (default info, or $COUNTERSIGN_LOG_LEVEL)')
  .action(run(server, 'serve'));

const token = program.command('token').description('mint, list and revoke tokens (works on the data directory)');
token
  .command('create')
  .description('mint a token; it is shown once and stored only as a hash')
  .addOption(dataOption())
  .addOption(new Option('--role <role>', 'owner or agent').choices(['owner', 'agent']).makeOptionMandatory())
  .requiredOption('--name <name>', 'who holds it (owners: the name TOTP is enrolled under)')
  .addOption(
    new Option('--surface <surface>', 'owners: where the token is used').choices([
      'cli',
      'web',
      'chat-dm',
      'chat-group',
    ]),
  )
  .option('--agent-id <id>', 'agents: the agent id (default: the name)')
  .addOption(jsonOption())
  .action(run(admin, 'tokenCreate'));
token
  .command('list')
  .description('list tokens (never their values)')
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(run(admin, 'tokenList'));
token
  .command('revoke')
  .description('revoke a token by id, or every active token with that name')
  .argument('<id-or-name>')
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(run(admin, 'tokenRevoke'));

const totp = program.command('totp').description('authenticator (TOTP) step-up for owners');
totp
  .command('enroll')
  .description('create a TOTP secret for an owner and show it as a QR code and otpauth URI')
  .addOption(dataOption())
  .requiredOption('--owner <name>', 'the owner name (as in `token create --name`)')
  .addOption(jsonOption())
  .action(run(admin, 'totpEnroll'));
totp
  .command('disable')
  .description("remove an owner's TOTP secret (TOTP-required approvals then fail closed)")
  .addOption(dataOption())
  .requiredOption('--owner <name>')
  .addOption(jsonOption())
  .action(run(admin, 'totpDisable'));

program
  .command('pending')
  .description('list proposals waiting for a decision')
  .addOption(urlOption())
  .addOption(tokenOption())
  .option('--status <status>', 'another status instead (applied, denied, …)')
  .addOption(jsonOption())
  .action(run(owner, 'pending'));
program
  .command('show')
  .description('show a proposal card')
  .argument('<id>')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(owner, 'show'));
program
  .command('approve')
  .description('countersign a proposal; prompts for the confirmation phrase and TOTP code when the card needs them')
  .argument('<id>')
  .addOption(urlOption())
  .addOption(tokenOption())
  .option('--totp <code>', 'authenticator code (prompted for, without echo, when omitted)')
  .option('--confirm <phrase>', "the card's confirmation phrase (prompted for when omitted)")
  .option('-y, --yes', 'do not ask "approve?" for changes without a confirmation phrase')
  .addOption(jsonOption())
  .action(run(owner, 'approveCommand'));
program
  .command('watch')
  .description("follow proposals and applies as they happen (the server's event stream)")
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(owner, 'watch'));
program
  .command('rollback')
  .description('propose the inverse of an applied change; it is classified and approved like any other')
  .argument('<id>')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(owner, 'rollbackCommand'));
program
  .command('last-good')
  .description('print the last document countersign wrote or accepted (to restore after a bad outside edit)')
  .addOption(dataOption())
  .option('--target <name>', 'target (default: the first)')
  .action(run(admin, 'lastGood'));
program
  .command('deny')
  .description('refuse a proposal')
  .argument('<id>')
  .addOption(urlOption())
  .addOption(tokenOption())
  .option('--reason <text>', 'why (recorded in the audit log)')
  .addOption(jsonOption())
  .action(run(owner, 'denyCommand'));

const audit = program
  .command('audit')
  .description('list audit events (from --data directly, or from the server)')
  .option('--data <dir>', 'read the data directory instead of the server')
  .addOption(urlOption())
  .addOption(tokenOption())
  .option('--after <seq>', 'only events after this sequence number', '0')
  .option('--limit <n>', 'at most this many events', '500')
  .addOption(jsonOption())
  .enablePositionalOptions()
  .action(run(auditCommands, 'auditList'));
audit
  .command('verify')
  .description('recompute the hash chain; exit 0 if intact, 1 with the first broken event otherwise')
  .addOption(dataOption())
  .option('--expect-head <seq:hash>', 'also fail if the log no longer contains this head (detects truncation)')
  .addOption(jsonOption())
  .action(run(auditCommands, 'auditVerify'));
audit
  .command('head')
  .description('print the current head as SEQ:HASH; keep it elsewhere and pass it to `verify --expect-head`')
  .addOption(dataOption())
  .addOption(jsonOption())
  .action(run(auditCommands, 'auditHead'));
audit
  .command('export')
  .description('print every event as JSON lines, oldest first')
  .addOption(dataOption())
  .option('--jsonl', 'JSON lines (the only format)', true)
  .action(run(auditCommands, 'auditExport'));

program
  .command('policy')
  .description('inspect policies')
  .command('explain')
  .description('which rule decides a path, and why (e.g. countersign policy explain commands.mcp --value true)')
  .argument('<path>', 'dotted path, e.g. agents.list[id=main].model')
  .option('--value <json>', 'the new value, as JSON')
  .option('--from <json>', 'the old value, as JSON')
  .option('--policy <file>', "policy file (default: the target's policy with --data, else the shipped default)")
  .option('--data <dir>', 'use the policy of this installation')
  .option('--target <name>', 'target within --data')
  .addOption(jsonOption())
  .action(run(policyCommands, 'explain'));

await program.parseAsync(process.argv);
