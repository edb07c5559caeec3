/**
 * Issue 10 item 8: the chat card cut values at 117 characters, so appending tg:6666666666 to a
 * 9-entry allowFrom rendered the same before and after. Whatever is cut, two different values
 * never read the same, on the chat card, the terminal card or the web page.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Card, Change } from '../../src/core/card.js';
import { canonical } from '../../src/core/hash.js';
import type { Json } from '../../src/core/json.js';
import { changeValuesMarkdown, renderMarkdown, renderText } from '../../src/core/render.js';
import { type Excerpt, excerpts, listDelta, valueView } from '../../src/core/text/value-diff.js';
import * as page from '../../src/http/ui/dom.js';
import { cardFixture } from '../support/cards.js';

const chat = { max: 120, context: 16, maxMiddle: 80 };

function read(excerpt: Excerpt | null): string {
  if (excerpt === null) return '(absent)';
  return `[${excerpt.skippedStart}]${excerpt.text}[${excerpt.skippedEnd}]`;
}

/** Text that is sometimes long, sometimes full of escapes, sometimes both. */
const piece = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('\u202e', '\u200b', '\\', '\u001b[2K', '"', '`', '\u{e0041}', 'tg:6666666666'),
  fc.string({ maxLength: 3 }).map((s) => s.repeat(60)),
);
const text = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(''));

/** A text and a small edit of it: the case truncation used to hide. */
const nearTexts = fc
  .tuple(text, fc.nat(), fc.nat({ max: 3 }), piece)
  .map(([base, at, removeCount, insert]): [string, string] => {
    const chars = Array.from(base);
    const where = chars.length === 0 ? 0 : at % (chars.length + 1);
    const edited = [...chars.slice(0, where), ...Array.from(insert), ...chars.slice(where + removeCount)].join('');
    return [base, edited];
  });

/** Two JSON values that are often close: near strings, lists one item apart, arbitrary values. */
const valuePair: fc.Arbitrary<[Json, Json]> = fc.oneof(
  fc.tuple(fc.jsonValue() as fc.Arbitrary<Json>, fc.jsonValue() as fc.Arbitrary<Json>),
  nearTexts,
  fc.tuple(fc.array(text, { maxLength: 12 }), fc.nat(), text).map(([list, at, extra]): [Json, Json] => {
    const edited = [...list];
    edited.splice(list.length === 0 ? 0 : at % (list.length + 1), at % 2, extra);
    return [list, edited];
  }),
  fc.tuple(fc.array(text, { minLength: 2, maxLength: 6 })).map(([list]): [Json, Json] => [list, [...list].reverse()]),
  fc.tuple(nearTexts, fc.string({ maxLength: 5 })).map(([[a, b], key]): [Json, Json] => [{ [key]: a }, { [key]: b }]),
);
const distinct = valuePair.filter(([a, b]) => canonical(a) !== canonical(b));

function card(change: Partial<Change>): Card {
  return cardFixture({
    changes: [
      {
        path: 'channels.telegram.allowFrom',
        op: 'replace',
        tier: 'protected',
        ruleId: null,
        explain: '',
        restart: false,
        ...change,
      },
    ],
  });
}

describe('values around their difference', () => {
  it('the issue: a tenth allowFrom entry shows as added, not as two identical cut-off lists', () => {
    const before = Array.from({ length: 9 }, (_, i) => `tg:${String(i + 1).repeat(10)}`);
    const after = [...before, 'tg:6666666666'];
    const markdown = changeValuesMarkdown({ before, after });
    expect(markdown).toContain('list of 9 → 10 items');
    expect(markdown).toContain('added `"tg:6666666666"`');
    expect(renderMarkdown(card({ before, after }))).toContain('added `"tg:6666666666"`');
    expect(renderText(card({ before, after }))).toContain('+ item: "tg:6666666666"');
    expect(listDelta(before, after)).toEqual({
      added: ['tg:6666666666'],
      removed: [],
      reordered: false,
      appended: true,
    });
  });

  it('a long string changed at its end shows the end, with how much is hidden', () => {
    const before = `https://hooks.example/${'a'.repeat(300)}`;
    const after = `${before}/../../attacker`;
    const view = valueView(before, after, chat);
    expect(view.kind).toBe('values');
    if (view.kind !== 'values') return;
    expect(view.before?.skippedStart).toBeGreaterThan(250);
    expect(view.after?.text).toContain('/../../attacker');
    expect(view.after?.middle).toBe('/../../attacker');
    expect(changeValuesMarkdown({ before, after })).toMatch(
      /\*\(\d+ chars\)\* `a+"` → \*\(\d+ chars\)\* `a+\/\.\.\/\.\.\/attacker"`/,
    );
  });

  it('never cuts inside an escape', () => {
    const before = `${'x'.repeat(200)}\u202e${'y'.repeat(200)}`;
    const after = `${'x'.repeat(200)}\u202f${'y'.repeat(200)}`;
    const view = valueView(before, after, chat);
    if (view.kind !== 'values') throw new Error('expected values');
    expect(view.before?.middle.startsWith('\\u202e')).toBe(true);
    expect(view.after?.middle.startsWith('\\u202f')).toBe(true);
  });

  it('for any two distinct texts the excerpts differ, and are true parts of each text (property)', () => {
    fc.assert(
      fc.property(nearTexts, fc.integer({ min: 20, max: 200 }), ([a, b], max) => {
        fc.pre(a !== b);
        const pair = excerpts(a, b, { max, context: 16, maxMiddle: 40 });
        expect(read(pair.before)).not.toBe(read(pair.after));
        expect(pair.before.text).not.toBe(pair.after.text);
        for (const [whole, part] of [
          [a, pair.before],
          [b, pair.after],
        ] as const) {
          const chars = Array.from(whole);
          expect(part.lead + part.middle + part.trail).toBe(part.text);
          expect(chars.slice(part.skippedStart, chars.length - part.skippedEnd).join('')).toBe(part.text);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('for any two distinct JSON values the chat card reads differently before and after (property)', () => {
    fc.assert(
      fc.property(distinct, ([before, after]) => {
        const view = valueView(before, after, chat);
        if (view.kind === 'list') expect(view.added.length + view.removed.length).toBeGreaterThan(0);
        else expect(read(view.before)).not.toBe(read(view.after));
        if (view.kind === 'values' && view.before && view.after) {
          expect(view.before.text).not.toBe(view.after.text);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('an item inserted anywhere but the end is not shown as a bare "added": the lists read apart', () => {
    // Found by the property below: ["", " "] and [" ", ""] both read "added \" \"".
    expect(listDelta([''], [' ', '']).appended).toBe(false);
    expect(changeValuesMarkdown({ before: [''], after: ['', ' '] })).not.toBe(
      changeValuesMarkdown({ before: [''], after: [' ', ''] }),
    );
  });

  it('two proposals with different values never render the same terminal card, nor chat card unless it says what it left out (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue() as fc.Arbitrary<Json>, distinct, (before, [x, y]) => {
        expect(renderText(card({ before, after: x }))).not.toBe(renderText(card({ before, after: y })));
        // A chat card is short by design: it may leave out list items or characters, but then it
        // says so ("and 3 more", "(+40 chars)") next to what it shows, and links the full card.
        const [mx, my] = [changeValuesMarkdown({ before, after: x }), changeValuesMarkdown({ before, after: y })];
        if (/ and \d+ more| chars\)\*/.test(`${mx}${my}`)) return;
        expect(mx).not.toBe(my);
        expect(renderMarkdown(card({ before, after: x }))).not.toBe(renderMarkdown(card({ before, after: y })));
      }),
      { numRuns: 1000 },
    );
  });

  it("the web page's copy: list deltas and excerpts that never read the same (property)", () => {
    fc.assert(
      fc.property(distinct, ([before, after]) => {
        if (Array.isArray(before) && Array.isArray(after)) {
          const ours = listDelta(before, after);
          const theirs = page.listDelta(before, after);
          expect(theirs.added).toEqual(ours.added);
          expect(theirs.removed).toEqual(ours.removed);
        }
        const pair = page.excerptPair(JSON.stringify(before), JSON.stringify(after), { max: 40, context: 8 });
        if (pair === null) return;
        const show = (side: typeof pair.before) =>
          `[${side.skippedStart}]${side.lead}|${side.middle}|${side.trail}[${side.skippedEnd}]`;
        expect(show(pair.before)).not.toBe(show(pair.after));
        expect(`${pair.before.lead}${pair.before.middle}${pair.before.trail}`).not.toBe(
          `${pair.after.lead}${pair.after.middle}${pair.after.trail}`,
        );
      }),
      { numRuns: 2000 },
    );
  });
});
