/**
 * A path is a list of segments, never a dotted string, so keys containing dots, slashes or
 * spaces stay intact. An element of an id-keyed array is one segment carrying the array's key
 * and the element's id; `index` is used only when looking inside arrays that are not id-keyed.
 */
export type Segment = { key: string; id?: string; index?: number };
export type Path = readonly Segment[];

const plainKey = /^[A-Za-z0-9_$-]+$/;

function formatKey(key: string): string {
  return plainKey.test(key) ? key : JSON.stringify(key);
}

export function formatSegment(segment: Segment): string {
  const key = segment.key === '' ? '' : formatKey(segment.key);
  if (segment.id !== undefined) return `${key}[id=${segment.id}]`;
  if (segment.index !== undefined) return `${key}[${segment.index}]`;
  return key;
}

/** `agents.list[id=main].model`; keys that are not plain identifiers are JSON-quoted. */
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

/**
 * Reads the dotted form `formatPath` writes: `agents.list[id=main].model`, `a["key.with.dots"]`,
 * `list[0]`. Used for CLI arguments and `replacePaths`, never for matching.
 */
export function parsePath(text: string): Segment[] {
  const segments: Segment[] = [];
  let position = 0;
  const readKey = (): string => {
    if (text[position] === '"') {
      let end = position + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const key = JSON.parse(text.slice(position, end + 1)) as string;
      position = end + 1;
      return key;
    }
    const start = position;
    while (position < text.length && text[position] !== '.' && text[position] !== '[') position++;
    return text.slice(start, position);
  };
  while (position < text.length) {
    const key = readKey();
    const segment: Segment = { key };
    if (text[position] === '[') {
      const end = text.indexOf(']', position);
      if (end < 0) throw new Error(`unclosed "[" in ${text}`);
      const inside = text.slice(position + 1, end);
      if (inside.startsWith('id=')) segment.id = inside.slice(3);
      else if (/^\d+$/.test(inside)) segment.index = Number(inside);
      else throw new Error(`"[${inside}]" in ${text} is neither [id=…] nor an index`);
      position = end + 1;
    }
    if (key === '' && segment.id === undefined && segment.index === undefined)
      throw new Error(`empty segment in ${text}`);
    segments.push(segment);
    if (position < text.length) {
      if (text[position] !== '.') throw new Error(`unexpected "${text[position]}" in ${text}`);
      position++;
      if (position === text.length) throw new Error(`${text} ends with "."`);
    }
  }
  return segments;
}
