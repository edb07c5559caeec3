import { createHash, createHmac, type Hash } from 'node:crypto';

/**
 * Writes canonical JSON exactly as json-stable-stringify does (keys sorted by UTF-16 code units
 * at every level, no whitespace, `toJSON` honoured, members whose value has no JSON form left
 * out, such array items written `null`, circular objects refused), either into a string or
 * straight into a hash so that hashing a large document never builds its text.
 */
class CanonicalWriter {
  text = '';
  private readonly ancestors: object[] = [];
  constructor(private readonly hash: Hash | null = null) {}

  private write(part: string): void {
    this.text += part;
    if (this.hash !== null && this.text.length >= 65_536) {
      this.hash.update(this.text);
      this.text = '';
    }
  }

  /** The value as json-stable-stringify sees it; `undefined` when it has no JSON form. */
  static resolve(value: unknown): unknown {
    if (value && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      value = (value as { toJSON: () => unknown }).toJSON();
    }
    return value === undefined || typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  }

  /** `value` must already be resolved and not undefined. */
  value(value: unknown): void {
    switch (typeof value) {
      case 'string':
        this.write(JSON.stringify(value));
        return;
      case 'number':
        this.write(Number.isFinite(value) ? String(value) : 'null');
        return;
      case 'boolean':
        this.write(value ? 'true' : 'false');
        return;
      case 'object':
        if (value !== null) break;
        this.write('null');
        return;
      default:
        // bigint: JSON.stringify throws, as json-stable-stringify does.
        this.write(JSON.stringify(value) as string);
        return;
    }
    if (Array.isArray(value)) {
      this.write('[');
      for (let index = 0; index < value.length; index++) {
        if (index > 0) this.write(',');
        const item = CanonicalWriter.resolve(value[index]);
        if (item === undefined) this.write('null');
        else this.value(item);
      }
      this.write(']');
      return;
    }
    if (this.ancestors.includes(value)) throw new TypeError('Converting circular structure to JSON');
    this.ancestors.push(value);
    const keys = Object.keys(value).sort();
    this.write('{');
    let first = true;
    for (const key of keys) {
      const item = CanonicalWriter.resolve((value as Record<string, unknown>)[key]);
      if (item === undefined) continue;
      this.write(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
      first = false;
      this.value(item);
    }
    this.write('}');
    this.ancestors.pop();
  }
}

/** Canonical JSON: keys sorted at every level, no whitespace (json-stable-stringify's output). */
export function canonical(value: unknown): string {
  const resolved = CanonicalWriter.resolve(value);
  if (resolved === undefined) throw new TypeError('value has no JSON form');
  const writer = new CanonicalWriter();
  writer.value(resolved);
  return writer.text;
}

export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The base/target hash of SPEC §1: `sha256(canonical(value))`, streamed into the hash. */
export function documentHash(value: unknown): string {
  const resolved = CanonicalWriter.resolve(value);
  if (resolved === undefined) throw new TypeError('value has no JSON form');
  const hash = createHash('sha256');
  const writer = new CanonicalWriter(hash);
  writer.value(resolved);
  return `sha256:${hash.update(writer.text).digest('hex')}`;
}

/** Lets the audit tell two secret values apart without storing either. */
export function fingerprint(key: string, value: unknown): string {
  return `hmac-sha256:${createHmac('sha256', key).update(canonical(value)).digest('hex').slice(0, 16)}`;
}

export const hashPattern = /^sha256:[0-9a-f]{64}$/;
