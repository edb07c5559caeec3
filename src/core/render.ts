import type { Card, Change } from './card.js';
import { canonical } from './hash.js';
import type { McpReview, NamedValue, Provenance } from './mcp-review.js';

const tierMark: Record<Card['tier'], string> = {
  allowlisted: '🟢 allowlisted',
  protected: '🟡 protected',
  dangerous: '🔴 dangerous',
  blocked: '⛔ blocked',
};

function shown(value: Change['before']): string {
  if (value === undefined) return '∅';
  const text = canonical(value);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

function changeLine(change: Change): string {
  const arrow =
    change.op === 'add'
      ? `+ ${shown(change.after)}`
      : change.op === 'remove'
        ? `− ${shown(change.before)}`
        : `${shown(change.before)} → ${shown(change.after)}`;
  return `${change.path}: ${arrow}`;
}

/** Risky changes first, so a truncated chat message still shows what matters. */
function byRisk(changes: readonly Change[]): Change[] {
  const rank = { blocked: 3, dangerous: 2, protected: 1, allowlisted: 0 };
  return [...changes].sort((a, b) => rank[b.tier] - rank[a.tier]);
}

function howToApprove(card: Card): string[] {
  if (card.status !== 'pending') return [];
  const parts = [`countersign approve ${card.id}`];
  const needs: string[] = [];
  if (card.approval.confirmPhrase) needs.push(`type "${card.approval.confirmPhrase}"`);
  if (card.approval.totp) needs.push('enter your authenticator code');
  return [
    `Approve: \`${parts.join(' ')}\`${needs.length ? ` (you will ${needs.join(' and ')})` : ''}; deny: \`countersign deny ${card.id}\``,
    `Approvable from: ${card.approval.surfaces.join(', ') || 'nowhere'} · expires ${card.expiresAt}`,
  ];
}

// ---------------------------------------------------------------------------------------------
// MCP review: the part of a card a human must read, so it comes before the change list.

function programOf(review: McpReview): string {
  if (review.command === null) return review.url ?? '(nothing to run)';
  return [review.command, ...review.args].join(' ');
}

function provenanceOf(provenance: Provenance): string {
  const version =
    provenance.version === null ? '' : `${provenance.ecosystem === 'pypi' ? '==' : '@'}${provenance.version}`;
  const from = provenance.via === 'node_modules' ? `installed (${provenance.packageJson})` : `via ${provenance.via}`;
  return `${provenance.ecosystem} ${provenance.package}${version} ${from}${provenance.pinned ? ', pinned' : ', NOT pinned'}`;
}

function namesOf(values: readonly NamedValue[]): string {
  return values.map((value) => `${value.name} (${value.reference ? `\${VAR} reference` : 'literal'})`).join(', ');
}

function resolvedOf(review: McpReview): string {
  if (review.resolvedPath === null) return 'NOT FOUND';
  const notes = [review.absolute ? 'absolute' : 'found via PATH', review.executable ? null : 'NOT EXECUTABLE'].filter(
    (note) => note !== null,
  );
  return `${review.resolvedPath} (${notes.join(', ')})`;
}

function mcpReviewText(card: Card): string[] {
  const reviews = card.review.mcp;
  if (reviews.length === 0) return [];
  const lines = ['MCP servers (review these first: approving lets the agent use them):'];
  for (const review of reviews) {
    lines.push(`  ${review.action.toUpperCase()} ${review.server}  [${review.transport}]`);
    lines.push(`      program:  ${programOf(review)}`);
    if (review.transport === 'stdio') {
      lines.push(`      resolved: ${resolvedOf(review)}`);
      lines.push(`      sha256:   ${review.sha256 ?? '(none: nothing to hash)'}`);
      if (review.script) {
        lines.push(
          `      script:   ${review.script.path} → ${review.script.resolvedPath ?? 'NOT FOUND'}  sha256 ${review.script.sha256 ?? '(none)'}`,
        );
      }
    }
    if (review.provenance) lines.push(`      package:  ${provenanceOf(review.provenance)}`);
    if (review.cwd !== null) lines.push(`      cwd:      ${review.cwd}`);
    if (review.env.length > 0) lines.push(`      env:      ${namesOf(review.env)}`);
    if (review.headers.length > 0) lines.push(`      headers:  ${namesOf(review.headers)}`);
    for (const warning of review.warnings) lines.push(`      ! ${warning.code}: ${warning.message}`);
    if (review.smokeTest) {
      const { tools, warnings } = review.smokeTest;
      const destructive = tools.filter((tool) => tool.destructive).length;
      lines.push(
        `      smoke test (${review.smokeTest.at} by ${review.smokeTest.by}): ${tools.length} tool(s), ${destructive} destructive`,
      );
      for (const tool of tools) {
        const mark = tool.destructive ? 'DESTRUCTIVE' : tool.readOnly ? 'read-only' : 'may change things';
        lines.push(`        - ${tool.name} [${mark}]`);
      }
      for (const warning of warnings) lines.push(`        ! ${warning.code}: ${warning.message}`);
    } else if (review.action !== 'remove') {
      lines.push(
        `      smoke test: not run (countersign smoke-test is owner-started: POST /v1/proposals/${card.id}/smoke-test)`,
      );
    }
  }
  lines.push('');
  return lines;
}

function mcpReviewMarkdown(card: Card): string[] {
  const reviews = card.review.mcp;
  if (reviews.length === 0) return [];
  const lines = ['**MCP servers — review before approving:**'];
  for (const review of reviews) {
    lines.push(`- **${review.action} \`${review.server}\`** (${review.transport}): \`${programOf(review)}\``);
    if (review.transport === 'stdio') {
      lines.push(`  - resolved \`${resolvedOf(review)}\` · sha256 \`${review.sha256 ?? 'none'}\``);
      if (review.script) {
        lines.push(
          `  - script \`${review.script.resolvedPath ?? review.script.path}\` · sha256 \`${review.script.sha256 ?? 'none'}\``,
        );
      }
    }
    if (review.provenance) lines.push(`  - package ${provenanceOf(review.provenance)}`);
    if (review.env.length > 0) lines.push(`  - env: ${namesOf(review.env)}`);
    if (review.headers.length > 0) lines.push(`  - headers: ${namesOf(review.headers)}`);
    for (const warning of review.warnings) lines.push(`  - ⚠️ \`${warning.code}\`: ${warning.message}`);
    if (review.smokeTest) {
      const { tools } = review.smokeTest;
      const destructive = tools.filter((tool) => tool.destructive).map((tool) => `\`${tool.name}\``);
      lines.push(
        `  - smoke test: ${tools.length} tool(s)${destructive.length ? `; destructive: ${destructive.join(', ')}` : '; none destructive'}`,
      );
      for (const warning of review.smokeTest.warnings) lines.push(`  - ⚠️ \`${warning.code}\`: ${warning.message}`);
    }
  }
  return lines;
}

/** A compact card for chat bridges (Slack, Discord, Telegram): summary, risky paths first, how to approve. */
export function renderMarkdown(card: Card, options: { link?: string | null; maxChanges?: number } = {}): string {
  const maxChanges = options.maxChanges ?? 10;
  const fullCard = options.link ? `[full card](${options.link})` : `\`countersign show ${card.id}\``;
  const who = card.requestedBy.agentId ? `agent **${card.requestedBy.agentId}**` : `**${card.requestedBy.name}**`;
  const lines = [
    `**${tierMark[card.tier]}** change to \`${card.target}\` from ${who} — ${card.changes.length} path(s), status **${card.status}**${card.restartRequired ? ', restart needed' : ''}`,
  ];
  if (card.reason) lines.push(`> ${card.reason.replace(/\n/g, ' ')}`);
  lines.push(...mcpReviewMarkdown(card));
  const sorted = byRisk(card.changes);
  for (const change of sorted.slice(0, maxChanges)) {
    lines.push(`- \`${changeLine(change)}\` — ${change.tier}${change.ruleId ? ` (${change.ruleId})` : ''}`);
    if (change.tier === 'dangerous' || change.tier === 'blocked') lines.push(`  ${change.explain}`);
  }
  if (sorted.length > maxChanges) lines.push(`- … and ${sorted.length - maxChanges} more (${fullCard})`);
  lines.push(...howToApprove(card), `id \`${card.id}\` · patch \`${card.patchHash.slice(0, 19)}…\` · ${fullCard}`);
  return `${lines.join('\n')}\n`;
}

/** How a terminal marks parts of the card; plain text (the default) marks nothing. */
export type TextStyle = (role: 'removed' | 'added' | 'danger' | 'heading', text: string) => string;
const plain: TextStyle = (_role, text) => text;

/** The full card for a terminal. */
export function renderText(card: Card, style: TextStyle = plain): string {
  const tier =
    card.tier === 'dangerous' || card.tier === 'blocked'
      ? style('danger', card.tier.toUpperCase())
      : card.tier.toUpperCase();
  const lines = [
    style('heading', `Proposal ${card.id}  [${card.status}]`),
    `Target:    ${card.target}`,
    `Tier:      ${tier}${card.restartRequired ? '   (restart required)' : ''}`,
    `From:      ${card.requestedBy.role} ${card.requestedBy.name}${card.requestedBy.agentId ? ` (agent ${card.requestedBy.agentId})` : ''}${card.requestedBy.sessionKey ? `, session ${card.requestedBy.sessionKey}` : ''}`,
    `Created:   ${card.createdAt}   Expires: ${card.expiresAt}`,
    `Reason:    ${card.reason ?? '(none given)'}`,
    '',
    ...mcpReviewText(card),
    'Changes:',
  ];
  for (const change of byRisk(card.changes)) {
    lines.push(`  [${change.tier}] ${change.op.padEnd(7)} ${change.path}`);
    if (change.before !== undefined) lines.push(style('removed', `      before: ${canonical(change.before)}`));
    if (change.after !== undefined) lines.push(style('added', `      after:  ${canonical(change.after)}`));
    lines.push(`      why:    ${change.ruleId ? `rule ${change.ruleId}: ` : ''}${change.explain}`);
  }
  lines.push('', 'Operations (RFC 6902):');
  for (const operation of card.operations) lines.push(`  ${canonical(operation)}`);
  lines.push('', `Base:   ${card.baseHash}`, `Patch:  ${card.patchHash}`, `Target: ${card.targetHash}`);
  if (card.status === 'pending') {
    lines.push(
      '',
      `To approve: surfaces ${card.approval.surfaces.join(', ') || '(none)'}${card.approval.totp ? ', TOTP code required' : ''}${card.approval.confirmPhrase ? `, type "${card.approval.confirmPhrase}"` : ''}`,
    );
  }
  if (card.resolution) {
    const by = card.resolution.by ? ` by ${card.resolution.by.name}` : '';
    lines.push(
      '',
      `Resolution: ${card.resolution.status}${by} at ${card.resolution.at}${card.resolution.reason ? ` — ${card.resolution.reason}` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
