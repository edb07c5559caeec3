#!/usr/bin/env node
import { Command, type CommanderError, Option } from 'commander';
import { version } from '../version.js';
import { jsonRequested, reportError } from './io.js';

// Command modules load on use: `pending` should not pay for fastify, nor `--help` for SQLite.
const admin = () => import('./admin.js');
const auditCommands = () => import('./audit.js');
const drillCommands = () => import('./drill.js');
const execCommands = () => import('./exec.js');
const freezeCommands = () => import('./freeze.js');
const mcpServer = () => import('../mcp/server.js');
const owner = () => import('./owner.js');
const policyCommands = () => import('./policy.js');
const schemaCommands = () => import('./schema.js');
const server = () => import('./serve.js');
const smoke = () => import('./smoke-test.js');

/**
 * Runs an action and turns every expected failure into one readable line on stderr and a
 * non-zero exit — or, when the command was given --json, `{ "error": { code, message } }` on
 * stdout (src/cli/io.ts `reportError`).
 */
function run<M, K extends keyof M>(load: () => Promise<M>, name: K): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1);
    const json = command instanceof Command && (command.opts() as { json?: unknown }).json === true;
    try {
      const action = (await load())[name] as (...args: unknown[]) => unknown;
      const code = await action(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (error) {
      process.exitCode = reportError(error, json);
    }
  };
}

/*
 * commander's own usage errors (unknown option, missing argument) follow --json too: when the
 * words before `--` include it, the error is JSON on stdout and commander's text is not printed.
 * Set on the program before any command is added, so that every command inherits it.
 */
const wantsJson = jsonRequested();
const usageErrors = (error: CommanderError) => {
  if (wantsJson && error.exitCode !== 0) reportError(error, true);
};

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
  .enablePositionalOptions()
  .exitOverride(usageErrors)
  .configureOutput({
    writeErr: (text) => {
      if (!wantsJson) process.stderr.write(text);
    },
  })
  .addHelpText(
    'after',
    `
First steps:
  countersign init --data ./data            create an installation (prints an owner and an agent token)
  countersign serve --data ./data           run the service on http://127.0.0.1:7070
  export COUNTERSIGN_TOKEN=cs_owner_…       the owner token init printed
  countersign pending                       what agents are waiting for
  countersign show 82de4d92                 a card (any unique 8+ character prefix of an id)
  countersign approve 82de4d92

Environment:
  COUNTERSIGN_DATA    the data directory, for commands that take --data (--data wins)
  COUNTERSIGN_URL     the server, for commands that talk to it (default http://127.0.0.1:7070; --url wins)
  COUNTERSIGN_TOKEN   the token those commands send (just the token, without "Bearer")

Every command that prints takes --json; with --json a failure is
{ "error": { "code", "message" } } on stdout and a non-zero exit.
Run countersign COMMAND --help for a command's options and examples.`,
  );

program
  .command('init')
  .description('create a data directory with its database, settings, a demo document and two tokens')
  .addOption(dataOption())
  .option('--config <file>', 'the JSON document to manage (default DIR/openclaw.json; a demo is written if missing)')
  .option('--policy <file>', 'policy file (default: the shipped policies/openclaw.json)')
  .option(
    '--schema <file>',
    'JSON Schema every resulting document must satisfy (422 invalid_config otherwise); default: the shipped OpenClaw 2026.9 schema, `none` for no schema',
  )
  .option(
    '--exec-approvals <file>',
    'import an OpenClaw exec approvals file (or `openclaw approvals get --json` output) as DIR/exec-approvals.json; default: deny unless allowlisted, ask on a miss, TOTP for destructive commands',
  )
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
Examples:
  countersign init --data ./data
  countersign init --data /var/lib/countersign --config ~/.openclaw/openclaw.json --json`,
  )
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
  .option(
    '--json',
    'print the start-up block as one JSON line ({ listening, ui, docs, initialised? }) among the JSON log lines',
  )
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
  .addHelpText(
    'after',
    `
Examples:
  countersign token create --data ./data --role owner --name alice --surface web
  countersign token create --data ./data --role agent --name ci-bot --agent-id ci --json`,
  )
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
  .option('--force', 'enrol a name no active owner token has yet (otherwise refused, as a likely typo)')
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
Example:
  countersign totp enroll --data ./data --owner owner`,
  )
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
  .argument('<id>', 'proposal id, or a unique prefix of 8+ characters (as the web page shows it)')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
Examples:
  countersign show 82de4d92                  the short id from the web page or History
  countersign show 82de4d92-6a1f-4c2e-9b1d-0f3c5e7a9b21 --json`,
  )
  .action(run(owner, 'show'));
program
  .command('approve')
  .description('countersign a proposal; prompts for the confirmation phrase and TOTP code when the card needs them')
  .argument('<id>', 'proposal id, or a unique prefix of 8+ characters (as the web page shows it)')
  .addOption(urlOption())
  .addOption(tokenOption())
  .option('--totp <code>', 'authenticator code, or a one-time recovery code (prompted for, without echo, when omitted)')
  .option('--confirm <phrase>', "the card's confirmation phrase (prompted for when omitted)")
  .option('-y, --yes', 'do not ask "approve?" for changes without a confirmation phrase')
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
On a terminal, approve shows the card and asks for what it needs. Without one (scripts, CI)
pass the answers as options; a missing one fails naming the option.

Examples:
  countersign approve 82de4d92
  countersign approve 82de4d92 --confirm "enable commands.mcp" --totp 123456
  countersign approve 82de4d92 --yes --json`,
  )
  .action(run(owner, 'approveCommand'));
program
  .command('watch')
  .description("follow proposals and applies as they happen (the server's event stream)")
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(owner, 'watch'));
program
  .command('smoke-test')
  .description(
    'start an MCP server a proposal adds or changes, list its tools (destructive ones marked), keep the result on the card',
  )
  .argument('<id>', 'the proposal id (it must still be pending, or approved awaiting the agent)')
  .option(
    '--server <name>',
    'which reviewed server (default: the first one not being removed); nodeHost:NAME for a node host',
  )
  .option('--allow-remote', 'also connect to a server that is not on this machine (sends its declared headers there)')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
It runs the server as the user countersign runs as (a look, not a sandbox), with a reduced
environment and a 10 s deadline, then kills its whole process tree.

Exit codes: 0 it listed its tools, 1 it did not (or the request was refused), 2 not tested
(a remote server without --allow-remote).

Examples:
  countersign smoke-test 67f3ff1b-5485-45b9-ac33-d5b2528a8993
  countersign smoke-test 67f3ff1b-… --server filesystem --json`,
  )
  .action(run(smoke, 'smokeTestCommand'));
program
  .command('rollback')
  .description('propose the inverse of an applied change; it is classified and approved like any other')
  .argument('<id>', 'proposal id, or a unique prefix of 8+ characters (as the web page shows it)')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(owner, 'rollbackCommand'));
program
  .command('last-good')
  .description('print the last document countersign wrote or accepted (to restore after a bad outside edit)')
  .addOption(dataOption())
  .option('--target <name>', 'target (default: the first)')
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
Prints the document as stored; --json prints { "target", "document" }.

Example (restore after a bad outside edit, then check):
  countersign last-good --data ./data > ./data/openclaw.json`,
  )
  .action(run(admin, 'lastGood'));

// Rollback drills and point-in-time restore (SPEC §11, issue 13): through the server, or on --data directly.
const drillData = () =>
  new Option('--data <dir>', 'work on the data directory directly (no server needed)').env('COUNTERSIGN_DATA');
program
  .command('drill')
  .description('rehearse rolling back the last N applied changes on a scratch copy; the live document is not touched')
  .option('--last <n>', 'how many of the latest applied changes (1-500)', '10')
  .option('--target <name>', 'only changes to this target (default: every target)')
  .addOption(drillData())
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
Each rollback is built as \`countersign rollback\` would build it, checked against the current
policy, limits, JSON Schema and pinned MCP programs, written to a scratch file and compared with
the document recorded before the change. Nothing is proposed. The drill is audited (drill.ran).

Exit codes: 0 every change is restorable, 1 at least one is not (or the drill failed).

Examples:
  countersign drill --last 20
  countersign drill --data /var/lib/countersign --json     (from cron: see the README)`,
  )
  .action(run(drillCommands, 'drillCommand'));
program
  .command('restore')
  .description('propose the document as it was after audit event SEQ; it is classified and approved like any other')
  .requiredOption('--to <seq>', 'the audit event to go back to (see `countersign audit`)')
  .option('--reason <text>', 'why (on the card and in the audit log)')
  .option('--target <name>', 'target (default: the first)')
  .addOption(drillData())
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
With --data the proposal is still made in the name of an owner token ($COUNTERSIGN_TOKEN).

Examples:
  countersign audit --limit 50          find the last good event
  countersign restore --to 412 --reason "undo tonight's changes"
  countersign approve ID`,
  )
  .action(run(drillCommands, 'restoreCommand'));
program
  .command('deny')
  .description('refuse a proposal')
  .argument('<id>', 'proposal id, or a unique prefix of 8+ characters (as the web page shows it)')
  .addOption(urlOption())
  .addOption(tokenOption())
  .option('--reason <text>', 'why (recorded in the audit log)')
  .addOption(jsonOption())
  .action(run(owner, 'denyCommand'));

// Manual takeover (SPEC §11): on the data directory with --data (works when the server is wedged), else through the server.
const takeoverData = () =>
  new Option(
    '--data <dir>',
    'work on the data directory directly (no server needed; a running server honours it at once)',
  );
program
  .command('freeze')
  .description('stop every agent action at once (proposals, exec requests, grants); owners can still repair')
  .requiredOption('--reason <text>', 'why (audited, shown to every owner and in chat)')
  .addOption(takeoverData())
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
By-agent grants, standing exec grants and allowed exec requests not yet run are voided for good.
Owner proposals, rollbacks and denials keep working. A freeze survives restarts.

Examples:
  countersign freeze --reason "agent rewrote the gateway token"
  countersign freeze --data /var/lib/countersign --reason "server unresponsive"`,
  )
  .action(run(freezeCommands, 'freezeCommand'));
program
  .command('unfreeze')
  .description('lift a freeze; needs a fresh TOTP code when any owner has an authenticator')
  .option('--totp <code>', 'authenticator code, or a one-time recovery code (prompted for on a terminal)')
  .option('--owner <name>', 'with --data: the enrolled owner whose code you give')
  .option('--reason <text>', 'why it is safe again (audited)')
  .addOption(takeoverData())
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(freezeCommands, 'unfreezeCommand'));
program
  .command('status')
  .description('whether agents are frozen (since when, why) and when recovery was last drilled')
  .addOption(takeoverData())
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(freezeCommands, 'statusCommand'));

const audit = program
  .command('audit')
  .description('list audit events (from --data directly, or from the server)')
  .option(
    '--data <dir>',
    'read the data directory instead of the server (default $COUNTERSIGN_DATA unless --url is given)',
  )
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
  .option('--jobs <n>', 'threads to verify with (default: one per core, at most 4, for logs of 100,000+ events)')
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
  .addOption(new Option('--json', 'the same JSON lines (accepted for consistency; errors become JSON too)'))
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
  .argument('<id>', 'exec request id, or a unique prefix of 8+ characters')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(run(execCommands, 'show'));
exec
  .command('approve')
  .description('allow an exec request (once by default); prompts for the TOTP code when it is required')
  .argument('<id>', 'exec request id, or a unique prefix of 8+ characters')
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
  countersign exec approve 3f9a2c1b
  countersign exec approve 3f9a2c1b --for 30m --totp 123456
  countersign exec approve 3f9a2c1b --always`,
  )
  .action(run(execCommands, 'approve'));
exec
  .command('deny')
  .description('refuse an exec request')
  .argument('<id>', 'exec request id, or a unique prefix of 8+ characters')
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
  .argument('<id>', 'grant id, or a unique prefix of 8+ characters')
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
  .option('--data <dir>', 'use the policy of this installation (default $COUNTERSIGN_DATA)')
  .option('--target <name>', 'target within --data')
  .addOption(jsonOption())
  .action(run(policyCommands, 'explain'));

program
  .command('schema')
  .description('the JSON Schema documents are validated against')
  .command('refresh')
  .description(
    "replace a target's JSON Schema with the installed OpenClaw's (`openclaw config schema`), stored in the data directory; restart serve to use it",
  )
  .addOption(dataOption())
  .option('--from-openclaw', 'take the schema from `openclaw config schema`')
  .option('--openclaw-bin <path>', 'the openclaw executable (default: openclaw on PATH)')
  .option('--target <name>', 'target whose schema to replace (default: openclaw)')
  .option('--timeout <seconds>', 'how long openclaw may take (default 60)')
  .addOption(jsonOption())
  .action(run(schemaCommands, 'refresh'));

program
  .command('mcp')
  .description(
    'stdio MCP server for agents (COUNTERSIGN_URL, COUNTERSIGN_TOKEN = an agent token): config_get, config_propose, proposal_status, policy_explain, exec_request',
  )
  .action(run(mcpServer, 'mcp'));

// No command at all: the help, on stdout, as a successful answer (commander would exit 1 on stderr).
if (process.argv.length <= 2) program.outputHelp();
else await program.parseAsync(process.argv);
