import { createHash, createHmac } from 'node:crypto';
import stableStringify from 'json-stable-stringify';

/** Canonical JSON: keys sorted at every level, no whitespace (json-stable-stringify). */
export function canonical(value: unknown): string {
  const text = stableStringify(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

export function sha256(text: string): string {
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
