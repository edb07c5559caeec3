import type { Card, Change } from './card.js';
import { canonical } from './hash.js';

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

/** A compact card for chat bridges (Slack, Discord, Telegram): summary, risky paths first, how to approve. */
export function renderMarkdown(card: Card, maxChanges = 10): string {
  const who = card.requestedBy.agentId ? `agent **${card.requestedBy.agentId}**` : `**${card.requestedBy.name}**`;
  const lines = [
    `**${tierMark[card.tier]}** change to \`${card.target}\` from ${who} — ${card.changes.length} path(s), status **${card.status}**${card.restartRequired ? ', restart needed' : ''}`,
  ];
  if (card.reason) lines.push(`> ${card.reason.replace(/\n/g, ' ')}`);
  const sorted = byRisk(card.changes);
  for (const change of sorted.slice(0, maxChanges)) {
    lines.push(`- \`${changeLine(change)}\` — ${change.tier}${change.ruleId ? ` (${change.ruleId})` : ''}`);
    if (change.tier === 'dangerous' || change.tier === 'blocked') lines.push(`  ${change.explain}`);
  }
  if (sorted.length > maxChanges)
    lines.push(`- … and ${sorted.length - maxChanges} more (full card: \`countersign show ${card.id}\`)`);
  lines.push(...howToApprove(card), `id \`${card.id}\` · patch \`${card.patchHash.slice(0, 19)}…\``);
  return `${lines.join('\n')}\n`;
}

/** The full card for a terminal. */
export function renderText(card: Card): string {
  const lines = [
    `Proposal ${card.id}  [${card.status}]`,
    `Target:    ${card.target}`,
    `Tier:      ${card.tier.toUpperCase()}${card.restartRequired ? '   (restart required)' : ''}`,
    `From:      ${card.requestedBy.role} ${card.requestedBy.name}${card.requestedBy.agentId ? ` (agent ${card.requestedBy.agentId})` : ''}${card.requestedBy.sessionKey ? `, session ${card.requestedBy.sessionKey}` : ''}`,
    `Created:   ${card.createdAt}   Expires: ${card.expiresAt}`,
    `Reason:    ${card.reason ?? '(none given)'}`,
    '',
    'Changes:',
  ];
  for (const change of byRisk(card.changes)) {
    lines.push(`  [${change.tier}] ${change.op.padEnd(7)} ${change.path}`);
    if (change.before !== undefined) lines.push(`      before: ${canonical(change.before)}`);
    if (change.after !== undefined) lines.push(`      after:  ${canonical(change.after)}`);
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
