import { type Line, type TextOptions, type TextStyle, wrap } from '../render.js';
import { inert } from '../text/inert.js';
import { codeSpan, codeSpanOfInert, escapeMarkdown } from '../text/markdown.js';
import { shownValue } from '../text/value-diff.js';
import type { ExecDecision, Risk } from './decide.js';
import type { ExecRequest } from './request.js';

/*
 * Exec requests for people: the terminal card (`countersign exec show`), the chat card and the
 * one-line summary the `exec run` wrapper prints while it waits. Pure.
 *
 * Everything on a request except its booleans came from the agent or from the filesystem the
 * agent can write to (argv, shell text, cwd, env names and values, session key, resolved paths,
 * matched patterns, file paths), and the agent is hostile: each string is shown as a JSON string
 * literal (`shownValue`: quoted, so a trailing space or an empty token shows; JSON escapes for
 * quotes and controls; the inert escapes of src/core/text/ for bidi, zero-width and the rest),
 * and argv token by token with its index, so no shell re-quoting can make two different argvs
 * read the same.
 */

const riskNames: Record<keyof Risk, string> = {
  elevated: 'ELEVATED',
  destructive: 'DESTRUCTIVE',
  inlineEval: 'INLINE EVAL',
  unanalysable: 'UNANALYSABLE',
};

/** What each flag means for an owner who is not a shell expert. */
const riskExplain: Record<keyof Risk, string> = {
  elevated: 'runs with raised privileges (sudo, doas, su, pkexec, run0, or the runtime says so)',
  destructive: 'matches a destructive rule of policies/exec-risk.json: it deletes or overwrites things',
  inlineEval: 'runs code written on the command line itself (python -c, sh -c, node -e, …): read that code',
  unanalysable:
    'shell text countersign cannot split honestly (substitution, redirection, subshell, …): read every character',
};

/** Why the request was decided as it was, in words (the codes are the audit's). */
const reasonExplain: Record<string, string> = {
  allowlist_miss: 'no allowlist pattern covers every segment',
  ask_always: 'the policy asks for every command (ask: always)',
  allowlist: 'every segment matches the allowlist',
  allow_for: 'a standing allow-for grant covers it',
  security_full: 'the policy allows every command (security: full)',
  security_deny: 'the policy denies every command (security: deny)',
  policy_invalid: 'the exec policy document is invalid, so every request is denied',
  ask_fallback: 'nobody decided in time; askFallback decided',
  owner: 'an owner decided',
  withdrawn: 'the agent withdrew it',
  expired: 'nobody decided in time',
};

function reasonText(reason: string, show: (text: string) => string = inert): string {
  const explain = reasonExplain[reason];
  return explain ? `${show(reason)} (${explain})` : show(reason);
}

export function riskFlags(risk: Risk): (keyof Risk)[] {
  return (Object.keys(riskNames) as (keyof Risk)[]).filter((flag) => risk[flag]);
}

function riskLabel(risk: Risk): string {
  const flags = riskFlags(risk);
  return flags.length === 0 ? 'none flagged' : flags.map((flag) => riskNames[flag]).join(', ');
}

function segmentRisk(segment: ExecRequest['segments'][number]): string {
  const flags = [
    segment.elevated ? riskNames.elevated : null,
    segment.destructive ? riskNames.destructive : null,
    segment.inlineEval ? riskNames.inlineEval : null,
  ].filter((flag) => flag !== null);
  return flags.length === 0 ? 'none flagged' : flags.join(', ');
}

/** The owner's commands, one per decision the request allows. */
export function decisionCommands(request: Pick<ExecRequest, 'id' | 'allowedDecisions'>): [ExecDecision, string][] {
  const id = inert(request.id);
  const commands: Record<ExecDecision, string> = {
    'allow-once': `countersign exec approve ${id}`,
    'allow-for': `countersign exec approve ${id} --for SECONDS`,
    'allow-always': `countersign exec approve ${id} --always`,
    deny: `countersign exec deny ${id}`,
  };
  const order: ExecDecision[] = ['allow-once', 'allow-for', 'allow-always', 'deny'];
  return order.filter((decision) => request.allowedDecisions.includes(decision)).map((d) => [d, commands[d]]);
}

const decisionLabel: Record<ExecDecision, string> = {
  'allow-once': 'allow once',
  'allow-for': 'allow for a while',
  'allow-always': 'allow always (adds it to the allowlist)',
  deny: 'deny',
};

function resolutionText(request: ExecRequest): string | null {
  const resolution = request.resolution;
  if (!resolution) return null;
  const parts = [`${inert(resolution.status)}`];
  if (resolution.decision) parts.push(`decision ${inert(resolution.decision)}`);
  parts.push(`reason ${reasonText(resolution.reason)}`);
  if (resolution.by) {
    const surface = resolution.by.surface ? ` via ${inert(resolution.by.surface)}` : '';
    // "by owner via cli" rather than `by owner "owner"`: the name only when it says more than the role.
    const name = resolution.by.name === resolution.by.role ? '' : ` ${shownValue(resolution.by.name)}`;
    parts.push(`by ${inert(resolution.by.role)}${name}${surface}`);
  }
  if (resolution.stepUp) parts.push(`step-up ${inert(resolution.stepUp)}`);
  if (resolution.pattern !== null) parts.push(`pattern ${shownValue(resolution.pattern)}`);
  if (resolution.grantId !== null) parts.push(`grant ${inert(resolution.grantId)}`);
  parts.push(`at ${inert(resolution.at)}`);
  if (resolution.grantExpiresAt !== null) parts.push(`runnable until ${inert(resolution.grantExpiresAt)}`);
  return parts.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Terminal

const plain: TextStyle = (_role, text) => text;

export type ExecTextOptions = TextOptions & {
  /** Show how to decide (the approve/deny commands); `exec check` turns it off for a dry run. */
  howToDecide?: boolean;
};

/** The full exec request card for a terminal. */
export function renderExecText(request: ExecRequest, style: TextStyle = plain, options: ExecTextOptions = {}): string {
  const width = options.width === undefined ? Number.POSITIVE_INFINITY : Math.max(40, options.width);
  const flags = riskFlags(request.risk);
  const lines: Line[] = [];
  const add = (text: string, role?: Line['role']) => lines.push({ text, agent: true, ...(role ? { role } : {}) });
  const fixed = (text: string, role?: Line['role']) => lines.push({ text, ...(role ? { role } : {}) });

  add(`Exec request ${inert(request.id)}  [${inert(request.status)}]`, 'heading');
  fixed(`Risk:      ${riskLabel(request.risk)}`, flags.length > 0 ? 'danger' : undefined);
  for (const flag of flags) fixed(`  ! ${riskNames[flag]}: ${riskExplain[flag]}`, 'danger');
  // The rule texts come from the owner's policy file, not the agent; inert all the same.
  for (const rule of request.riskRules ?? []) fixed(`    - ${inert(rule.ruleId)}: ${inert(rule.explain)}`, 'danger');
  add(`Agent:     ${shownValue(request.agentId)}, session ${shownValue(request.sessionKey)}`);
  add(`Created:   ${inert(request.createdAt)}   Expires: ${inert(request.expiresAt)}`);
  add(`Why:       ${reasonText(request.reason)}`);
  fixed('');

  if (request.argv !== null) {
    fixed(`Command (argv, ${request.argv.length} token${request.argv.length === 1 ? '' : 's'}, run without a shell):`);
    request.argv.forEach((token, index) => {
      add(`  [${index}] ${shownValue(token)}`);
    });
  }
  if (request.commandText !== null) {
    fixed('Command (shell text, run with /bin/sh -c):');
    add(`  ${shownValue(request.commandText)}`);
  }
  add(`Cwd:       ${shownValue(request.cwd)}`);
  if (request.resolvedPath !== null) add(`Runs:      ${shownValue(request.resolvedPath)}`);
  for (const entry of request.env) add(`Env:       ${shownValue(entry.name)} = ${shownValue(entry.value)}`);
  if (request.fileOperand) {
    const file = request.fileOperand;
    add(`File:      ${shownValue(file.path)} (argv[${file.argvIndex}]), sha256 ${inert(file.sha256)}`);
  }
  fixed('');

  fixed(`Segments (${request.segments.length}; each must be allowed on its own):`);
  request.segments.forEach((segment, index) => {
    add(`  ${index + 1}. ${shownValue(segment.argv)}`);
    add(`     resolved: ${segment.resolvedPath === null ? 'NOT FOUND' : shownValue(segment.resolvedPath)}`);
    add(`     matched:  ${segment.matched === null ? '(no allowlist pattern)' : shownValue(segment.matched)}`);
    const risky = segment.elevated || segment.destructive || segment.inlineEval;
    fixed(`     risk:     ${segmentRisk(segment)}`, risky ? 'danger' : undefined);
  });
  fixed('');
  fixed(`Plan:      ${inert(request.planHash)}`);

  if (request.status === 'pending' && options.howToDecide !== false) {
    const surfaces = request.approval.surfaces.join(', ') || '(none)';
    fixed('');
    fixed(
      `To decide: from ${surfaces}${request.approval.totp ? '; an authenticator (TOTP) code is required' : ''}`,
      request.approval.totp ? 'danger' : undefined,
    );
    for (const [decision, command] of decisionCommands(request)) {
      fixed(`  ${command.padEnd(48)}  ${decisionLabel[decision]}`);
    }
  }
  const resolution = resolutionText(request);
  if (resolution !== null) {
    fixed('');
    add(`Resolution: ${resolution}`);
  }
  const out = lines.flatMap((line) => wrap(line, width));
  return `${out.map((line) => (line.role ? style(line.role, line.text) : line.text)).join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Chat (markdown)

/** Chat is short on room: long tokens are cut (visibly), the full card is one command away. */
const chatTokenChars = 240;
const chatTokens = 40;

/** A string as a quoted, inert code span; cut after `max` characters with an open quote and the count. */
function chatString(text: string, max = chatTokenChars): string {
  const chars = Array.from(text);
  if (chars.length <= max) return codeSpanOfInert(shownValue(text));
  const shown = shownValue(chars.slice(0, max).join(''));
  return `${codeSpanOfInert(`${shown.slice(0, -1)}…`)} *(+${chars.length - max} chars)*`;
}

function resolutionMarkdown(request: ExecRequest): string | null {
  const resolution = request.resolution;
  if (!resolution) return null;
  const parts = [`**${escapeMarkdown(resolution.status)}**`];
  if (resolution.decision) parts.push(`decision ${escapeMarkdown(resolution.decision)}`);
  parts.push(`reason ${reasonText(resolution.reason, escapeMarkdown)}`);
  if (resolution.by) {
    const surface = resolution.by.surface ? ` via ${escapeMarkdown(resolution.by.surface)}` : '';
    parts.push(`by ${escapeMarkdown(resolution.by.role)} ${chatString(resolution.by.name, 80)}${surface}`);
  }
  if (resolution.stepUp) parts.push(`step-up ${escapeMarkdown(resolution.stepUp)}`);
  if (resolution.pattern !== null) parts.push(`pattern ${chatString(resolution.pattern)}`);
  if (resolution.grantId !== null) parts.push(`grant ${codeSpan(resolution.grantId)}`);
  parts.push(`at ${escapeMarkdown(resolution.at)}`);
  return `Resolution: ${parts.join(' · ')}`;
}

/**
 * A compact exec request card for chat bridges: risk first, the command token by token, each
 * segment, how to decide. Blocks are separated by blank lines so none runs into the next.
 */
export function renderExecMarkdown(request: ExecRequest, options: { link?: string | null } = {}): string {
  const id = request.id;
  const fullCard = options.link ? `[full card](${options.link})` : codeSpan(`countersign exec show ${id}`);
  const flags = riskFlags(request.risk);
  const mark = request.risk.elevated || request.risk.destructive ? '🔴' : flags.length > 0 ? '🟠' : '🟡';
  const lines = [
    `**${mark} Exec request** from agent ${chatString(request.agentId)} · session ${chatString(request.sessionKey, 80)} · status **${escapeMarkdown(request.status)}**`,
    '',
    `**Risk: ${riskLabel(request.risk)}**`,
    ...flags.map((flag) => `- ⚠️ **${riskNames[flag]}**: ${riskExplain[flag]}`),
    ...(request.riskRules ?? []).map((rule) => `  - ${escapeMarkdown(rule.ruleId)}: ${escapeMarkdown(rule.explain)}`),
    '',
  ];
  if (request.argv !== null) {
    lines.push(`**Command** (argv, ${request.argv.length} token(s), no shell):`);
    for (const [index, token] of request.argv.slice(0, chatTokens).entries()) {
      lines.push(`- \\[${index}\\] ${chatString(token)}`);
    }
    if (request.argv.length > chatTokens) {
      lines.push(`- … and ${request.argv.length - chatTokens} more token(s): see ${fullCard}`);
    }
  }
  if (request.commandText !== null) {
    lines.push('**Command** (shell text, run with `/bin/sh -c`):', `- ${chatString(request.commandText, 600)}`);
  }
  lines.push(`- cwd ${chatString(request.cwd)}`);
  if (request.resolvedPath !== null) lines.push(`- runs ${chatString(request.resolvedPath)}`);
  for (const entry of request.env) lines.push(`- env ${chatString(entry.name, 80)} \\= ${chatString(entry.value)}`);
  if (request.fileOperand) {
    const file = request.fileOperand;
    lines.push(`- file ${chatString(file.path)} (argv\\[${file.argvIndex}\\]) · sha256 ${codeSpan(file.sha256)}`);
  }
  lines.push('');
  request.segments.slice(0, chatTokens).forEach((segment, index) => {
    const program = segment.argv[0] === undefined ? '*(empty)*' : chatString(segment.argv[0], 80);
    const resolved = segment.resolvedPath === null ? '**not found**' : chatString(segment.resolvedPath);
    const matched = segment.matched === null ? 'no allowlist pattern' : `pattern ${chatString(segment.matched)}`;
    const risk = segmentRisk(segment);
    lines.push(
      `- segment ${index + 1}: ${program} → ${resolved} · ${matched} · ${risk === 'none flagged' ? risk : `**${risk}**`}`,
    );
  });
  if (request.segments.length > chatTokens) {
    lines.push(`- … and ${request.segments.length - chatTokens} more segment(s): see ${fullCard}`);
  }
  lines.push('', `Why: ${reasonText(request.reason, escapeMarkdown)}`, '');
  if (request.status === 'pending') {
    const commands = decisionCommands(request).map(
      ([decision, command]) => `${decisionLabel[decision]}: ${codeSpan(command)}`,
    );
    lines.push(
      commands.join(' · '),
      `${request.approval.totp ? '**Authenticator (TOTP) code required** · ' : ''}approvable from: ${request.approval.surfaces.join(', ') || 'nowhere'} · expires ${escapeMarkdown(request.expiresAt)}`,
    );
  }
  const resolution = resolutionMarkdown(request);
  if (resolution !== null) lines.push(resolution);
  lines.push(`id ${codeSpan(id)} · plan ${codeSpan(`${request.planHash.slice(0, 24)}…`)} · ${fullCard}`);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// One line (the wrapper's progress on stderr)

/** What the owner is asked about, on one line, cut after `max` characters of the command. */
export function renderExecSummary(request: ExecRequest, max = 200): string {
  const command = request.argv !== null ? shownValue(request.argv) : `sh -c ${shownValue(request.commandText ?? '')}`;
  const chars = Array.from(command);
  const shown = chars.length <= max ? command : `${chars.slice(0, max).join('')}… (+${chars.length - max} chars)`;
  const totp = request.approval.totp ? ', TOTP required' : '';
  return `${shown} in ${shownValue(request.cwd)} — risk ${riskLabel(request.risk)}${totp} — ${reasonText(request.reason)}`;
}
