// How a chat client would read a card: CommonMark tokens, to check that nothing an agent wrote
// became a link, a mention, HTML or a heading.
import MarkdownIt from 'markdown-it';
import { expect } from 'vitest';

export type MarkdownToken = { type: string; tag: string; content: string; children: MarkdownToken[] | null };

const md = new MarkdownIt('commonmark');

export type ParsedMarkdown = {
  tokens: MarkdownToken[];
  inlines: MarkdownToken[];
  /** The plain text outside code spans, joined: where a live @mention or <…> would be. */
  outside: string;
  /** The content of every code span. */
  spans: string[];
};

/** Parses `text` as CommonMark and expects no link, no HTML and no heading in it. */
export function expectNoLiveMarkdown(text: string): ParsedMarkdown {
  const tokens = md.parse(text, {}) as MarkdownToken[];
  const inlines = tokens.flatMap((token) => token.children ?? []);
  expect(inlines.filter((token) => token.type === 'link_open')).toEqual([]);
  expect(inlines.filter((token) => token.type.startsWith('html'))).toEqual([]);
  expect(tokens.filter((token) => token.type === 'heading_open')).toEqual([]);
  const outside = inlines
    .filter((token) => token.type === 'text')
    .map((token) => token.content)
    .join('');
  const spans = inlines.filter((token) => token.type === 'code_inline').map((token) => token.content);
  return { tokens, inlines, outside, spans };
}
