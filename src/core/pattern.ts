import type { Path, Segment } from './path.js';

/**
 * The pattern language of SPEC §3, compiled once. `**` is zero or more segments, `*` one
 * segment of any kind, `name[]` any element of array `name`, `name[id=x]` one element, and
 * `*` inside a key a glob within that key.
 */
type KeyTest = (key: string) => boolean;
type SegmentTest =
  | { kind: 'globstar' }
  | { kind: 'any' }
  | { kind: 'key'; key: KeyTest; literal: string | null }
  | { kind: 'element'; key: KeyTest; id: string | null };

export type Pattern = { source: string; segments: readonly SegmentTest[] };

function keyTest(text: string): KeyTest {
  if (!text.includes('*')) return (key) => key === text;
  const escaped = text.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  const regex = new RegExp(`^${escaped.join('.*')}$`, 's');
  return (key) => regex.test(key);
}

const elementSyntax = /^(.*)\[(?:id=(.+))?\]$/s;

export function compilePattern(source: string): Pattern {
  if (source.trim() === '') throw new Error('a pattern must not be empty');
  const segments = source.split('.').map((text): SegmentTest => {
    if (text === '') throw new Error(`"${source}" has an empty segment`);
    if (text === '**') return { kind: 'globstar' };
    if (text === '*') return { kind: 'any' };
    const elementMatch = elementSyntax.exec(text);
    if (elementMatch) {
      const [, key = '', id] = elementMatch;
      return { kind: 'element', key: keyTest(key), id: id ?? null };
    }
    if (/[[\]]/.test(text)) throw new Error(`"${source}": brackets must be "name[]" or "name[id=x]"`);
    return { kind: 'key', key: keyTest(text), literal: text.includes('*') ? null : text };
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

/** Iterative matcher: a set of live pattern positions advanced one path segment at a time. */
function matchesWithGlobstars(tests: readonly SegmentTest[], path: Path): boolean {
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

/** A `**` may match nothing, so a state on it also stands on the state after it. */
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

type TrieNode = { here: number[]; children: Map<string, TrieNode> };

function plainKey(segment: Segment): string | null {
  return segment.id === undefined && segment.index === undefined ? segment.key : null;
}

function literalAt(tests: readonly SegmentTest[], index: number): string | null {
  const test = tests[index] as SegmentTest;
  return test.kind === 'key' ? test.literal : null;
}

/**
 * Indexes patterns so that each path meets only its candidates, then tests those exactly with
 * `matchesPattern`. A pattern starting with literal keys (`gateway.auth.**`) can only match a
 * path starting with those keys: it sits in a trie over them. A pattern `**.<tail>` whose tail
 * has no `**` can only match a path whose segment at a fixed distance from the end is the
 * tail's last literal key (`**.headers.*`: "headers", second from the end): it sits in a map
 * per distance. Every other pattern is a candidate for every path. Each pattern is in exactly
 * one place, so the answer equals testing every pattern in turn.
 */
export function compilePatternSet(patterns: readonly Pattern[]): PatternSet {
  const newNode = (): TrieNode => ({ here: [], children: new Map() });
  const root = newNode();
  const byTail = new Map<number, Map<string, number[]>>();
  patterns.forEach((pattern, index) => {
    const tests = pattern.segments;
    let node = root;
    let depth = 0;
    for (let literal = literalAt(tests, 0); literal !== null; literal = literalAt(tests, depth)) {
      let next = node.children.get(literal);
      if (!next) {
        next = newNode();
        node.children.set(literal, next);
      }
      node = next;
      depth += 1;
      if (depth === tests.length) break;
    }
    if (depth > 0) {
      node.here.push(index);
      return;
    }
    if (tests[0]?.kind === 'globstar' && tests.slice(1).every((test) => test.kind !== 'globstar')) {
      for (let distance = 1; distance < tests.length; distance++) {
        const literal = literalAt(tests, tests.length - distance);
        if (literal === null) continue;
        let byKey = byTail.get(distance);
        if (!byKey) {
          byKey = new Map();
          byTail.set(distance, byKey);
        }
        const bucket = byKey.get(literal);
        if (bucket) bucket.push(index);
        else byKey.set(literal, [index]);
        return;
      }
    }
    root.here.push(index);
  });
  const tails = [...byTail.entries()];

  /** Calls `visit` with each bucket of candidates for `path`; stops when it returns true. */
  const candidates = (path: Path, visit: (bucket: readonly number[]) => boolean): void => {
    if (root.here.length > 0 && visit(root.here)) return;
    let node = root;
    for (const segment of path) {
      const key = plainKey(segment);
      const next = key === null ? undefined : node.children.get(key);
      if (next === undefined) break;
      node = next;
      if (node.here.length > 0 && visit(node.here)) return;
    }
    for (const [distance, byKey] of tails) {
      const segment = path[path.length - distance];
      if (segment === undefined) continue;
      const key = plainKey(segment);
      const bucket = key === null ? undefined : byKey.get(key);
      if (bucket !== undefined && visit(bucket)) return;
    }
  };

  return {
    matching(path) {
      const found: number[] = [];
      let buckets = 0;
      candidates(path, (bucket) => {
        buckets += 1;
        for (const index of bucket) if (matchesPattern(patterns[index] as Pattern, path)) found.push(index);
        return false;
      });
      if (buckets > 1 && found.length > 1) found.sort((a, b) => a - b);
      return found;
    },
    some(path) {
      let hit = false;
      candidates(path, (bucket) => {
        for (const index of bucket) {
          if (matchesPattern(patterns[index] as Pattern, path)) {
            hit = true;
            break;
          }
        }
        return hit;
      });
      return hit;
    },
  };
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
