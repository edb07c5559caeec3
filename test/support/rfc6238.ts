import { createHmac } from 'node:crypto';

/**
 * An independent RFC 6238 implementation (RFC 4226 dynamic truncation), so the tests do not
 * trust the library under test to check itself.
 */
export function totpCode(
  secret: Buffer,
  at: Date,
  options: { digits?: number; period?: number; algorithm?: string } = {},
): string {
  const digits = options.digits ?? 6;
  const counter = Math.floor(at.getTime() / 1000 / (options.period ?? 30));
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(options.algorithm ?? 'sha1', secret)
    .update(message)
    .digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding, as authenticator apps expect secrets. */
export function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let output = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) output += alphabet[(value << (5 - bits)) & 31];
  return output;
}
