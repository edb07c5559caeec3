import { REDACTED } from '../redact.js';
import { isLiteralSecret, isLiteralSecretHeader, redactArgs } from './secrets.js';
import type { ArgWarning } from './types.js';

/**
 * Environment variables that change which code a program runs or whom it trusts, whatever the
 * command line says; and literal secrets written into an environment.
 */

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
