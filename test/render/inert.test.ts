/**
 * src/core/text/inert.ts and its JavaScript copy in the web page (src/http/ui/dom.js): what an
 * agent writes is shown, never obeyed and never hidden.
 */
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { inert, inertJson, inertJsonText, inertLines } from '../../src/core/text/inert.js';
import { codeSpan, escapeMarkdown, quoteMarkdown } from '../../src/core/text/markdown.js';
// The page's module touches `document` only when building nodes: its pure helpers run here too.
import * as page from '../../src/http/ui/dom.js';

/** Anything a terminal could act on or a reader could not see (the rules of inert.ts, spelled out again). */
const hidden =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2800]/u;

/** The inverse of `inert`: if it exists, `inert` never maps two strings to one display. */
function decode(text: string): string {
  return text.replace(
    /\\(?:u\{([0-9a-f]+)\}|u([0-9a-f]{4})|x([0-9a-f]{2})|([\\nrt]))/g,
    (_, astral, bmp, byte, named) => {
      if (named) return ({ '\\': '\\', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[named] as string;
      return String.fromCodePoint(Number.parseInt(astral ?? bmp ?? byte, 16));
    },
  );
}

/** Strings an attacker would send: every class of character inert.ts names, mixed with text. */
const hostile = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.constantFrom(
        '\u001b[3A',
        '\r',
        '\n',
        '\t',
        '\u0000',
        '\u007f',
        '\u009b2K',
        '\u202e',
        '\u2066',
        '\u200b',
        '\u200f',
        '\u061c',
        '\u00ad',
        '\u180e',
        '\ufeff',
        '\ufe0f',
        '\u{e0041}',
        '\u{e0100}',
        '\u00a0',
        '\u3000',
        '\u2028',
        '\ud800',
        '\\',
        '\\u202e',
        '`',
        '``',
        '@everyone',
        '<@123>',
        '[x](https://evil.example)',
        '# Tier: PROTECTED',
        '**',
        '_',
      ),
      fc.string({ unit: 'binary' }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

describe('inert', () => {
  it('shows terminal controls, bidi and invisible characters as escapes', () => {
    expect(inert('\u001b[3A\r\u001b[2KTier: PROTECTED\u001b[8m')).toBe('\\x1b[3A\\r\\x1b[2KTier: PROTECTED\\x1b[8m');
    expect(inert('a\nb\tc')).toBe('a\\nb\\tc');
    expect(inert('\u009b31m')).toBe('\\x9b31m');
    expect(inert('\u007f')).toBe('\\x7f');
    expect(inert('abc\u202edcba')).toBe('abc\\u202edcba');
    expect(inert('\u2066x\u2069\u200e\u200f\u061c')).toBe('\\u2066x\\u2069\\u200e\\u200f\\u061c');
    expect(inert('a\u200bb\u200c\u200d\u2060\u2064\ufeff\u180e\u00ad')).toBe(
      'a\\u200bb\\u200c\\u200d\\u2060\\u2064\\ufeff\\u180e\\xad',
    );
    expect(inert('tag\u{e0041}\u{e007f}')).toBe('tag\\u{e0041}\\u{e007f}');
    expect(inert('❤\ufe0f')).toBe('❤\\ufe0f');
    expect(inert('a\u00a0b\u3000c\u2028d')).toBe('a\\xa0b\\u3000c\\u2028d');
    expect(inert('lone \ud800 surrogate')).toBe('lone \\ud800 surrogate');
    expect(inert('plain text, ünïcödé, 日本語, emoji 🙂')).toBe('plain text, ünïcödé, 日本語, emoji 🙂');
  });

  it('doubles a literal backslash, so an agent cannot type something that reads like an escape', () => {
    expect(inert('\\u202e')).toBe('\\\\u202e');
    expect(inert('\\u202e')).not.toBe(inert('\u202e'));
    expect(inert('C:\\dir')).toBe('C:\\\\dir');
  });

  it('leaves nothing hidden and is injective, for any string (property)', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const shown = inert(text);
        expect(shown).not.toMatch(hidden);
        expect(decode(shown)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('free text keeps its line breaks, each continuation behind a prefix that no card line has', () => {
    expect(inertLines('first\nTier: PROTECTED\r\n\u001b[2K', '  | ')).toBe(
      'first\n  | Tier: PROTECTED\\r\n  | \\x1b[2K',
    );
    fc.assert(
      fc.property(hostile, (text) => {
        const lines = inertLines(text, '  | ').split('\n');
        for (const line of lines.slice(1)) expect(line.startsWith('  | ')).toBe(true);
        for (const line of lines) expect(line).not.toMatch(hidden);
      }),
    );
  });

  it('JSON stays the same value, without a raw invisible character (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), hostile, (value, text) => {
        const data = { value, text, [text]: text };
        const json = inertJson(data);
        expect(json).not.toMatch(hidden);
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(data)));
        const pretty = inertJson(data, 2);
        expect(pretty.replace(/\n/g, '')).not.toMatch(hidden);
        expect(JSON.parse(pretty)).toEqual(JSON.parse(JSON.stringify(data)));
      }),
      { numRuns: 500 },
    );
  });

  it('the web page applies the very same rules (property)', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        expect(page.inertText(text)).toBe(inert(text));
        const json = JSON.stringify({ [text]: text });
        expect(page.inertJsonText(json)).toBe(inertJsonText(json));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('markdown for chat cards (checked with a CommonMark parser)', () => {
  const md = new MarkdownIt('commonmark');
  type Token = { type: string; content: string; children: Token[] | null };
  const inline = (source: string): Token[] => {
    const tokens = md.parseInline(source, {}) as Token[];
    return tokens[0]?.children ?? [];
  };

  it('escaped text is one run of literal text: no link, emphasis, code, HTML or mention', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const children = inline(escapeMarkdown(text));
        const kinds = new Set(children.map((token) => token.type));
        for (const kind of kinds) expect(['text']).toContain(kind);
        expect(children.map((token) => token.content).join('')).toBe(inert(text));
      }),
      { numRuns: 1000 },
    );
    const children = inline(escapeMarkdown('[click](https://evil.example) <@123> @everyone **bold** `x`'));
    expect(children.map((token) => token.type)).toEqual(['text']);
  });

  it('a code span holds exactly the inert text, whatever backticks it contains', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        fc.pre(inert(text) !== '');
        const children = inline(codeSpan(text));
        expect(children.map((token) => token.type)).toEqual(['code_inline']);
        expect(children[0]?.content).toBe(inert(text));
      }),
      { numRuns: 1000 },
    );
    expect(codeSpan('a`b')).toBe('``a`b``');
    expect(codeSpan('`x`')).toBe('`` `x` ``');
  });

  it('a quoted reason stays inside its quote and cannot start a heading, list or link', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const source = `${quoteMarkdown(text)}\n\n**Next heading**\n`;
        const blocks = md.parse(source, {}) as Token[];
        // One quote, then the heading's paragraph: nothing of the reason leaks out.
        const top = blocks.filter((token) => !token.type.endsWith('_close') && !token.type.startsWith('inline'));
        expect(top[0]?.type).toBe('blockquote_open');
        const afterQuote = blocks.slice(blocks.findIndex((token) => token.type === 'blockquote_close') + 1);
        expect(afterQuote.map((token) => token.type)).toEqual(['paragraph_open', 'inline', 'paragraph_close']);
        expect(afterQuote[1]?.content).toBe('**Next heading**');
        const inside = blocks.slice(
          0,
          blocks.findIndex((token) => token.type === 'blockquote_close'),
        );
        for (const token of inside) {
          expect(['blockquote_open', 'paragraph_open', 'paragraph_close', 'inline', 'code_block']).toContain(
            token.type,
          );
          for (const child of token.children ?? []) expect(['text', 'softbreak']).toContain(child.type);
        }
      }),
      { numRuns: 500 },
    );
  });
});
