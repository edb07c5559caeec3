import { sha256 } from '../core/hash.js';
import type { JsonObject } from '../core/json.js';
import type { Service, TargetRuntime } from './context.js';
import { currentDocument, resolveTarget } from './document.js';
import { redactedDocument } from './secrets.js';

/**
 * `GET /v1/config` as the bytes it sends. `etag` is a digest of `body`: the body is already
 * redacted and carries only the keyed document hash, so the validator tells a caller nothing
 * its own copy of the body does not, and a guessed document or secret cannot be tested against it.
 */
export type ConfigView = { target: string; hash: string; body: string; etag: string };

const views = new WeakMap<TargetRuntime, ConfigView>();

/** `GET /v1/config`'s answer for a document as read: its target, its hash, its secrets redacted. */
function configOf(target: TargetRuntime, current: { value: JsonObject; hash: string }) {
  return { target: target.name, hash: current.hash, config: redactedDocument(target, current.value, current.hash) };
}

/** The same answer built afresh from a fresh read of the file, with no cache: what the route did before issue 14 (bench/). */
export function uncachedConfig(service: Service, name: string | undefined) {
  const target = resolveTarget(service, name);
  return configOf(target, currentDocument(service, target, { fresh: true }));
}

/**
 * The redacted document of `target` as `GET /v1/config` sends it, serialised again only when the
 * document's hash moved. `currentDocument` reads the file only when its stamp moved and records
 * any outside edit as drift, exactly as for a proposal. Redaction depends on the target's policy
 * alone, never on the caller, so one body serves owners and agents alike.
 */
export function readConfigView(service: Service, name: string | undefined): ConfigView {
  const target = resolveTarget(service, name);
  const current = currentDocument(service, target);
  const known = views.get(target);
  if (known?.hash === current.hash) return known;
  const body = JSON.stringify(configOf(target, current));
  const view: ConfigView = { target: target.name, hash: current.hash, body, etag: `"${sha256(body).slice(7)}"` };
  views.set(target, view);
  return view;
}

/**
 * RFC 9110 §13.1.2: `If-None-Match` matches when it is `*` or lists the current tag, compared
 * weakly (a `W/` prefix is ignored). Anything malformed matches nothing, so the full body is sent.
 * Not jshttp's `fresh`: it answers "stale" to any request carrying `Cache-Control: no-cache`, and
 * `fetch` adds exactly that to every request with `If-None-Match`, so no agent using fetch would
 * ever get a 304; a conditional request is itself the revalidation no-cache asks for.
 */
export function noneMatch(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value.trim() === '*') return true;
  for (const raw of value.split(',')) {
    const tag = raw.trim().replace(/^W\//, '');
    if (tag === etag) return true;
  }
  return false;
}
