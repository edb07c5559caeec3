import { REDACTED } from './redact.js';

/**
 * Reading an MCP server's command line the way an attentive owner would: which program really
 * runs, what it downloads, and which arguments turn it into "run whatever this string says".
 * Pure: it sees strings only; src/mcp/probe.ts looks at the files.
 */

export type ArgWarningCode =
  | 'shell_interpreter'
  | 'inline_eval'
  | 'dangerous_flag'
  | 'unpinned_package'
  | 'literal_secret_arg'
  | 'env_override'
  | 'literal_secret_env';

export type ArgWarning = { code: ArgWarningCode; message: string };

export type PackageRunner = 'npx' | 'npm exec' | 'pnpm dlx' | 'yarn dlx' | 'bunx' | 'uvx' | 'pipx run';

export type ArgProvenance = {
  ecosystem: 'npm' | 'pypi';
  via: PackageRunner;
  package: string;
  version: string | null;
  pinned: boolean;
};

export type CommandAnalysis = {
  warnings: ArgWarning[];
  provenance: ArgProvenance | null;
  /** A file an interpreter will run (`node server.js`): what really decides the server's behaviour. */
  script: string | null;
};

// ---------------------------------------------------------------------------------------------
// Secrets

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

// ---------------------------------------------------------------------------------------------
// Redaction of arguments

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

// ---------------------------------------------------------------------------------------------
// Environment

const environmentOverrides: Array<[RegExp, string]> = [
  [/^PATH$/, 'decides which program runs whenever the server starts another command'],
  [/^(LD_PRELOAD|LD_AUDIT)$/, 'loads a library of the proposer’s choosing into the server and every program it starts'],
  [/^(LD_LIBRARY_PATH|GCONV_PATH|GLIBC_TUNABLES|LOCPATH|NLSPATH)$/, 'changes which shared libraries get loaded'],
  [/^DYLD_/, 'changes which libraries macOS loads into the server'],
  [/^NODE_OPTIONS$/, 'adds Node.js options such as --require or --import, which run extra code in the server'],
  [/^NODE_PATH$/, 'changes where Node.js finds the modules the server imports'],
  [/^(PYTHONPATH|PYTHONHOME|PYTHONUSERBASE)$/, 'changes where Python finds the modules the server imports'],
  [/^(PYTHONSTARTUP|PYTHONINSPECT|PYTHONWARNINGS)$/, 'makes Python run or import extra code at start'],
  [/^(RUBYOPT|RUBYLIB)$/, 'makes Ruby load extra code at start'],
  [/^(PERL5OPT|PERL5LIB|PERLLIB|PERL5DB)$/, 'makes Perl load extra code at start'],
  [/^(BASH_ENV|ENV|ZDOTDIR|PROMPT_COMMAND|SHELLOPTS|BASHOPTS|PS4|IFS)$/, 'makes a shell run a file or code at start'],
  [/^(LUA_INIT|LUA_INIT_\d+_\d+|LUA_PATH|LUA_CPATH)$/, 'makes Lua run or load extra code'],
  [/^(PHPRC|PHP_INI_SCAN_DIR)$/, 'makes PHP read another configuration, which can load extra code'],
  [/^(JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS|CLASSPATH)$/, 'makes the JVM load extra code or agents'],
  [
    /^(GIT_SSH|GIT_SSH_COMMAND|GIT_EXEC_PATH|GIT_ASKPASS|SSH_ASKPASS|GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+|GLOBAL|SYSTEM)|EDITOR|VISUAL|PAGER|BROWSER)$/,
    'names a program the server may run',
  ],
  [
    /^(NODE_TLS_REJECT_UNAUTHORIZED|NODE_EXTRA_CA_CERTS|PYTHONHTTPSVERIFY|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|GIT_SSL_NO_VERIFY)$/,
    'changes which TLS certificates the server trusts, so its connections can be intercepted',
  ],
  [/^(HTTPS?_PROXY|ALL_PROXY|NO_PROXY)$/i, 'sends the server’s network traffic through a proxy that can read it'],
  [
    /^(NPM_CONFIG_.+|YARN_NPM_REGISTRY_SERVER|BUN_CONFIG_REGISTRY|UV_INDEX_URL|UV_INDEX|UV_DEFAULT_INDEX|UV_EXTRA_INDEX_URL|PIP_INDEX_URL|PIP_EXTRA_INDEX_URL|PIP_CONFIG_FILE)$/i,
    'changes where packages are downloaded from or how they are installed',
  ],
];

export function environmentOverride(name: string): string | null {
  for (const [pattern, reason] of environmentOverrides) if (pattern.test(name)) return reason;
  return null;
}

/**
 * What an owner reads for an `env_override` variable: its value, since `--require /tmp/x.js`
 * is the whole point, with secrets in it redacted as in arguments (a proxy's password, a
 * `--token=` flag, a token-shaped word). A value that is itself a secret by its name
 * (`NPM_CONFIG__AUTHTOKEN`) shows as the placeholder. Null for every other variable.
 */
export function overrideValueForDisplay(name: string, value: string): string | null {
  if (environmentOverride(name) === null) return null;
  const shown = redactArgs([value])[0] as string;
  if (shown === value && isLiteralSecret(name, value)) return REDACTED;
  return shown;
}

/**
 * Warnings for declared environment variables or headers (names and shapes only; values never
 * leave). `subject` starts the sentence: "The server's env", "The headers", ….
 */
export function environmentWarnings(
  entries: ReadonlyArray<{ name: string; value: string | null }>,
  subject: string,
  options: { headers?: boolean; secrets?: boolean } = {},
): ArgWarning[] {
  const warnings: ArgWarning[] = [];
  const literalSecret = options.headers ? isLiteralSecretHeader : isLiteralSecret;
  for (const { name, value } of entries) {
    const override = options.headers ? null : environmentOverride(name);
    if (override) {
      warnings.push({
        code: 'env_override',
        message: `${subject} sets ${name}, which ${override}; the server may not behave like the program shown on this card.`,
      });
    }
    // A kept secret reaches the review as the placeholder: what it is, the review cannot say.
    if (options.secrets !== false && value !== null && value !== REDACTED && literalSecret(name, value)) {
      warnings.push({
        code: 'literal_secret_env',
        message: `${options.headers ? `${subject} ${name} holds` : `${subject} sets ${name} to`} a literal secret written into the config; use a \${VAR} reference so the secret stays in the service's environment.`,
      });
    }
  }
  return warnings;
}

// ---------------------------------------------------------------------------------------------
// Programs

/** `/usr/bin/Python3.12.EXE` → `python3.12`: the name that decides how arguments are read. */
export function programName(command: string): string {
  const base = command.split(/[\\/]/).pop() ?? command;
  return base.toLowerCase().replace(/\.(exe|cmd|bat|com)$/, '');
}

const shells = new Set([
  'sh',
  'bash',
  'zsh',
  'fish',
  'dash',
  'ksh',
  'mksh',
  'ash',
  'csh',
  'tcsh',
  'busybox',
  'cmd',
  'powershell',
  'pwsh',
]);
const posixShells = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'csh', 'tcsh']);
const pythonNames = /^(python|pypy)(\d+(\.\d+)?)?$/;

function isPython(name: string): boolean {
  return pythonNames.test(name);
}

/** Whether `arg` makes this interpreter run the string that follows instead of a file. */
function isInlineFlag(name: string, arg: string): boolean {
  if (isPython(name)) return /^-[A-Za-z]*c$/.test(arg);
  switch (name) {
    case 'node':
    case 'nodejs':
    case 'bun':
      return /^(-e|-p|-pe|-ep|--eval|--print)(=.*)?$/s.test(arg);
    case 'ruby':
    case 'lua':
    case 'luajit':
    case 'osascript':
    case 'rscript':
    case 'julia':
    case 'elixir':
    case 'groovy':
      return arg === '--eval' || /^-[A-Za-z]*e$/.test(arg);
    case 'perl':
      return /^-[A-Za-z]*[eE]$/.test(arg);
    case 'php':
      return arg === '-r' || arg === '--run';
    case 'fish':
      return arg === '-c' || arg.startsWith('--command');
    case 'cmd':
      return /^\/[ck]$/i.test(arg);
    case 'powershell':
    case 'pwsh':
      return /^-(c|command|e|ec|enc|encodedcommand)$/i.test(arg);
  }
  return posixShells.has(name) && /^-[A-Za-z]*c[A-Za-z]*$/.test(arg);
}

/** Options that take the next argument as their value, so that value is not taken for the script. */
const valueOptions: Record<string, ReadonlySet<string>> = {
  node: new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '--input-type', '-C', '--title']),
  python: new Set(['-W', '-X']),
  ruby: new Set(['-I', '-r', '-C']),
  perl: new Set(['-I']),
  deno: new Set(['--config', '-c', '--import-map', '--lock', '--env-file']),
  bun: new Set(['--config', '-r', '--preload', '--env-file']),
  powershell: new Set(['-ExecutionPolicy', '-WindowStyle', '-Version', '-InputFormat', '-OutputFormat']),
};

const scriptInterpreters = new Set([
  'node',
  'nodejs',
  'bun',
  'deno',
  'tsx',
  'ts-node',
  'ruby',
  'perl',
  'php',
  'lua',
  'luajit',
  'rscript',
  'julia',
  'awk',
  'gawk',
  'mawk',
  'nawk',
  ...posixShells,
  'fish',
  'cmd',
  'pwsh',
  'powershell',
  'osascript',
  'elixir',
  'groovy',
]);

type InterpreterScan = { inline: string | null; script: string | null; remote: string | null };

/**
 * Reads an interpreter's own options up to the first operand, as the interpreter does: an
 * inline-code flag there means "run this string"; otherwise the operand is the script file.
 * Arguments after the script belong to the script, so `python server.py -c x` is not eval.
 */
function scanInterpreter(name: string, args: readonly string[]): InterpreterScan {
  const none: InterpreterScan = { inline: null, script: null, remote: null };
  if (!scriptInterpreters.has(name) && !isPython(name)) return none;
  const key = isPython(name) ? 'python' : name === 'nodejs' ? 'node' : name === 'pwsh' ? 'powershell' : name;
  const options = valueOptions[key] ?? new Set<string>();
  let rest = args;
  if (name === 'deno' && rest[0] === 'eval') return { ...none, inline: 'eval' };
  if ((name === 'deno' || name === 'bun') && rest[0] === 'run') rest = rest.slice(1);
  const awk = ['awk', 'gawk', 'mawk', 'nawk'].includes(name);
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index] as string;
    if (arg === '--') return asScript(rest[index + 1] ?? null);
    if (isInlineFlag(name, arg)) return { ...none, inline: arg };
    if (isPython(name) && arg.startsWith('-m')) return none; // a module found on sys.path: no one file to pin
    if (awk && arg === '-f') return asScript(rest[index + 1] ?? null);
    if (key === 'powershell' && /^-(f|file)$/i.test(arg)) return asScript(rest[index + 1] ?? null);
    if (arg.startsWith('-') || (name === 'cmd' && arg.startsWith('/'))) {
      if ([...options].some((option) => option.toLowerCase() === arg.toLowerCase())) index++;
      continue;
    }
    if (awk) return { ...none, inline: arg }; // awk's first operand is its program
    if (key === 'powershell') return { ...none, inline: arg }; // bare words are a -Command
    return asScript(arg);
  }
  return none;
}

/** Only something that looks like a file path is pinned as a script; `bun run start` names a package script. */
function asScript(candidate: string | null): InterpreterScan {
  if (candidate === null) return { inline: null, script: null, remote: null };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(candidate)) return { inline: null, script: null, remote: candidate };
  return { inline: null, script: /[\\/]|\.[A-Za-z0-9]+$/.test(candidate) ? candidate : null, remote: null };
}

/** Flags that remove a program's own safety limits. */
function dangerousFlags(name: string, args: readonly string[]): string[] {
  const found: string[] = [];
  const add = (flag: string, why: string) => found.push(`"${flag}" ${why}`);
  args.forEach((arg, index) => {
    const flag = arg.split('=')[0] as string;
    if (/^--dangerously/i.test(flag)) add(flag, 'switches off a safety check by design');
    else if (/^--unsafe/i.test(flag)) add(flag, 'switches off a safety check');
    else if (/^--(no-sandbox|disable-sandbox|disable-web-security|disable-setuid-sandbox)$/i.test(flag))
      add(flag, 'turns off the sandbox');
    else if (/^--allow-all/i.test(flag) || flag === '--yolo') add(flag, 'grants every permission without asking');
    else if (/^--inspect(-brk|-wait)?$/.test(flag) && ['node', 'nodejs', 'deno', 'bun'].includes(name))
      add(flag, 'opens a debugger port through which anyone who reaches it can run code in the server');
    else if (flag === '-A' && name === 'deno') add(flag, 'grants Deno every permission (files, network, processes)');
    else if (['nc', 'ncat', 'netcat'].includes(name) && /^(-e|-c|--exec|--sh-exec|--lua-exec)$/.test(flag))
      add(flag, 'connects a program to the network: a classic remote shell');
    else if (name === 'socat' && /^(EXEC|SYSTEM):/i.test(arg)) add(arg.split(':')[0] as string, 'runs a program');
    else if ((name === 'docker' || name === 'podman') && isContainerEscape(arg, args[index + 1]))
      add(arg, 'weakens the container’s isolation from this machine');
  });
  if (name === 'sudo' || name === 'doas') found.unshift(`"${name}" runs the server as another user, usually root,`);
  return found;
}

function isContainerEscape(arg: string, next: string | undefined): boolean {
  if (/^--(privileged|cap-add.*|security-opt.*|device.*)$/.test(arg.split('=')[0] as string)) return true;
  if (/^--(pid|network|net|ipc|uts|userns)=host$/.test(arg)) return true;
  if (/^--(pid|network|net|ipc|uts|userns)$/.test(arg) && next === 'host') return true;
  const mount = /^(-v|--volume|--mount)$/.test(arg) ? next : /^(-v|--volume|--mount)=(.*)$/.exec(arg)?.[2];
  return mount !== undefined && /(^|[=,])(\/|\/var\/run\/docker\.sock|\/run\/docker\.sock)(:|,|$)/.test(mount);
}

// ---------------------------------------------------------------------------------------------
// Package runners

const exactSemver = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

type PackageSpec = { package: string; version: string | null; pinned: boolean; problem: string | null };

/** `@scope/name@1.2.3`, `name@^1`, `name@latest`, `github:u/r`, `https://…tgz`, `./dir`. */
export function parseNpmSpec(raw: string): PackageSpec {
  const spec = raw.startsWith('npm:') ? raw.slice(4) : raw;
  if (/^(git\+|git:|github:|gitlab:|bitbucket:|gist:|https?:|file:|\.{0,2}\/|~\/)/.test(spec) || isGitShorthand(spec)) {
    const commit = /#[0-9a-f]{40}$/.test(spec);
    return {
      package: redactUrlForDisplay(spec),
      version: commit ? (spec.split('#').pop() as string) : null,
      pinned: commit,
      problem: commit
        ? null
        : `"${redactUrlForDisplay(spec)}" is fetched from a repository, URL or path whose content can change after you approve.`,
    };
  }
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  const name = at === -1 ? spec : spec.slice(0, at);
  const version = at === -1 ? null : spec.slice(at + 1);
  if (version === null || version === '') {
    return {
      package: name,
      version: null,
      pinned: false,
      problem: `No version is given for "${name}", so the newest release is downloaded whenever the server starts; pin it as ${name}@<exact version>.`,
    };
  }
  if (exactSemver.test(version)) return { package: name, version, pinned: true, problem: null };
  const tag = /^[A-Za-z][\w.-]*$/.test(version);
  return {
    package: name,
    version,
    pinned: false,
    problem: tag
      ? `"${name}@${version}" follows the "${version}" tag, which the publisher can move to new code at any time; pin an exact version.`
      : `"${name}@${version}" accepts a range of versions, so a later release runs without your approval; pin an exact version.`,
  };
}

function isGitShorthand(spec: string): boolean {
  return !spec.startsWith('@') && /^[\w.-]+\/[\w.-]+(#.*)?$/.test(spec);
}

/** `name==1.2.3`, `name@1.2.3`, `name[extra]>=1`, `git+https://…`. */
export function parsePypiSpec(raw: string): PackageSpec {
  if (/^(git\+|https?:|file:|\.{0,2}\/|~\/)/.test(raw)) {
    const commit = /@[0-9a-f]{40}$/.test(raw);
    return {
      package: redactUrlForDisplay(raw),
      version: null,
      pinned: commit,
      problem: commit
        ? null
        : `"${redactUrlForDisplay(raw)}" is fetched from a repository, URL or path whose content can change after you approve.`,
    };
  }
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$/.exec(raw);
  const name = match?.[1] ?? raw;
  const rest = (match?.[3] ?? '').trim();
  const exact = /^(==|@)\s*([0-9][0-9A-Za-z.+!-]*)$/.exec(rest);
  if (exact && !rest.includes('*')) return { package: name, version: exact[2] as string, pinned: true, problem: null };
  if (rest === '') {
    return {
      package: name,
      version: null,
      pinned: false,
      problem: `No version is given for "${name}", so the newest release is downloaded whenever the server starts; pin it as ${name}==<exact version>.`,
    };
  }
  const version = rest.replace(/^@/, '');
  return {
    package: name,
    version,
    pinned: false,
    problem: `"${name}${rest}" does not name one exact version, so a later release runs without your approval; pin it with ==<version>.`,
  };
}

type RunnerSyntax = {
  valueOptions: ReadonlySet<string>;
  packageOptions: ReadonlySet<string>;
  inlineOptions: ReadonlySet<string>;
  /** When a package option is given, the first positional is a command inside it, not a package. */
  positionalIsCommandWithPackage: boolean;
};

const runnerSyntax: Record<PackageRunner, RunnerSyntax> = {
  npx: {
    valueOptions: new Set([
      '--registry',
      '--cache',
      '--userconfig',
      '--prefix',
      '-w',
      '--workspace',
      '--loglevel',
      '--node-options',
      '--shell',
      '--script-shell',
    ]),
    packageOptions: new Set(['-p', '--package']),
    inlineOptions: new Set(['-c', '--call']),
    positionalIsCommandWithPackage: true,
  },
  'npm exec': {
    valueOptions: new Set(['--registry', '--cache', '--userconfig', '--prefix', '-w', '--workspace', '--loglevel']),
    packageOptions: new Set(['-p', '--package']),
    inlineOptions: new Set(['-c', '--call']),
    positionalIsCommandWithPackage: true,
  },
  'pnpm dlx': {
    valueOptions: new Set(['--reporter', '--allow-build', '-C', '--dir']),
    packageOptions: new Set(['--package']),
    inlineOptions: new Set(['-c', '--shell-mode']),
    positionalIsCommandWithPackage: true,
  },
  'yarn dlx': {
    valueOptions: new Set([]),
    packageOptions: new Set(['-p', '--package']),
    inlineOptions: new Set([]),
    positionalIsCommandWithPackage: true,
  },
  bunx: {
    valueOptions: new Set(['--registry']),
    packageOptions: new Set(['-p', '--package']),
    inlineOptions: new Set([]),
    positionalIsCommandWithPackage: true,
  },
  uvx: {
    valueOptions: new Set([
      '--with',
      '--with-editable',
      '--with-requirements',
      '--python',
      '-p',
      '--index',
      '--index-url',
      '--extra-index-url',
      '--default-index',
      '--find-links',
      '-f',
      '--cache-dir',
      '--directory',
      '--project',
      '--refresh-package',
      '--constraints',
      '--overrides',
      '--env-file',
    ]),
    packageOptions: new Set(['--from']),
    inlineOptions: new Set([]),
    positionalIsCommandWithPackage: true,
  },
  'pipx run': {
    valueOptions: new Set(['--python', '--pip-args', '--index-url', '--backend']),
    packageOptions: new Set(['--spec']),
    inlineOptions: new Set([]),
    positionalIsCommandWithPackage: true,
  },
};

type RunnerInvocation = { runner: PackageRunner; args: readonly string[] };

/** `npx …`, `npm exec …`, `pnpm dlx …`, `bunx …`, `uvx …`, `uv tool run …`, `pipx run …`. */
function packageRunner(name: string, args: readonly string[]): RunnerInvocation | null {
  if (name === 'npx') return { runner: 'npx', args };
  if (name === 'npm' && (args[0] === 'exec' || args[0] === 'x')) return { runner: 'npm exec', args: args.slice(1) };
  if (name === 'pnpx' || name === 'pnx') return { runner: 'pnpm dlx', args };
  if (name === 'pnpm' && args[0] === 'dlx') return { runner: 'pnpm dlx', args: args.slice(1) };
  if (name === 'yarn' && args[0] === 'dlx') return { runner: 'yarn dlx', args: args.slice(1) };
  if (name === 'bunx') return { runner: 'bunx', args };
  if (name === 'bun' && args[0] === 'x') return { runner: 'bunx', args: args.slice(1) };
  if (name === 'uvx') return { runner: 'uvx', args };
  if (name === 'uv' && args[0] === 'tool' && args[1] === 'run') return { runner: 'uvx', args: args.slice(2) };
  if (name === 'pipx' && args[0] === 'run') return { runner: 'pipx run', args: args.slice(1) };
  return null;
}

function analyzeRunner(invocation: RunnerInvocation, warnings: ArgWarning[]): ArgProvenance | null {
  const { runner, args } = invocation;
  const syntax = runnerSyntax[runner];
  let packageOption: string | null = null;
  let positional: string | null = null;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') {
      positional = args[index + 1] ?? null;
      break;
    }
    const [flag, inlineValue] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const takeValue = () => inlineValue ?? (args[++index] as string | undefined) ?? null;
    if (syntax.inlineOptions.has(flag as string)) {
      // `pnpm dlx -c` is a switch that makes the rest a shell command; npx's `-c` takes the command.
      warnings.push({
        code: 'inline_eval',
        message: `${runner} ${flag} runs a shell command written into the config instead of a published program.`,
      });
      if (runner === 'pnpm dlx') continue;
      takeValue();
      continue;
    }
    if (syntax.packageOptions.has(flag as string)) {
      packageOption ??= takeValue();
      continue;
    }
    if (syntax.valueOptions.has(flag as string)) {
      takeValue();
      continue;
    }
    if (arg.startsWith('-')) continue;
    positional = arg;
    break;
  }
  const raw = packageOption ?? positional;
  if (raw === null) return null;
  const ecosystem = runner === 'uvx' || runner === 'pipx run' ? 'pypi' : 'npm';
  const spec = ecosystem === 'pypi' ? parsePypiSpec(raw) : parseNpmSpec(raw);
  if (spec.problem) warnings.push({ code: 'unpinned_package', message: `${runner}: ${spec.problem}` });
  return { ecosystem, via: runner, package: spec.package, version: spec.version, pinned: spec.pinned };
}

/** `docker run … ghcr.io/x/y:tag`: an image is only pinned by digest. */
function containerImage(args: readonly string[]): string | null {
  if (args[0] !== 'run' && !(args[0] === 'container' && args[1] === 'run')) return null;
  const rest = args.slice(args[0] === 'run' ? 1 : 2);
  const booleans =
    /^(-[itdq]+|--rm|--init|--privileged|--read-only|--interactive|--tty|--detach|--quiet|--no-healthcheck|--oom-kill-disable|--sig-proxy)$/;
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index] as string;
    if (!arg.startsWith('-')) return arg;
    if (arg.includes('=') || booleans.test(arg)) continue;
    index++;
  }
  return null;
}

const wrappers = new Set(['nohup', 'nice', 'ionice', 'timeout', 'stdbuf', 'setsid', 'time', 'sudo', 'doas', 'exec']);

/**
 * Walks the command line the way the OS would run it: through wrappers (`env`, `sudo`,
 * `uv run`, …) to the program that really starts, collecting what each layer adds.
 */
export function analyzeCommand(command: string, args: readonly string[]): CommandAnalysis {
  const warnings: ArgWarning[] = [];
  redactArgs(args).forEach((arg, index) => {
    if (arg === args[index]) return;
    warnings.push({
      code: 'literal_secret_arg',
      message: `Argument ${index + 1} carries a literal secret (shown as ${REDACTED}); anyone on this machine can read command lines in the process list, so pass it through env with a \${VAR} reference instead.`,
    });
  });
  const { provenance, script } = analyzeLayer(command, args, warnings, 0);
  return { warnings: dedupe(warnings), provenance, script };
}

function analyzeLayer(
  command: string,
  args: readonly string[],
  warnings: ArgWarning[],
  depth: number,
): { provenance: ArgProvenance | null; script: string | null } {
  const name = programName(command);
  const shown = (list: readonly string[]) => redactArgs(list).join(' ');
  const inner = depth < 4 ? innerCommand(name, args, warnings) : null;
  // A wrapper's own options are judged here; what follows the wrapped program is judged with it.
  const own = inner ? args.slice(0, inner.start) : args;

  if (shells.has(name)) {
    warnings.push({
      code: 'shell_interpreter',
      message: `The command is the shell "${name}": what it runs is decided by its arguments or script, not by a program you can pin.`,
    });
  }
  const scan = scanInterpreter(name, args);
  if (scan.inline !== null) {
    warnings.push({
      code: 'inline_eval',
      message: `"${name} ${redactArgs([scan.inline])[0]}" runs code written inline in the arguments (${truncate(shown(args))}) rather than an installed program.`,
    });
  }
  if (scan.remote !== null) {
    warnings.push({
      code: 'unpinned_package',
      message: `"${name}" runs a script downloaded from ${redactUrlForDisplay(scan.remote)} every time it starts; its content can change after you approve.`,
    });
  }
  for (const reason of dangerousFlags(name, own)) {
    warnings.push({ code: 'dangerous_flag', message: `${reason} (in: ${truncate(`${name} ${shown(own)}`)}).` });
  }

  const runner = packageRunner(name, args);
  let provenance = runner ? analyzeRunner(runner, warnings) : null;
  const image = name === 'docker' || name === 'podman' ? containerImage(args) : null;
  if (image !== null && !image.includes('@sha256:')) {
    warnings.push({
      code: 'unpinned_package',
      message: `The container image "${image}" is not pinned by digest, so whoever can push to it decides what runs; use ${image.replace(/:[^/:]*$/, '')}@sha256:<digest>.`,
    });
  }
  let script = scan.script;
  if (inner) {
    const nested = analyzeLayer(inner.command, inner.args, warnings, depth + 1);
    provenance ??= nested.provenance;
    script ??= nested.script;
  }
  return { provenance, script };
}

/** The program a wrapper starts, so `env LD_PRELOAD=… node -e …` is judged as `node -e …`. */
function innerCommand(
  name: string,
  args: readonly string[],
  warnings: ArgWarning[],
): { command: string; args: string[]; start: number } | null {
  let rest = [...args];
  if (name === 'env') {
    const assignments: Array<{ name: string; value: string }> = [];
    while (rest.length > 0) {
      const arg = rest[0] as string;
      if (arg === '-S' || arg.startsWith('--split-string')) {
        warnings.push({
          code: 'inline_eval',
          message: `"env ${arg}" splits a string into a new command line written inline in the arguments.`,
        });
        return null;
      }
      if (arg === '-u' || arg === '--unset' || arg === '-C' || arg === '--chdir') rest = rest.slice(2);
      else if (arg.startsWith('-')) rest = rest.slice(1);
      else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(arg)) {
        const [key = '', value = ''] = arg.split(/=(.*)/s);
        assignments.push({ name: key, value });
        rest = rest.slice(1);
      } else break;
    }
    // A literal secret here is already reported as an argument; only the overrides are new.
    warnings.push(...environmentWarnings(assignments, 'The "env" wrapper in the arguments', { secrets: false }));
  } else if (wrappers.has(name)) {
    while (rest.length > 0 && (rest[0] as string).startsWith('-')) {
      const flag = rest[0] as string;
      rest = rest.slice(/^-(n|u|g|s|k|c|o|e|i|p|C|h|D|r|t|U)$/.test(flag) ? 2 : 1);
    }
    if (name === 'timeout' && rest.length > 0) rest = rest.slice(1);
  } else if (name === 'uv' && rest[0] === 'run') {
    rest = rest.slice(1);
    while (rest.length > 0 && (rest[0] as string).startsWith('-')) {
      const flag = rest[0] as string;
      const takesValue =
        !flag.includes('=') && /^(--(with|python|project|directory|env-file|package|index|extra|group)|-p)/.test(flag);
      rest = rest.slice(takesValue ? 2 : 1);
    }
  } else {
    return null;
  }
  if (rest.length === 0) return null;
  return { command: rest[0] as string, args: rest.slice(1), start: args.length - rest.length + 1 };
}

function truncate(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function dedupe(warnings: ArgWarning[]): ArgWarning[] {
  const seen = new Set<string>();
  return warnings.filter((warning) => {
    const key = `${warning.code}\n${warning.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
