import { type Path, readSegments, type Segment } from './path.js';

/**
 * The pattern language of SPEC §3, compiled once. `**` is zero or more segments, `*` one
 * segment of any kind, `name[]` any element of array `name`, `name[id=x]` one element, `*`
 * inside a key a glob within that key, and a JSON-quoted key (`"a.b*"`) exactly that key.
 */
type KeyTest = (key: string) => boolean;
type SegmentTest =
  | { kind: 'globstar' }
  | { kind: 'any' }
  | { kind: 'key'; key: KeyTest; literal: string | null }
  | { kind: 'element'; key: KeyTest; literal: string | null; id: string | null };

export type Pattern = { source: string; segments: readonly SegmentTest[] };

function keyTest(text: string): KeyTest {
  const star = text.indexOf('*');
  if (star < 0) return (key) => key === text;
  if (star === text.length - 1 && !text.slice(0, star).includes('*')) {
    const prefix = text.slice(0, star);
    return (key) => key.startsWith(prefix);
  }
  if (star === 0 && !text.slice(1).includes('*')) {
    const suffix = text.slice(1);
    return (key) => key.endsWith(suffix);
  }
  const escaped = text.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  const regex = new RegExp(`^${escaped.join('.*')}$`, 's');
  return (key) => regex.test(key);
}

/**
 * Compiles a `match`/`redact` pattern. Segments are read as paths are (`readSegments`): a
 * JSON-quoted key (`"team.ops[west]"`, or `["team.ops[west]"]` after a segment) is always
 * literal, so keys holding dots, brackets, quotes or stars can be named; `*`, `**` and globs
 * only mean something in bare keys.
 */
export function compilePattern(source: string): Pattern {
  if (source.trim() === '') throw new Error('a pattern must not be empty');
  const segments = readSegments(source).map(({ key, quoted, selector }): SegmentTest => {
    if (!quoted && selector === null && key === '**') return { kind: 'globstar' };
    if (!quoted && selector === null && key === '*') return { kind: 'any' };
    const glob = !quoted && key.includes('*');
    const test: KeyTest = glob ? keyTest(key) : (candidate) => candidate === key;
    const literal = glob ? null : key;
    if (selector === null) return { kind: 'key', key: test, literal };
    if (selector.kind === 'index') {
      throw new Error(
        `${JSON.stringify(source)}: "${key}[${selector.index}]" names a position, which moves when the list is reordered; use "${key}[]" or "${key}[id=<id>]"`,
      );
    }
    return { kind: 'element', key: test, literal, id: selector.kind === 'id' ? selector.id : null };
  });
  return { source, segments };
}

function segmentMatches(test: SegmentTest, segment: Segment): boolean {
  switch (test.kind) {
    case 'any':
      return true;
    case 'key':
      return segment.id === undefined && segment.index === undefined && test.key(segment.key);
    case 'element':
      if (segment.id === undefined && segment.index === undefined) return false;
      if (!test.key(segment.key)) return false;
      return test.id === null || segment.id === test.id;
    case 'globstar':
      return false;
  }
}

/**
 * Does `pattern` match `path`? Patterns with at most one `**` (nearly all of them) are a fixed
 * prefix and a fixed suffix, checked in place; the rest go through the set-of-positions matcher.
 */
export function matchesPattern(pattern: Pattern, path: Path): boolean {
  const tests = pattern.segments;
  let globstar = -1;
  for (let index = 0; index < tests.length; index++) {
    if ((tests[index] as SegmentTest).kind !== 'globstar') continue;
    if (globstar >= 0) return matchesWithGlobstars(tests, path);
    globstar = index;
  }
  if (globstar < 0) {
    if (path.length !== tests.length) return false;
    for (let index = 0; index < tests.length; index++) {
      if (!segmentMatches(tests[index] as SegmentTest, path[index] as Segment)) return false;
    }
    return true;
  }
  // `prefix.**.suffix`: the `**` takes whatever lies between a fixed-length prefix and suffix.
  const suffix = tests.length - globstar - 1;
  if (path.length < globstar + suffix) return false;
  for (let index = 0; index < globstar; index++) {
    if (!segmentMatches(tests[index] as SegmentTest, path[index] as Segment)) return false;
  }
  const offset = path.length - suffix;
  for (let index = 0; index < suffix; index++) {
    if (!segmentMatches(tests[globstar + 1 + index] as SegmentTest, path[offset + index] as Segment)) return false;
  }
  return true;
}

/**
 * Patterns with several `**`: the set of live pattern positions advanced one path segment at a
 * time (linear in the path, never backtracking). Up to 31 positions the set is a bit mask.
 */
function matchesWithGlobstars(tests: readonly SegmentTest[], path: Path): boolean {
  if (tests.length > 30) return matchesWithPositionSet(tests, path);
  let states = closureMask(tests, 1);
  for (const segment of path) {
    let next = 0;
    for (let state = 0; state < tests.length; state++) {
      if ((states & (1 << state)) === 0) continue;
      const test = tests[state] as SegmentTest;
      if (test.kind === 'globstar') next |= 1 << state;
      else if (segmentMatches(test, segment)) next |= 1 << (state + 1);
    }
    if (next === 0) return false;
    states = closureMask(tests, next);
  }
  return (states & (1 << tests.length)) !== 0;
}

/** A `**` may match nothing, so a state on it also stands on the state after it. */
function closureMask(tests: readonly SegmentTest[], states: number): number {
  let closed = states;
  for (let state = 0; state < tests.length; state++) {
    if ((closed & (1 << state)) !== 0 && (tests[state] as SegmentTest).kind === 'globstar') closed |= 1 << (state + 1);
  }
  return closed;
}

function matchesWithPositionSet(tests: readonly SegmentTest[], path: Path): boolean {
  let states = closure(tests, new Set([0]));
  for (const segment of path) {
    const next = new Set<number>();
    for (const state of states) {
      const test = tests[state];
      if (test === undefined) continue;
      if (test.kind === 'globstar') next.add(state);
      else if (segmentMatches(test, segment)) next.add(state + 1);
    }
    if (next.size === 0) return false;
    states = closure(tests, next);
  }
  return states.has(tests.length);
}

function closure(tests: readonly SegmentTest[], states: Set<number>): Set<number> {
  for (const state of states) {
    let position = state;
    while (tests[position]?.kind === 'globstar') {
      position += 1;
      states.add(position);
    }
  }
  return states;
}

/** Many patterns compiled together, so that a path is only tested against those that could match it. */
export type PatternSet = {
  /** The indices, ascending, of the patterns that match `path`. */
  matching(path: Path): number[];
  /** Whether any pattern matches `path`. */
  some(path: Path): boolean;
};

/**
 * A node of the prefix tree: the patterns whose fixed prefix ends here, indexed where their
 * remainder allows it, and the edges onward.
 */
type TrieNode = {
  /** Candidates for every path that reaches this node. */
  here: number[];
  /** Remainder `**.<tail>`: by the tail's last literal key, per distance of that key from the path's end. */
  tails: Array<{ distance: number; byKey: Map<string, number[]> }>;
  keys: Map<string, TrieNode> | null;
  elements: Map<string, TrieNode> | null;
  any: TrieNode | null;
};

function newNode(): TrieNode {
  return { here: [], tails: [], keys: null, elements: null, any: null };
}

/** The node one segment test further, created if needed; null when the test is no edge (`**`, a glob). */
function edge(node: TrieNode, test: SegmentTest): TrieNode | null {
  if (test.kind === 'any') {
    node.any ??= newNode();
    return node.any;
  }
  if ((test.kind !== 'key' && test.kind !== 'element') || test.literal === null) return null;
  if (test.kind === 'key') node.keys ??= new Map();
  else node.elements ??= new Map();
  const map = (test.kind === 'key' ? node.keys : node.elements) as Map<string, TrieNode>;
  let next = map.get(test.literal);
  if (!next) {
    next = newNode();
    map.set(test.literal, next);
  }
  return next;
}

/** Adds `index` to the bucket of `key` in `map`. */
function addTo(map: Map<string, number[]>, key: string, index: number): void {
  const bucket = map.get(key);
  if (bucket) bucket.push(index);
  else map.set(key, [index]);
}

function literalKey(test: SegmentTest): string | null {
  return test.kind === 'key' ? test.literal : null;
}

/**
 * Indexes patterns so that each path meets only its candidates, then tests those exactly with
 * `matchesPattern`. Each pattern is in exactly one place, so the answer equals testing every
 * pattern in turn:
 * - a pattern's leading literal keys, `name[]`/`name[id=x]` elements and `*`s are edges of a
 *   prefix tree, and only a path that walks to the node where they end can match it;
 * - there, a remainder `**.<tail>` with no other `**` can only match a path whose segment at a
 *   fixed distance from the end is the tail's last literal key (`**.headers.*`: "headers",
 *   second from the end), so it sits in a map by that key, one per distance;
 * - a pattern with no fixed prefix but a literal key somewhere (`**.a.b.**`) can only match a
 *   path that has that key as a segment: it sits in a map by that key;
 * - what is left (`**.dangerously*`, `gateway.**`) is a candidate for every path reaching its node.
 */
export function compilePatternSet(patterns: readonly Pattern[]): PatternSet {
  const root = newNode();
  const byKey = new Map<string, number[]>();
  patterns.forEach((pattern, index) => {
    const tests = pattern.segments;
    let node = root;
    let depth = 0;
    while (depth < tests.length) {
      const next = edge(node, tests[depth] as SegmentTest);
      if (next === null) break;
      node = next;
      depth += 1;
    }
    const rest = tests.slice(depth);
    if (rest[0]?.kind === 'globstar' && !rest.slice(1).some((test) => test.kind === 'globstar')) {
      for (let distance = 1; distance < rest.length; distance++) {
        const literal = literalKey(rest[rest.length - distance] as SegmentTest);
        if (literal === null) continue;
        let tail = node.tails.find((known) => known.distance === distance);
        if (!tail) {
          tail = { distance, byKey: new Map() };
          node.tails.push(tail);
        }
        addTo(tail.byKey, literal, index);
        return;
      }
    }
    const literal = depth === 0 ? rest.map(literalKey).find((key) => key !== null) : undefined;
    if (literal != null) addTo(byKey, literal, index);
    else node.here.push(index);
  });
  return new IndexedPatternSet(patterns, root, byKey);
}

class IndexedPatternSet implements PatternSet {
  private frontier: TrieNode[] = [];
  private next: TrieNode[] = [];

  constructor(
    private readonly patterns: readonly Pattern[],
    private readonly root: TrieNode,
    private readonly byKey: Map<string, number[]>,
  ) {}

  matching(path: Path): number[] {
    const found: number[] = [];
    this.scan(path, found, false);
    // Buckets are visited out of pattern order; the lists are short, so insertion sort.
    for (let position = 1; position < found.length; position++) {
      const index = found[position] as number;
      let at = position;
      while (at > 0 && (found[at - 1] as number) > index) {
        found[at] = found[at - 1] as number;
        at -= 1;
      }
      found[at] = index;
    }
    return found;
  }

  some(path: Path): boolean {
    const found: number[] = [];
    this.scan(path, found, true);
    return found.length > 0;
  }

  /** Pushes onto `found` the indices in `bucket` that match; with `first`, stops at one. */
  private test(bucket: readonly number[], path: Path, found: number[], first: boolean): boolean {
    for (let position = 0; position < bucket.length; position++) {
      const index = bucket[position] as number;
      if (matchesPattern(this.patterns[index] as Pattern, path)) {
        found.push(index);
        if (first) return true;
      }
    }
    return false;
  }

  /** Tests the candidates a node holds for `path`. */
  private visit(node: TrieNode, path: Path, found: number[], first: boolean): boolean {
    if (node.here.length > 0 && this.test(node.here, path, found, first)) return true;
    for (let position = 0; position < node.tails.length; position++) {
      const tail = node.tails[position] as { distance: number; byKey: Map<string, number[]> };
      const segment = path[path.length - tail.distance];
      if (segment === undefined || segment.id !== undefined || segment.index !== undefined) continue;
      const bucket = tail.byKey.get(segment.key);
      if (bucket !== undefined && this.test(bucket, path, found, first)) return true;
    }
    return false;
  }

  /** Tests the candidates for `path` (stopping at the first match when `first`); `found` is unsorted across buckets. */
  private scan(path: Path, found: number[], first: boolean): void {
    const root = this.root;
    if (this.visit(root, path, found, first)) return;
    let frontier = this.frontier;
    let next = this.next;
    let count = 1;
    frontier[0] = root;
    for (let depth = 0; depth < path.length && count > 0; depth++) {
      const segment = path[depth] as Segment;
      const plain = segment.id === undefined && segment.index === undefined;
      let nextCount = 0;
      for (let position = 0; position < count; position++) {
        const node = frontier[position] as TrieNode;
        const map = plain ? node.keys : node.elements;
        const named = map === null ? undefined : map.get(segment.key);
        if (named !== undefined) {
          next[nextCount++] = named;
          if (this.visit(named, path, found, first)) return;
        }
        if (node.any !== null) {
          next[nextCount++] = node.any;
          if (this.visit(node.any, path, found, first)) return;
        }
      }
      const swap = frontier;
      frontier = next;
      next = swap;
      count = nextCount;
    }
    if (this.byKey.size > 0) {
      for (let depth = 0; depth < path.length; depth++) {
        const segment = path[depth] as Segment;
        if (segment.id !== undefined || segment.index !== undefined) continue;
        const bucket = this.byKey.get(segment.key);
        if (bucket === undefined || repeatsKey(path, depth)) continue;
        if (this.test(bucket, path, found, first)) return;
      }
    }
  }
}

/** Whether the plain key at `depth` already appeared as a plain key earlier in the path. */
function repeatsKey(path: Path, depth: number): boolean {
  const key = (path[depth] as Segment).key;
  for (let earlier = 0; earlier < depth; earlier++) {
    const segment = path[earlier] as Segment;
    if (segment.key === key && segment.id === undefined && segment.index === undefined) return true;
  }
  return false;
}

const sets = new WeakMap<readonly Pattern[], { set: PatternSet; length: number }>();

/** The compiled set for a list of patterns, built once per list (policies keep theirs for their lifetime). */
export function patternSetOf(patterns: readonly Pattern[]): PatternSet {
  const known = sets.get(patterns);
  if (known && known.length === patterns.length) return known.set;
  const set = compilePatternSet(patterns);
  sets.set(patterns, { set, length: patterns.length });
  return set;
}
