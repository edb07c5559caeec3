import { createHmac, timingSafeEqual } from 'node:crypto';
import type { HashKey } from './hash.js';

/**
 * TOTP recovery codes (SPEC §6): one-time codes an owner keeps on paper, each accepted once in
 * place of an authenticator code, so a lost phone is not a lock-out.
 */

/** How many codes an enrolment (or a regeneration) hands out. */
export const recoveryCodeCount = 10;

/**
 * Crockford's base32: no U, and no I, L, O (read as 1, 1, 0 when typed), so a code copied from
 * paper by hand survives the usual misreadings. 12 symbols of 5 bits = 60 bits per code.
 */
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const symbols = 12;

/** Bytes of randomness one code takes (one per symbol; the low 5 bits of each are used). */
export const recoveryCodeBytes = symbols;

/**
 * What a recovery code may look like on the wire: 12 symbols, optionally in groups of four joined
 * by hyphens, either case; I, L and O are accepted as the digits they stand for. Never 6–8 digits,
 * so it cannot be confused with an authenticator code. Spelled without regex flags so that it
 * reads the same in the OpenAPI document (JSON Schema patterns have none).
 */
const symbol = '[0-9A-TV-Za-tv-z]';
export const recoveryCodeSource = `${symbol}{4}-?${symbol}{4}-?${symbol}{4}`;
export const recoveryCodePattern = new RegExp(`^${recoveryCodeSource}$`);

/** An authenticator (RFC 6238) code: 6 to 8 digits. */
export const totpDigitsPattern = /^\d{6,8}$/;

/**
 * One code, `XXXX-XXXX-XXXX`, from `recoveryCodeBytes` random bytes. 256 is a multiple of 32, so
 * taking the low 5 bits of a uniform byte gives a uniform symbol (no modulo bias).
 */
export function formatRecoveryCode(random: Uint8Array): string {
  if (random.length < symbols) throw new RangeError(`a recovery code needs ${symbols} random bytes`);
  let code = '';
  for (let index = 0; index < symbols; index++) {
    if (index > 0 && index % 4 === 0) code += '-';
    code += alphabet[(random[index] as number) & 31];
  }
  return code;
}

/** The canonical 12 symbols of a typed code (case, hyphens and look-alikes folded), or null. */
export function normalizeRecoveryCode(text: string): string | null {
  if (!recoveryCodePattern.test(text)) return null;
  return text.replaceAll('-', '').toUpperCase().replace(/[IL]/g, '1').replaceAll('O', '0');
}

/**
 * What is stored instead of a code: HMAC-SHA256 keyed with the installation's fingerprint key,
 * over a domain-separated message that also names the owner (one owner's code is not another's).
 * A fast keyed hash suffices here, where a password would need scrypt: each code carries 60
 * random bits, so even with the key an offline search is 2^60 HMACs per code, and without the
 * key (it never leaves the data directory) the stored hashes say nothing at all.
 */
export function recoveryCodeHash(key: HashKey, owner: string, normalized: string): string {
  return `hmac-sha256:${createHmac('sha256', key).update(`countersign recovery code v1\0${owner}\0${normalized}`).digest('hex')}`;
}

/**
 * The stored hash equal to `candidate`, if any. Every hash is compared, with no early exit, so the
 * time taken says nothing about which (or whether one) matched.
 */
export function matchingHash(stored: readonly string[], candidate: string): string | null {
  const wanted = Buffer.from(candidate);
  let match: string | null = null;
  for (const hash of stored) {
    const have = Buffer.from(hash);
    const equal = have.length === wanted.length && timingSafeEqual(have, wanted);
    if (equal && match === null) match = hash;
  }
  return match;
}
