#!/usr/bin/env node
import { Command, Option } from 'commander';
import { CountersignError, SetupError } from '../core/errors.js';
import { version } from '../version.js';
import { CliError, explainRefusal } from './io.js';

// Command modules load on use: `pending` should not pay for fastify, nor `--help` for SQLite.
const admin = () => import('./admin.js');
const auditCommands = () => import('./audit.js');
const execCommands = () => import('./exec.js');
const mcpServer = () => import('../mcp/server.js');
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
  .option(
    '--exec-approvals <file>',
    'import an OpenClaw exec approvals file (or `openclaw approvals get --json` output) as DIR/exec-approvals.json; default: deny unless allowlisted, ask on a miss, TOTP for destructive commands',
  )
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
  .description('create a TOTP secret for an owner; shows it as a QR code and otpauth URI, with one-time recovery codes')
  .addOption(dataOption())
  .requiredOption('--owner <name>', 'the owner name (as in `token create --name`)')
  .addOption(jsonOption())
  .action(run(admin, 'totpEnroll'));
totp
  .command('recovery')
  .description("how many of an owner's one-time recovery codes are unused; --regenerate makes a new set")
  .addOption(dataOption())
  .requiredOption('--owner <name>')
  .option('--regenerate', 'replace every recovery code of the owner with a new set (shown once)')
  .addOption(jsonOption())
  .action(run(admin, 'totpRecovery'));
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
  .option('--totp <code>', 'authenticator code, or a one-time recovery code (prompted for, without echo, when omitted)')
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

// Exec approvals (SPEC §9): `run`/`check` for agents, the rest for owners.
const agentTokenOption = () =>
  new Option('--token <token>', 'agent token (prefer $COUNTERSIGN_TOKEN: options end up in shell history)');
const repeat = (value: string, previous: string[]) => [...previous, value];
const exec = program
  .command('exec')
  .description('exec approvals: an agent asks before it runs a command, an owner allows or denies it')
  .enablePositionalOptions()
  .addHelpText(
    'after',
    `
Agent (COUNTERSIGN_URL, COUNTERSIGN_TOKEN = an agent token):
  countersign exec run -- git push --force origin main
  countersign exec check --json -- rm -rf build
Owner (COUNTERSIGN_TOKEN = an owner token):
  countersign exec pending
  countersign exec show ID
  countersign exec approve ID                 allow once
  countersign exec approve ID --for 30m       allow this exact command for 30 minutes
  countersign exec approve ID --always        add it to the agent's allowlist
  countersign exec deny ID --reason "not on prod"
  countersign exec grants                     standing allow-for grants; revoke with: exec grants revoke ID`,
  );
exec
  .command('run')
  .description('ask, wait for the decision, then run exactly the approved plan with inherited stdio')
  .argument('<argv...>', 'the command and its arguments, after --')
  .option('--session <key>', 'session key (default $COUNTERSIGN_SESSION, else a generated one shown on stderr)')
  .option('--cwd <dir>', 'working directory (default: the current one; sent as its real path)')
  .option(
    '--wait <seconds>',
    'how long to wait for an owner (seconds, or 30m, 1h); then the request is withdrawn',
    '300',
  )
  .option(
    '--env <name[=value]>',
    'pass an environment entry with the request (repeatable); the owner sees it',
    repeat,
    [],
  )
  .addOption(urlOption())
  .addOption(agentTokenOption())
  .passThroughOptions()
  .addHelpText(
    'after',
    `
The command runs only as the service planned it: the executable it resolved and hashed, the real
cwd, this environment overlaid with the plan's entries. No shell is involved.
Progress (the request id and what the owner sees) goes to stderr; stdout is the command's.

Exit codes:
  the command's own code     it ran (128+N when signal N ended it)
  125                        countersign failed (bad options, unreachable, bad token)
  126                        it did not run: denied, expired, no decision within --wait, or the
                             plan changed before it could run (file_changed, executable_changed)
  127                        the planned program could not be started
  130                        Ctrl-C while waiting: the request was withdrawn

Examples:
  countersign exec run -- git push --force origin main
  countersign exec run --cwd ~/src/app --wait 10m -- npm publish
  COUNTERSIGN_SESSION=chat-42 countersign exec run --env AWS_PROFILE -- terraform destroy`,
  )
  .action(run(execCommands, 'run'));
exec
  .command('check')
  .description('the decision, risk and plan for a command, without storing or running anything (dry run)')
  .argument('<argv...>', 'the command and its arguments, after --')
  .option('--cwd <dir>', 'working directory (default: the current one)')
  .option('--session <key>', 'session key (default $COUNTERSIGN_SESSION)')
  .option('--env <name[=value]>', 'an environment entry to send (repeatable)', repeat, [])
  .addOption(urlOption())
  .addOption(agentTokenOption())
  .addOption(jsonOption())
  .passThroughOptions()
  .addHelpText(
    'after',
    `
Exit codes: 0 allowed, 1 an owner would be asked, 126 denied, 125 countersign failed.

Examples:
  countersign exec check -- ls -la
  countersign exec check --json -- python3 -c 'print(1)'`,
  )
  .action(run(execCommands, 'check'));
exec
  .command('pending')
  .description('list exec requests waiting for a decision')
  .option('--status <status>', 'another status instead (allowed, denied, expired, consumed)')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(execCommands, 'pending'));
exec
  .command('show')
  .description('show an exec request: argv token by token, cwd, resolved paths, bound file, risk')
  .argument('<id>')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(execCommands, 'show'));
exec
  .command('approve')
  .description('allow an exec request (once by default); prompts for the TOTP code when it is required')
  .argument('<id>')
  .addOption(new Option('--always', "add the exact command to the agent's allowlist").conflicts('for'))
  .addOption(new Option('--for <duration>', 'allow the exact command for a while: seconds, or 30m, 1h'))
  .option(
    '--totp <code>',
    'authenticator code, or a one-time recovery code (prompted for, without echo, on a terminal)',
  )
  .option('--reason <text>', 'why (recorded in the audit log)')
  .option('-y, --yes', 'do not ask "allow?" first')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
Examples:
  countersign exec approve 3f9a2c1b-…
  countersign exec approve 3f9a2c1b-… --for 30m --totp 123456
  countersign exec approve 3f9a2c1b-… --always`,
  )
  .action(run(execCommands, 'approve'));
exec
  .command('deny')
  .description('refuse an exec request')
  .argument('<id>')
  .option('--reason <text>', 'why (recorded in the audit log; the agent sees it)')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(execCommands, 'deny'));
const grants = exec
  .command('grants')
  .description('list standing allow-for grants (exec grants revoke ID ends one)')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .enablePositionalOptions()
  .action(run(execCommands, 'grants'));
grants
  .command('list')
  .description('list standing allow-for grants')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(execCommands, 'grants'));
grants
  .command('revoke')
  .description('revoke a standing allow-for grant')
  .argument('<id>')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(execCommands, 'grantsRevoke'));

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

program
  .command('mcp')
  .description(
    'stdio MCP server for agents (COUNTERSIGN_URL, COUNTERSIGN_TOKEN = an agent token): config_get, config_propose, proposal_status, policy_explain, exec_request',
  )
  .action(run(mcpServer, 'mcp'));

await program.parseAsync(process.argv);
