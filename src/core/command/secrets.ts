import { REDACTED } from '../redact.js';

/**
 * Secrets in command lines and environments: which names and values are credentials, and how
 * arguments are shown with them replaced by the placeholder. Pure: strings in, strings out.
 */

const referencePattern = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;

/** Names whose value is a secret whatever it looks like. `PWD` is the working directory, not a password. */
const strongSecretName =
  /(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CLIENT_?KEY|CREDENTIAL|(^|_)KEY($|_)|(^|_)PAT($|_))/i;
const weakSecretName = /(AUTH|COOKIE|SESSION|BEARER|SIGNATURE|SALT|(^|_)PASS($|_)|(^|_)PWD$)/i;
const notSecretName = /^(OLD)?PWD$/;
const trivialValue = /^(|true|false|yes|no|on|off|none|null|undefined|\d+(\.\d+)?)$/i;

const knownSecretPrefix =
  /^(sk-|sk_(live|test)_|rk_(live|test)_|ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|xox[abposr]-|AKIA[0-9A-Z]{12}|ASIA[0-9A-Z]{12}|AIza[0-9A-Za-z_-]{20}|ya29\.|hf_|npm_[A-Za-z0-9]{20}|pypi-|dop_v1_|shpat_|eyJ[A-Za-z0-9_-]{8,}\.)/;

function shannonBits(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * Random-looking: long, no spaces, mixed case and digits (or a long run of hex/base36), high
 * entropy, and not a path, URL, package spec, digest or file name, which are long but not secret.
 */
export function looksHighEntropy(text: string): boolean {
  if (text.length < 20 || /\s/.test(text) || text.includes('@')) return false;
  if (/^(\/|\.{1,2}\/|~\/|[A-Za-z]:\\)/.test(text) || /^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return false;
  if (/^(sha\d+|md5):/i.test(text) || /\.[a-z]{1,5}$/.test(text)) return false;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) return false; // a UUID is an id
  const lower = /[a-z]/.test(text);
  const upper = /[A-Z]/.test(text);
  const digit = /[0-9]/.test(text);
  const mixed = lower && upper && digit;
  const longToken = digit && (lower || upper) && text.length >= 32 && /^[A-Za-z0-9]+$/.test(text);
  return (mixed || longToken) && shannonBits(text) >= 3.5;
}

function hasUrlPassword(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i.test(text);
}

/** A value that is a secret by its shape alone: a known token format, a URL password, or random-looking. */
export function looksLikeSecretValue(text: string): boolean {
  return (text.length >= 12 && knownSecretPrefix.test(text)) || hasUrlPassword(text) || looksHighEntropy(text);
}

export function isSecretName(name: string): boolean {
  return !notSecretName.test(name) && (strongSecretName.test(name) || weakSecretName.test(name));
}

/** Text outside `${VAR}` references: the part of a value that is written into the config literally. */
export function literalPart(value: string): string {
  return value.replace(referencePattern, '');
}

export function hasReference(value: string): boolean {
  return new RegExp(referencePattern.source).test(value);
}

/** The variables the `${VAR}` references in a value read, in order, each once. */
export function referencedVariables(value: string): string[] {
  return [...new Set([...value.matchAll(referencePattern)].map((match) => match[0].slice(2, -1)))];
}

/**
 * Whether a literal `name=value` carries a secret. Strong names (TOKEN, SECRET, PASSWORD, …KEY)
 * count for any non-trivial value; weak ones (AUTH, SESSION, …) only when the value also looks
 * random, since `AUTH_MODE=oauth` is configuration, not a credential.
 */
export function isLiteralSecret(name: string, value: string): boolean {
  const literal = literalPart(value).trim();
  if (trivialValue.test(literal)) return false;
  if (/^(\/|~\/|\.{1,2}\/)/.test(literal)) return false; // a path to a key file is not the key
  if (/^(bearer|basic|token)$/i.test(literal)) return false; // "Bearer ${TOKEN}" leaves only the scheme
  if (looksLikeSecretValue(literal)) return true;
  if (notSecretName.test(name)) return false;
  return strongSecretName.test(name) && literal.length >= 4;
}

/** Headers that carry credentials whatever their value looks like. */
const secretHeader =
  /^(authorization|proxy-authorization|cookie|api-?key|x-[a-z0-9-]*(key|token|secret|auth)[a-z0-9-]*)$/i;

/** A header value written literally: `Authorization: Bearer abc` is a secret, `Bearer ${TOKEN}` is not. */
export function isLiteralSecretHeader(name: string, value: string): boolean {
  if (isLiteralSecret(name, value)) return true;
  if (!secretHeader.test(name)) return false;
  const credential = literalPart(value)
    .trim()
    .replace(/^(bearer|basic|token|bot|digest|apikey)\b\s*/i, '');
  return credential.length >= 4;
}

// Redaction of arguments ------------------------------------------------------------------------

const secretFlag =
  /^-{1,2}[A-Za-z0-9_-]*(token|secret|passw(or)?d|passphrase|api-?key|apikey|access-?key|private-?key|client-?secret|credential|auth|bearer|cookie)[A-Za-z0-9_-]*$/i;
const flagNamesAFile = /(file|path|dir|env|var|name|url|type|mode|method|header|provider|scheme)$/i;

function isSecretFlag(flag: string): boolean {
  return secretFlag.test(flag) && !flagNamesAFile.test(flag);
}

const urlSentinel = 'countersign-redacted-0b9c';

function redactUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.password) {
    url.password = urlSentinel;
    changed = true;
  }
  for (const [key, value] of [...url.searchParams]) {
    if (value && (isSecretName(key) || looksLikeSecretValue(value))) {
      url.searchParams.set(key, urlSentinel);
      changed = true;
    }
  }
  return changed ? url.toString().replaceAll(urlSentinel, REDACTED) : text;
}

/** Header-shaped arguments (`-H "Authorization: Bearer …"`). */
const headerArgument = /^([A-Za-z0-9-]+)\s*:\s*(.+)$/s;

/** A value that only references variables (`${TOKEN}`, `Bearer ${TOKEN}`) shows no secret. */
function onlyReferences(value: string): boolean {
  return hasReference(value) && !looksLikeSecretValue(literalPart(value)) && !isLiteralSecret('', value);
}

/** One argument as it may be shown on a card, with anything secret-looking replaced by `[redacted]`. */
function redactOne(arg: string, depth = 0): string {
  const assignment = /^(-{1,2}[^=\s]+|[A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(arg);
  if (assignment && depth < 3) {
    const [, name = '', value = ''] = assignment;
    const secret = name.startsWith('-') ? isSecretFlag(name) : isLiteralSecret(name, value);
    if (secret && !onlyReferences(value)) return `${name}=${REDACTED}`;
    const inner = redactOne(value, depth + 1);
    return inner === value ? arg : `${name}=${inner}`;
  }
  const header = headerArgument.exec(arg);
  if (header && secretHeader.test(header[1] ?? '')) {
    return onlyReferences(header[2] ?? '') ? arg : `${header[1]}: ${REDACTED}`;
  }
  if (hasUrlPassword(arg)) return redactUrl(arg);
  if (looksLikeSecretValue(arg)) return REDACTED;
  return redactUrl(arg);
}

function redactList(words: readonly string[]): string[] {
  return words.map((word, index) => {
    const previous = index > 0 ? words[index - 1] : undefined;
    if (previous !== undefined && !previous.includes('=') && isSecretFlag(previous) && !word.startsWith('-')) {
      return onlyReferences(word) ? word : REDACTED;
    }
    return redactOne(word);
  });
}

/**
 * An argument holding a whole command line (`bash -c "curl -H 'Authorization: Bearer x' …"`) is
 * redacted word by word, after its credential headers, so a secret cannot hide in a script.
 */
function redactCommandLine(text: string): string {
  const headers = text.replace(
    /((?:proxy-)?authorization|cookie|api-?key|x-[a-z0-9-]*(?:key|token|secret|auth)[a-z0-9-]*)(\s*:\s*)((?:bearer|basic|token|bot)\s+)?([^\s'"]+)/gi,
    (match, name: string, colon: string, scheme: string | undefined, credential: string) =>
      onlyReferences(credential) ? match : `${name}${colon}${scheme ?? ''}${REDACTED}`,
  );
  const parts = headers.split(/(\s+)/);
  const words = parts.filter((_, index) => index % 2 === 0);
  const redacted = redactList(words);
  return parts.map((part, index) => (index % 2 === 0 ? (redacted[index / 2] as string) : part)).join('');
}

/** Arguments for display: `--token=x`, `--api-key x`, `API_KEY=x`, `Authorization: x`, URL passwords, token-shaped values. */
export function redactArgs(args: readonly string[]): string[] {
  return redactList(args).map((arg, index) =>
    arg === args[index] && /\s/.test(arg) && !headerArgument.test(arg) ? redactCommandLine(arg) : arg,
  );
}

/**
 * The positions of the arguments `redactArgs` shows redacted: the secrets among a server's
 * arguments, so every other surface (changes, operations, config reads) can hide the same ones.
 */
export function secretArgIndices(args: readonly string[]): number[] {
  return redactArgs(args).flatMap((shown, index) => (shown === args[index] ? [] : [index]));
}

/** A URL for display: password and secret-looking query parameters redacted. */
export function redactUrlForDisplay(url: string): string {
  return redactUrl(url);
}
