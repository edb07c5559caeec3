import { inert } from './inert.js';

/**
 * Agent text in a chat card (Slack/Discord/Telegram-style bridges). Targets CommonMark, which
 * Discord and Telegram's MarkdownV2 follow for escapes: any ASCII punctuation may be
 * backslash-escaped, so escaping all of it leaves no emphasis, link (`[x](…)`), autolink or HTML
 * (`<@123>`), heading (`#`), list, quote, table (`|`), code span or mention (`@everyone`, `@here`)
 * for the agent to start. The text is made inert first (src/core/text/inert.ts), so it cannot
 * break a line and swallow the card's next heading either. Slack's mrkdwn has no backslash
 * escapes; a Slack bridge should convert from CommonMark.
 */

const punctuation = /[!-/:-@[-`{-~]/g;

/** One line of agent text as literal markdown. */
export function escapeMarkdown(text: string): string {
  return inert(text).replace(punctuation, '\\$&');
}

/**
 * Free text (a `reason`) as a block quote: each line escaped and quoted, so no line of it can end
 * the quote and start a block of the card. The caller leaves a blank line after it (a paragraph
 * in a quote would otherwise lazily continue onto the card's next line).
 */
export function quoteMarkdown(text: string): string {
  return String(text)
    .split('\n')
    .map((line) => `> ${escapeMarkdown(line)}`.trimEnd())
    .join('\n');
}

/**
 * Agent text as a code span that nothing inside can close: the fence is one backtick longer than
 * the longest run of backticks in the content (CommonMark 6.1), and content that starts or ends
 * with a backtick or a space is padded with one space, which CommonMark strips again.
 * Inside a code span backslashes are literal, so the inert escapes read as written.
 */
export function codeSpan(text: string): string {
  return codeSpanOfInert(inert(text));
}

/** `codeSpan` for text that is already inert (a value from `inertJson`): escaped once, not twice. */
export function codeSpanOfInert(content: string): string {
  if (content === '') return '*(empty)*';
  const longest = Math.max(0, ...(content.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^[ `]|[ `]$/.test(content) && content.trim() !== '' ? ' ' : '';
  return `${fence}${pad}${content}${pad}${fence}`;
}
