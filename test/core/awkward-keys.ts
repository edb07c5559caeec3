/**
 * Generators of keys and ids that break naive dotted forms, shared by the path and pattern
 * tests. Not a test file itself.
 */
import fc from 'fast-check';
import type { Segment } from '../../src/core/path.js';

/** Keys and ids that break naive dotted forms: dots, brackets, quotes, stars, escapes, controls, unicode. */
const awkward = fc.constantFrom(
  '',
  ' ',
  'a.b',
  'team.ops[west]',
  '["x"]',
  '[]',
  '[id=x]',
  '[0]',
  '"',
  '\\',
  '\\"',
  '*',
  '**',
  'dangerously*',
  'a"b',
  '.',
  '..',
  'id=',
  '\n',
  '\u0000',
  '\u001b[2K',
  '\u202e',
  '\u200b',
  '\ud800',
  'ключ',
  '🔑.🗝',
);
const tricky = fc.string({ unit: fc.constantFrom('.', '[', ']', '"', '*', '\\', '=', ' ', 'a', '0', 'é', '\u0000') });
/** Any key: the awkward ones above, strings of the characters that matter, and arbitrary unicode. */
export const anyKey = fc.oneof(awkward, tricky, fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }));

export const keySegment: fc.Arbitrary<Segment> = anyKey.map((key) => ({ key }));
export const idSegment: fc.Arbitrary<Segment> = fc.record({ key: anyKey, id: anyKey });
