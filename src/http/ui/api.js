// The page talks to the JSON API with the owner's token as a bearer header. Nothing is kept in
// cookies, so a third-party page cannot make the browser act for the owner (no CSRF surface).

const storageKey = 'countersign.token';

/** The API lives one level above the page (`/ui/` → `/`), so the page also works under a path prefix. */
const apiBase = new URL('../', document.baseURI);

export const session = {
  get token() {
    return sessionStorage.getItem(storageKey);
  },
  save(token) {
    sessionStorage.setItem(storageKey, token);
  },
  forget() {
    sessionStorage.removeItem(storageKey);
  },
};

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function requestInit(method, body, signal, token) {
  const headers = { accept: 'application/json', authorization: `Bearer ${token ?? session.token ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
    signal,
  };
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: fall back to the status line.
  }
  const error = body && typeof body === 'object' && body.error ? body.error : {};
  return new ApiError(
    response.status,
    typeof error.code === 'string' ? error.code : `http_${response.status}`,
    typeof error.message === 'string' ? error.message : `The server answered ${response.status}.`,
    error,
  );
}

/** `api('GET', 'v1/proposals', undefined, { token })` → parsed JSON, or throws ApiError with the server's code and sentence. */
export async function api(method, path, body, options = {}) {
  let response;
  try {
    response = await fetch(new URL(path, apiBase), requestInit(method, body, options.signal, options.token));
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'The countersign server could not be reached.');
  }
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

/**
 * Reads `GET /v1/events` with fetch streaming (EventSource cannot send an Authorization header)
 * and calls onEvent(name, data) for each event. Resolves when the stream ends; rejects on errors.
 */
export async function streamEvents(onEvent, { signal, onOpen } = {}) {
  const response = await fetch(new URL('v1/events', apiBase), {
    ...requestInit('GET', undefined, signal),
    headers: { accept: 'text/event-stream', authorization: `Bearer ${session.token ?? ''}` },
  });
  if (!response.ok || !response.body) throw await errorFrom(response);
  onOpen?.();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') name = text;
        else if (field === 'data') data.push(text);
      }
      if (data.length === 0) continue;
      try {
        onEvent(name, JSON.parse(data.join('\n')));
      } catch {
        // A malformed event is skipped; the next one still counts.
      }
    }
  }
}
