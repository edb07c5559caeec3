import type { Card, Change } from './card.js';
import type { McpReview, NamedValue, Provenance } from './mcp-review.js';
import type { NewKey } from './new-keys.js';
import { inert } from './text/inert.js';
import { codeSpan, codeSpanOfInert, escapeMarkdown, quoteMarkdown } from './text/markdown.js';
import { type Excerpt, listDelta, shownValue, valueView } from './text/value-diff.js';

/*
 * Cards for people. Everything on a card that did not come from this file or the policy (reason,
 * session key, paths and keys, values, MCP server names, commands, arguments, tool names and
 * descriptions) is agent-supplied and hostile: it goes through src/core/text/ on its way out —
 * `inert` for the terminal, `escapeMarkdown`/`codeSpan` for chat — so it can neither act on the
 * terminal nor on the chat client, and never hides a difference (issue 10, items 4 and 8).
 */

const tierMark: Record<Card['tier'], string> = {
  allowlisted: '🟢 allowlisted',
  protected: '🟡 protected',
  dangerous: '🔴 dangerous',
  blocked: '⛔ blocked',
};

/** An env variable or header entry, with the optional facts the MCP review may carry. */
type ReviewedValue = NamedValue & {
  /** The literal value of a dangerous override such as NODE_OPTIONS. */
  value?: string | null;
  /** The variable a `${VAR}` reference reads. */
  reads?: string | null;
};

/** Risky changes first, so a truncated chat message still shows what matters. */
function byRisk(changes: readonly Change[]): Change[] {
  const rank = { blocked: 3, dangerous: 2, protected: 1, allowlisted: 0 };
  return [...changes].sort((a, b) => rank[b.tier] - rank[a.tier]);
}

function provenanceOf(provenance: Provenance): string {
  const version =
    provenance.version === null ? '' : `${provenance.ecosystem === 'pypi' ? '==' : '@'}${inert(provenance.version)}`;
  const from =
    provenance.via === 'node_modules' ? `installed (${inert(provenance.packageJson ?? '')})` : `via ${provenance.via}`;
  return `${provenance.ecosystem} ${inert(provenance.package)}${version} ${from}${provenance.pinned ? ', pinned' : ', NOT pinned'}`;
}

/** `NAME = "value"`, `NAME (reads $OTHER)`, `NAME (${VAR} reference)` or `NAME (literal)`; all inert. */
function namedValueText(entry: ReviewedValue): string {
  const name = inert(entry.name);
  if (typeof entry.value === 'string') return `${name} = ${shownValue(entry.value)}`;
  if (typeof entry.reads === 'string') return `${name} (reads \${${inert(entry.reads)}})`;
  if (entry.kept) return `${name} (kept as it is, not shown)`;
  return `${name} (${entry.reference ? `\${VAR} reference` : 'literal'})`;
}

function namedValueMarkdown(entry: ReviewedValue): string {
  if (typeof entry.value === 'string') return `${codeSpan(entry.name)} \\= ${codeSpanOfInert(shownValue(entry.value))}`;
  if (typeof entry.reads === 'string') return `${codeSpan(entry.name)} reads ${codeSpan(`\${${entry.reads}}`)}`;
  if (entry.kept) return `${codeSpan(entry.name)} (kept, not shown)`;
  return `${codeSpan(entry.name)} (${entry.reference ? 'a reference' : 'literal'})`;
}

// ---------------------------------------------------------------------------------------------
// Terminal

/** How a terminal marks parts of the card; plain text (the default) marks nothing. */
export type TextStyle = (role: 'removed' | 'added' | 'danger' | 'heading', text: string) => string;
const plain: TextStyle = (_role, text) => text;

export type TextOptions = {
  /**
   * Lines holding agent text are cut at this many columns and continued on lines starting with
   * `↪`, so that the terminal never wraps agent text to the start of a line where it could pass
   * for a line of the card. The CLI passes the terminal's width; without one (a pipe, an HTTP
   * client) nothing is cut.
   */
  width?: number;
};

export type Line = { text: string; role?: Parameters<TextStyle>[0]; agent?: boolean };

/**
 * Columns a string may take, over-estimated: anything outside printable ASCII counts twice (wide
 * characters, emoji). Over-estimating only makes lines shorter. Agent text here is already inert.
 */
function columns(char: string): number {
  const code = char.codePointAt(0) as number;
  return code >= 0x20 && code < 0x7f ? 1 : 2;
}

const continuation = '      ↪ ';

/** Cuts a line of agent text at `width` columns (see `TextOptions.width`); the exec card uses it too. */
export function wrap(line: Line, width: number): Line[] {
  if (!line.agent) return [line];
  const chars = Array.from(line.text);
  const out: Line[] = [];
  let current = '';
  let used = 0;
  let limit = width;
  for (const char of chars) {
    const w = columns(char);
    if (used + w > limit && current !== '') {
      out.push({ ...line, text: current });
      current = continuation;
      used = continuation.length + 1;
      limit = width;
    }
    current += char;
    used += w;
  }
  out.push({ ...line, text: current });
  return out;
}

function excerptText(excerpt: Excerpt): string {
  return `${excerpt.skippedStart ? `…[${excerpt.skippedStart} chars]…` : ''}${excerpt.text}${excerpt.skippedEnd ? `…[${excerpt.skippedEnd} chars]…` : ''}`;
}

/** Long values: where they differ, so a change at the end of a long string is not missed. */
const excerptOptions = { max: 160, context: 24, maxMiddle: 400 };

/** The new key (card.newKeys) a change's path starts with, if any. */
export function newKeyOf(card: Pick<Card, 'newKeys'>, path: string): NewKey | undefined {
  return card.newKeys?.find(
    (key) => path === key.path || path.startsWith(`${key.path}.`) || path.startsWith(`${key.path}[`),
  );
}

function newKeyText(key: NewKey): string {
  return `${inert(key.path)}${key.similarTo === undefined ? '' : ` (did you mean ${inert(key.similarTo)}?)`}`;
}

function newKeysText(card: Card): Line[] {
  if (!card.newKeys?.length) return [];
  return [
    { text: 'New keys (the document has no such key there yet; check the spelling):', role: 'danger' },
    ...card.newKeys.map((key) => ({ text: `  ${newKeyText(key)}`, role: 'danger' as const, agent: true })),
    { text: '' },
  ];
}

function changeLines(change: Change, newKey?: NewKey): Line[] {
  const lines: Line[] = [
    {
      text: `  [${change.tier}] ${change.op.padEnd(7)} ${inert(change.path)}${newKey ? `   NEW KEY ${inert(newKey.path)}` : ''}`,
      agent: true,
    },
  ];
  if (change.from !== undefined) {
    lines.push({
      text: `      SOURCE: same value as ${inert(change.from)} (copied, not typed: check where it goes)`,
      role: 'danger',
      agent: true,
    });
  }
  if (change.before !== undefined)
    lines.push({ text: `      before: ${shownValue(change.before)}`, role: 'removed', agent: true });
  if (change.after !== undefined)
    lines.push({ text: `      after:  ${shownValue(change.after)}`, role: 'added', agent: true });
  if (Array.isArray(change.before) && Array.isArray(change.after)) {
    const delta = listDelta(change.before, change.after);
    for (const item of delta.removed)
      lines.push({ text: `      − item: ${shownValue(item)}`, role: 'removed', agent: true });
    for (const item of delta.added)
      lines.push({ text: `      + item: ${shownValue(item)}`, role: 'added', agent: true });
    if (delta.reordered) lines.push({ text: '      (same items, new order)' });
  } else if (change.before !== undefined && change.after !== undefined) {
    const view = valueView(change.before, change.after, excerptOptions);
    if (
      view.kind === 'values' &&
      view.before &&
      view.after &&
      (view.before.skippedStart || view.before.skippedEnd || view.after.skippedStart || view.after.skippedEnd)
    ) {
      lines.push({ text: `      differs: ${excerptText(view.before)}`, role: 'removed', agent: true });
      lines.push({ text: `           → ${excerptText(view.after)}`, role: 'added', agent: true });
    }
  }
  lines.push({ text: `      why:    ${change.ruleId ? `rule ${change.ruleId}: ` : ''}${change.explain}` });
  return lines;
}

function programText(review: McpReview): string {
  if (review.command === null) return review.url === null ? '(nothing to run)' : inert(review.url);
  return [review.command, ...review.args].map((part) => shownValue(part)).join(' ');
}

function resolvedText(review: McpReview): string {
  if (review.resolvedPath === null) return 'NOT FOUND';
  const notes = [review.absolute ? 'absolute' : 'found via PATH', review.executable ? null : 'NOT EXECUTABLE'].filter(
    (note) => note !== null,
  );
  return `${inert(review.resolvedPath)} (${notes.join(', ')})`;
}

function mcpReviewText(card: Card): Line[] {
  const reviews = card.review.mcp;
  if (reviews.length === 0) return [];
  const lines: Line[] = [{ text: 'MCP servers (review these first: approving lets the agent use them):' }];
  const add = (text: string, role?: Line['role']) => lines.push({ text, agent: true, ...(role ? { role } : {}) });
  for (const review of reviews) {
    add(`  ${review.action.toUpperCase()} ${inert(review.server)}  [${review.transport}]`);
    add(`      program:  ${programText(review)}`);
    if (review.transport === 'stdio') {
      add(`      resolved: ${resolvedText(review)}`);
      add(`      sha256:   ${review.sha256 === null ? '(none: nothing to hash)' : inert(review.sha256)}`);
      if (review.script) {
        add(
          `      script:   ${inert(review.script.path)} → ${review.script.resolvedPath === null ? 'NOT FOUND' : inert(review.script.resolvedPath)}  sha256 ${review.script.sha256 === null ? '(none)' : inert(review.script.sha256)}`,
        );
      }
    }
    if (review.provenance) add(`      package:  ${provenanceOf(review.provenance)}`);
    if (review.cwd !== null) add(`      cwd:      ${inert(review.cwd)}`);
    for (const entry of review.env as ReviewedValue[]) add(`      env:      ${namedValueText(entry)}`);
    for (const entry of review.headers as ReviewedValue[]) add(`      header:   ${namedValueText(entry)}`);
    for (const warning of review.warnings) add(`      ! ${warning.code}: ${inert(warning.message)}`, 'danger');
    if (review.smokeTest) {
      const { tools, warnings } = review.smokeTest;
      const destructive = tools.filter((tool) => tool.destructive).length;
      add(
        `      smoke test (${inert(review.smokeTest.at)} by ${inert(review.smokeTest.by)}): ${tools.length} tool(s), ${destructive} destructive`,
      );
      for (const tool of tools) {
        const mark = tool.destructive ? 'DESTRUCTIVE' : tool.readOnly ? 'read-only' : 'may change things';
        add(`        - ${inert(tool.name)} [${mark}]`);
      }
      for (const warning of warnings) add(`        ! ${warning.code}: ${inert(warning.message)}`, 'danger');
    } else if (review.action !== 'remove') {
      lines.push({
        text: `      smoke test: not run (owner-started: countersign smoke-test ${inert(card.id)} --server ${inert(review.location === 'nodeHost' ? `nodeHost:${review.server}` : review.server)})`,
      });
    }
  }
  lines.push({ text: '' });
  return lines;
}

/** The full card for a terminal. */
export function renderText(card: Card, style: TextStyle = plain, options: TextOptions = {}): string {
  const width = options.width === undefined ? Number.POSITIVE_INFINITY : Math.max(40, options.width);
  const tier =
    card.tier === 'dangerous' || card.tier === 'blocked'
      ? style('danger', card.tier.toUpperCase())
      : card.tier.toUpperCase();
  const who = card.requestedBy;
  const lines: Line[] = [
    { text: `Proposal ${inert(card.id)}  [${card.status}]`, role: 'heading', agent: true },
    { text: `Target:    ${inert(card.target)}`, agent: true },
  ];
  // The tier line is styled here, not by role: only the tier word is coloured.
  const tierLine = `Tier:      ${tier}${card.restartRequired ? '   (restart required)' : ''}`;
  const head: Line[] = [
    {
      text: `From:      ${who.role} ${inert(who.name)}${who.agentId ? ` (agent ${inert(who.agentId)})` : ''}${who.sessionKey !== null ? `, session ${inert(who.sessionKey)}` : ''}`,
      agent: true,
    },
    { text: `Created:   ${inert(card.createdAt)}   Expires: ${inert(card.expiresAt)}` },
  ];
  // A reason may span lines: each continuation starts with a bar, so none can pass for a card line.
  const reason = card.reason === null ? ['(none given)'] : card.reason.split('\n').map(inert);
  head.push({ text: `Reason:    ${reason[0] ?? ''}`, agent: true });
  for (const line of reason.slice(1)) head.push({ text: `         | ${line}`, agent: true });
  head.push({ text: '' });
  const body: Line[] = [...mcpReviewText(card), ...newKeysText(card), { text: 'Changes:' }];
  // Each new key is marked once, on the first change under it (a new server has many leaves).
  const marked = new Set<string>();
  for (const change of byRisk(card.changes)) {
    const key = newKeyOf(card, change.path);
    body.push(...changeLines(change, key && !marked.has(key.path) ? key : undefined));
    if (key) marked.add(key.path);
  }
  body.push({ text: '' }, { text: 'Operations (RFC 6902):' });
  for (const operation of card.operations) body.push({ text: `  ${shownValue(operation)}`, agent: true });
  body.push(
    { text: '' },
    { text: `Base:   ${inert(card.baseHash)}` },
    { text: `Patch:  ${inert(card.patchHash)}` },
    { text: `Target: ${inert(card.targetHash)}` },
  );
  if (card.status === 'pending') {
    body.push(
      { text: '' },
      {
        text: `To approve: surfaces ${card.approval.surfaces.join(', ') || '(none)'}${card.approval.totp ? ', TOTP code required' : ''}${card.approval.confirmPhrase ? `, type "${inert(card.approval.confirmPhrase)}"` : ''}`,
      },
    );
  }
  if (card.resolution) {
    const by = card.resolution.by ? ` by ${inert(card.resolution.by.name)}` : '';
    body.push(
      { text: '' },
      {
        text: `Resolution: ${card.resolution.status}${by} at ${inert(card.resolution.at)}${card.resolution.reason ? ` — ${inert(card.resolution.reason)}` : ''}`,
        agent: true,
      },
    );
  }
  const out = [
    ...lines.flatMap((line) => wrap(line, width)),
    { text: tierLine },
    ...[...head, ...body].flatMap((line) => wrap(line, width)),
  ];
  return `${out.map((line) => (line.role ? style(line.role, line.text) : line.text)).join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Chat (markdown)

function excerptMarkdown(excerpt: Excerpt): string {
  return `${excerpt.skippedStart ? `*(${excerpt.skippedStart} chars)* ` : ''}${codeSpanOfInert(excerpt.text)}${excerpt.skippedEnd ? ` *(+${excerpt.skippedEnd} chars)*` : ''}`;
}

/** Chat is short on room: values are cut, but always around their difference (src/core/text/value-diff.ts). */
const chatExcerpt = { max: 120, context: 16, maxMiddle: 80 };
const chatListItems = 8;

/** The values of one change for a chat card; exported for the "never reads the same" property test. */
export function changeValuesMarkdown(change: Pick<Change, 'before' | 'after'>): string {
  const view = valueView(change.before, change.after, chatExcerpt);
  if (view.kind === 'list') {
    const parts = [`list of ${view.beforeLength} → ${view.afterLength} items`];
    const items = (label: string, excerpts: Excerpt[]) => {
      if (excerpts.length === 0) return;
      const shown = excerpts.slice(0, chatListItems).map(excerptMarkdown).join(', ');
      const more = excerpts.length > chatListItems ? ` and ${excerpts.length - chatListItems} more` : '';
      parts.push(`${label} ${shown}${more}`);
    };
    items('removed', view.removed);
    items('added', view.added);
    return parts.join('; ');
  }
  const before = view.before === null ? '∅' : excerptMarkdown(view.before);
  const after = view.after === null ? '∅' : excerptMarkdown(view.after);
  const order = view.reordered ? ' (same items, new order)' : '';
  if (view.before === null) return `\\+ ${after}`;
  if (view.after === null) return `− ${before}`;
  return `${before} → ${after}${order}`;
}

function mcpReviewMarkdown(card: Card): string[] {
  const reviews = card.review.mcp;
  if (reviews.length === 0) return [];
  const lines = ['**MCP servers — review before approving:**', ''];
  for (const review of reviews) {
    lines.push(
      `- **${review.action} ${codeSpan(review.server)}** (${review.transport}): ${codeSpanOfInert(programText(review))}`,
    );
    if (review.transport === 'stdio') {
      lines.push(`  - resolved ${codeSpanOfInert(resolvedText(review))} · sha256 ${codeSpan(review.sha256 ?? 'none')}`);
      if (review.script) {
        lines.push(
          `  - script ${codeSpan(review.script.resolvedPath ?? review.script.path)} · sha256 ${codeSpan(review.script.sha256 ?? 'none')}`,
        );
      }
    }
    if (review.provenance) lines.push(`  - package ${codeSpanOfInert(provenanceOf(review.provenance))}`);
    const env = review.env as ReviewedValue[];
    if (env.length > 0) lines.push(`  - env: ${env.map(namedValueMarkdown).join(', ')}`);
    const headers = review.headers as ReviewedValue[];
    if (headers.length > 0) lines.push(`  - headers: ${headers.map(namedValueMarkdown).join(', ')}`);
    for (const warning of review.warnings) lines.push(`  - ⚠️ \`${warning.code}\`: ${escapeMarkdown(warning.message)}`);
    if (review.smokeTest) {
      const { tools } = review.smokeTest;
      const destructive = tools.filter((tool) => tool.destructive).map((tool) => codeSpan(tool.name));
      lines.push(
        `  - smoke test: ${tools.length} tool(s)${destructive.length ? `; destructive: ${destructive.join(', ')}` : '; none destructive'}`,
      );
      for (const warning of review.smokeTest.warnings) {
        lines.push(`  - ⚠️ \`${warning.code}\`: ${escapeMarkdown(warning.message)}`);
      }
    }
  }
  lines.push('');
  return lines;
}

function howToApprove(card: Card): string[] {
  if (card.status !== 'pending') return [];
  const needs: string[] = [];
  if (card.approval.confirmPhrase) needs.push(`type ${codeSpan(card.approval.confirmPhrase)}`);
  if (card.approval.totp) needs.push('enter your authenticator code');
  return [
    `Approve: ${codeSpan(`countersign approve ${card.id}`)}${needs.length ? ` (you will ${needs.join(' and ')})` : ''}; deny: ${codeSpan(`countersign deny ${card.id}`)}`,
    `Approvable from: ${card.approval.surfaces.join(', ') || 'nowhere'} · expires ${escapeMarkdown(card.expiresAt)}`,
  ];
}

/**
 * A compact card for chat bridges (Slack, Discord, Telegram): summary, risky paths first, how to
 * approve. Blocks are separated by blank lines so that no block (the reason above all) runs into
 * the next one.
 */
export function renderMarkdown(card: Card, options: { link?: string | null; maxChanges?: number } = {}): string {
  const maxChanges = options.maxChanges ?? 10;
  const fullCard = options.link ? `[full card](${options.link})` : codeSpan(`countersign show ${card.id}`);
  const who = card.requestedBy.agentId
    ? `agent **${escapeMarkdown(card.requestedBy.agentId)}**`
    : `**${escapeMarkdown(card.requestedBy.name)}**`;
  const lines = [
    `**${tierMark[card.tier]}** change to ${codeSpan(card.target)} from ${who} — ${card.changes.length} path(s), status **${card.status}**${card.restartRequired ? ', restart needed' : ''}`,
    '',
  ];
  if (card.reason) lines.push(quoteMarkdown(card.reason), '');
  lines.push(...mcpReviewMarkdown(card));
  if (card.newKeys?.length) {
    const keys = card.newKeys.map(
      (key) =>
        `${codeSpan(key.path)}${key.similarTo === undefined ? '' : ` (did you mean ${codeSpan(key.similarTo)}?)`}`,
    );
    lines.push(`⚠️ **New key${keys.length === 1 ? '' : 's'}** (check the spelling): ${keys.join(', ')}`, '');
  }
  const sorted = byRisk(card.changes);
  for (const change of sorted.slice(0, maxChanges)) {
    lines.push(
      `- ${codeSpan(change.path)}: ${changeValuesMarkdown(change)} — ${change.tier}${change.ruleId ? ` (${change.ruleId})` : ''}`,
    );
    if (change.from !== undefined) lines.push(`  ⚠️ **same value as** ${codeSpan(change.from)} (copied, not typed)`);
    if (change.tier === 'dangerous' || change.tier === 'blocked') lines.push(`  ${change.explain}`);
  }
  if (sorted.length > maxChanges) lines.push(`- … and ${sorted.length - maxChanges} more (${fullCard})`);
  lines.push(
    '',
    ...howToApprove(card),
    `id ${codeSpan(card.id)} · patch ${codeSpan(`${card.patchHash.slice(0, 19)}…`)} · ${fullCard}`,
  );
  return `${lines.join('\n')}\n`;
}
