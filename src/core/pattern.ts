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
  | { kind: 'key'; key: KeyTest }
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
    return { kind: 'key', key: keyTest(text) };
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

/** Iterative matcher: a set of live pattern positions advanced one path segment at a time. */
export function matchesPattern(pattern: Pattern, path: Path): boolean {
  const tests = pattern.segments;
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
