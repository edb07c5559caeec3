import * as crypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';
import { configure } from 'safe-stable-stringify';

/*
 * Canonical JSON: keys sorted at every level (UTF-16 code units), no whitespace — the output of
 * json-stable-stringify, which SPEC §1 names as the definition. It is written here by
 * safe-stable-stringify (pino's serializer, maintained in Node's own circles), which writes the
 * same bytes 2.5–3× faster: every proposal hashes its whole target document, so this is on the
 * hot path (issue 14). test/core/compiled.test.ts holds the two to the same output on everything
 * fast-check generates, and json-stable-stringify stays a dev dependency for that test.
 * One difference is settled by the options: a cycle throws a TypeError, as json-stable-stringify
 * does. A bigint (which no parsed JSON holds) is left out instead of throwing.
 */
const stringify = configure({ circularValue: TypeError, bigint: false, deterministic: true });

export function canonical(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

// One-shot hashing (Node 20.12+) skips the Hash object; the digest is the same.
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : null;

export function sha256(text: string): string {
  if (oneShot) return `sha256:${oneShot('sha256', text, 'hex')}`;
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/**
 * The base/target/patch hash of SPEC §1: HMAC-SHA256 of the canonical JSON, keyed with the
 * installation's secret. Unkeyed, a reader of the redacted document could test guesses of a
 * weak secret offline against the hash; keyed, a hash says nothing without the key.
 */
export function documentHash(key: HashKey, value: unknown): string {
  return `hmac-sha256:${createHmac('sha256', key).update(canonical(value)).digest('hex')}`;
}

/** Key material for `documentHash` and `fingerprint`; never leaves the data directory. */
export type HashKey = Buffer;

/** Separate keys for separate uses, derived from the one installation secret (HKDF, RFC 5869). */
export function deriveKey(secret: Buffer, purpose: 'document-hash' | 'fingerprint'): HashKey {
  return Buffer.from(crypto.hkdfSync('sha256', secret, Buffer.alloc(0), `countersign ${purpose} v1`, 32));
}

/** Lets the audit tell two secret values apart without storing either. */
export function fingerprint(key: HashKey, value: unknown): string {
  return `hmac-sha256:${createHmac('sha256', key).update(canonical(value)).digest('hex').slice(0, 16)}`;
}

/** What a base, patch or target hash looks like on the wire; clients treat it as opaque. */
export const hashPattern = /^hmac-sha256:[0-9a-f]{64}$/;

/** The hex digits of a hash, whatever its algorithm prefix. */
export function hashDigits(hash: string): string {
  return hash.slice(hash.lastIndexOf(':') + 1);
}
