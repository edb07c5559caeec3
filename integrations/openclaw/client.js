// A thin countersign HTTP client over Node's global fetch: no dependencies, so the
// plugin loads straight from a checkout or the npm package without a build step.

/** @typedef {{ url: string, token: string }} Endpoint */

/** Thrown for any answer countersign gives that is not a 2xx: carries its error code and message. */
export class CountersignError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/**
 * One JSON request. `signal` lets OpenClaw's cancellation (tool abort, hook abort)
 * end a long poll instead of leaving it hanging on countersign.
 */
export async function call(endpoint, method, path, body, signal) {
  const response = await fetch(new URL(path, endpoint.url), {
    method,
    headers: {
      authorization: `Bearer ${endpoint.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = parsed?.error ?? {};
    throw new CountersignError(
      response.status,
      error.code ?? `http_${response.status}`,
      error.message ?? (text.slice(0, 200) || response.statusText),
      parsed,
    );
  }
  return { status: response.status, body: parsed };
}

/**
 * Settings as OpenClaw hands them over. A SecretRef token is resolved by OpenClaw
 * before the plugin sees it (manifest `configContracts.secretInputs`); an object
 * here means it was not, and the plugin refuses to guess.
 */
export function readSettings(raw) {
  const config = raw ?? {};
  const url = typeof config.url === 'string' && config.url ? config.url : 'http://127.0.0.1:7070';
  const token = typeof config.token === 'string' ? config.token : null;
  const execGate = config.execGate === true;
  const timeoutSeconds =
    Number.isInteger(config.timeoutSeconds) && config.timeoutSeconds > 0 ? Math.min(config.timeoutSeconds, 120) : 50;
  return { url: url.endsWith('/') ? url : `${url}/`, token, execGate, timeoutSeconds };
}
