/**
 * A path is a list of segments, never a dotted string, so keys containing dots, slashes or
 * spaces stay intact. An element of an id-keyed array is one segment carrying the array's key
 * and the element's id; `index` is used only when looking inside arrays that are not id-keyed.
 */
export type Segment = { key: string; id?: string; index?: number };
export type Path = readonly Segment[];

const plainKey = /^[A-Za-z0-9_$-]+$/;
/** An id is written bare unless it could be misread: a `]`, `[`, quote, backslash, space or control character. */
const plainId = /^[^[\]"\\\s\p{Cc}]+$/u;

function formatKey(key: string): string {
  return plainKey.test(key) ? key : JSON.stringify(key);
}

export function formatSegment(segment: Segment): string {
  const selected = segment.id !== undefined || segment.index !== undefined;
  // An element of an element (`[id=a].[id=b]`) has no key of its own; any other empty key is `""`.
  const key = selected && segment.key === '' ? '' : formatKey(segment.key);
  if (segment.id !== undefined)
    return `${key}[id=${plainId.test(segment.id) ? segment.id : JSON.stringify(segment.id)}]`;
  if (segment.index !== undefined) return `${key}[${segment.index}]`;
  return key;
}

/** `agents.list[id=main].model`; keys that are not plain identifiers are JSON-quoted: `a."b.c"`. */
export function formatPath(path: Path): string {
  return path.map(formatSegment).join('.');
}

export function child(path: Path, key: string): Path {
  return [...path, { key }];
}

/** The segment for an element of the array found at `path`'s last segment. */
export function element(path: Path, selector: { id: string } | { index: number }): Path {
  const last = path[path.length - 1];
  if (last === undefined || last.id !== undefined || last.index !== undefined) {
    return [...path, { key: '', ...selector }];
  }
  return [...path.slice(0, -1), { key: last.key, ...selector }];
}

// ---------------------------------------------------------------------------------------------
// Reading the dotted form

/** `[]`, `[id=x]` or `[3]` after a key. */
export type Selector = { kind: 'any' } | { kind: 'id'; id: string } | { kind: 'index'; index: number };

/** One segment as written. A quoted key is always literal; what a bare key means is the reader's business (patterns glob it). */
export type WrittenSegment = { key: string; quoted: boolean; selector: Selector | null };

/**
 * Splits the dotted form shared by paths and policy patterns into segments:
 * - a bare key runs up to the next `.`, `[`, `]` or `"`;
 * - a JSON-quoted key (`"team.ops[west]"`) may hold anything, escaped as in JSON;
 * - `["key"]` after a segment is the next segment, as OpenClaw's `config get` writes it:
 *   `accounts["team.ops[west]"].token` is `accounts."team.ops[west]".token`;
 * - `[]`, `[id=x]` (or `[id="x"]`) and `[3]` select elements of the array named before them.
 */
export function readSegments(text: string): WrittenSegment[] {
  const segments: WrittenSegment[] = [];
  let at = 0;
  const problem = (what: string): never => {
    throw new Error(`${JSON.stringify(text)}: ${what} at character ${at + 1}`);
  };
  const quoted = (): string => {
    const start = at;
    let end = at + 1;
    while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
    if (end >= text.length) problem('a quoted key is not closed (a " inside it is written \\")');
    at = end + 1;
    try {
      return JSON.parse(text.slice(start, at)) as string;
    } catch {
      at = start;
      return problem('a quoted key is not a valid JSON string');
    }
  };
  const upTo = (stops: string): string => {
    const start = at;
    while (at < text.length && !stops.includes(text[at] as string)) at++;
    return text.slice(start, at);
  };
  const selector = (): Selector => {
    at++; // "["
    let found: Selector;
    if (text[at] === ']') found = { kind: 'any' };
    else if (text.startsWith('id=', at)) {
      at += 3;
      found = { kind: 'id', id: text[at] === '"' ? quoted() : upTo(']') };
      if (found.id === '' && text[at - 1] !== '"') problem('an empty id is written [id=""]');
    } else if (/\d/.test(text[at] ?? '')) found = { kind: 'index', index: Number(upTo(']')) };
    else return problem('brackets hold [], [id=<id>], [<index>] or ["<key>"]');
    if (text[at] !== ']') problem(at >= text.length ? 'a "[" is not closed' : 'expected "]"');
    if (found.kind === 'index' && !Number.isSafeInteger(found.index)) problem('an index must be a whole number');
    at++;
    return found;
  };
  for (;;) {
    let segment: WrittenSegment;
    if (text.startsWith('["', at)) {
      at++;
      segment = { key: quoted(), quoted: true, selector: null };
      if (text[at] !== ']') problem('a ["<key>"] is not closed with "]"');
      at++;
    } else if (text[at] === '"') {
      segment = { key: quoted(), quoted: true, selector: null };
    } else {
      segment = { key: upTo('.[]"'), quoted: false, selector: null };
      if (text[at] === '"') problem('a quote may only start a segment; quote the whole key');
    }
    if (text[at] === '[' && text[at + 1] !== '"') segment.selector = selector();
    if (!segment.quoted && segment.key === '' && segment.selector === null) problem('empty segment');
    segments.push(segment);
    if (at === text.length) return segments;
    if (text.startsWith('["', at)) continue;
    if (text[at] !== '.') problem(`unexpected ${JSON.stringify(text[at])}`);
    at++;
  }
}

/**
 * Reads the dotted form `formatPath` writes (`agents.list[id=main].model`, `a."key.with.dots"`,
 * `a["key.with.dots"]`, `list[0]`). Used for CLI arguments and `replacePaths`, never for matching.
 */
export function parsePath(text: string): Segment[] {
  if (text === '') return []; // the document itself, as `formatPath([])` writes it
  return readSegments(text).map(({ key, selector }) => {
    if (selector === null) return { key };
    if (selector.kind === 'id') return { key, id: selector.id };
    if (selector.kind === 'index') return { key, index: selector.index };
    throw new Error(
      `${JSON.stringify(text)}: "${key}[]" names every element; a path names one ([id=<id>] or [<index>])`,
    );
  });
}
