/**
 * Agent-supplied text made inert for display (SPEC §4: every agent-supplied string is shown inert
 * on every surface). The agent is assumed hostile: a `reason` such as
 * `\e[3A\r\e[2KTier: PROTECTED` would otherwise move the terminal's cursor and overwrite the card,
 * a U+202E would reverse what follows, and a zero-width space would make two different values
 * read the same. Pure: the CLI, the chat card, the webhook bodies and (in a JavaScript copy in
 * src/http/ui/dom.js, held to the same rules by test/render/inert.test.ts) the web page use it.
 *
 * What is escaped, and why:
 * - C0 controls (U+0000–U+001F, newline and tab included), DEL and C1 controls (U+0080–U+009F):
 *   they act on a terminal instead of being shown (cursor moves, erase, OSC 8 links, CSI via
 *   U+009B).
 * - Format characters (\p{Cf}: bidi embeddings, overrides, isolates and marks, zero-width
 *   space/joiners, word joiner and invisible operators, BOM, soft hyphen, U+061C, U+180E, tag
 *   characters U+E0000–U+E007F, …) and every other Default_Ignorable_Code_Point (variation
 *   selectors included, U+FE00–U+FE0F and U+E0100–U+E01EF, Hangul fillers, U+034F): they reorder
 *   text or render as nothing, so two different strings would look the same. An emoji's VS16
 *   shows as `\ufe0f` — a small price for "what you read is what is there".
 * - Line and paragraph separators (U+2028, U+2029) and lone surrogates.
 * - Space characters other than U+0020 (no-break space, en/em spaces, ideographic space, …) and
 *   U+2800 (braille blank): they look like a space or like nothing, and hide a difference.
 * - The backslash itself, so that an agent cannot type `\u202e` and have it read like one of ours.
 *
 * Not escaped: printable characters of any script. Homoglyphs (Cyrillic `а` for Latin `a`) and
 * combining sequences stay as they are: the escaped text is still a faithful, injective rendering
 * of the string, and comparisons that matter (hashes, policy) never go through display.
 *
 * Escape forms: `\\`, `\n`, `\r`, `\t`, `\xHH` (up to U+00FF), `\uHHHH` (BMP), `\u{HHHHH}` (above).
 * Every escape starts with a backslash and every literal backslash is doubled, so the mapping is
 * injective: two different strings never display the same.
 */

/** Characters that are never shown raw (see above), and the backslash. */
const unsafe =
  /[\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2800]/gu;

/** The same set minus what JSON text already escapes or may hold as structure (see `inertJsonText`). */
const unsafeInJson =
  /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2800]/gu;

const named: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

function escapeChar(char: string): string {
  const known = named[char];
  if (known) return known;
  const code = char.codePointAt(0) as number;
  if (code <= 0xff) return `\\x${hex(code, 2)}`;
  if (code <= 0xffff) return `\\u${hex(code, 4)}`;
  return `\\u{${code.toString(16)}}`;
}

/** JSON's own escape: `\uHHHH`, astral characters as a surrogate pair of escapes. */
function jsonEscape(char: string): string {
  let out = '';
  for (let i = 0; i < char.length; i++) out += `\\u${hex(char.charCodeAt(i), 4)}`;
  return out;
}

/**
 * One line of agent text, inert: every character listed above as a visible escape, newlines and
 * tabs included (a single-line field never breaks a line).
 */
export function inert(text: string): string {
  return String(text).replace(unsafe, escapeChar);
}

/**
 * Free text (a `reason`) that may span lines: each line is made inert, and every line after the
 * first starts with `continuation`, so the text can never begin a line of the card itself (no fake
 * "Tier:" line). A carriage return is not a line break: it shows as `\r`.
 */
export function inertLines(text: string, continuation: string): string {
  return String(text)
    .split('\n')
    .map((line) => inert(line))
    .join(`\n${continuation}`);
}

/**
 * JSON text (from `JSON.stringify` or `canonical`) made inert while staying valid JSON for the
 * same value: JSON already escapes C0 controls, quotes and backslashes inside strings, so what is
 * left (DEL, C1, format characters, odd spaces, separators) becomes `\uHHHH`. Raw newlines and
 * spaces in the text are structure (indentation), never string content, and stay.
 */
export function inertJsonText(json: string): string {
  return json.replace(unsafeInJson, jsonEscape);
}

/** `JSON.stringify`, inert: what a JSON body, a `--json` print or a displayed value should be. */
export function inertJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  return text === undefined ? '' : inertJsonText(text);
}
