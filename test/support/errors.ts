import { expect } from 'vitest';
import { CountersignError } from '../../src/core/errors.js';

/** The CountersignError `fn` throws; fails the test if it throws anything else or nothing. */
export function errorOf(fn: () => unknown): CountersignError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CountersignError);
    return error as CountersignError;
  }
  throw new Error('expected a CountersignError');
}
