import { type BigIntStats, lstatSync } from 'node:fs';
import { sha256 } from '../core/hash.js';
import type { JsonObject } from '../core/json.js';
import { readDocumentText } from '../store/document-file.js';
import { statement } from '../store/statements.js';
import type { Service, TargetRuntime } from './context.js';
import { currentDocument, resolveTarget } from './document.js';
import { redactedDocument } from './secrets.js';

/**
 * `GET /v1/config` as the bytes it sends. `etag` is a digest of `body`: the body is already
 * redacted and carries only the keyed document hash, so the validator tells a caller nothing
 * its own copy of the body does not, and a guessed document or secret cannot be tested against it.
 */
export type ConfigView = { target: string; hash: string; body: string; etag: string };

/** What identifies one version of the file without reading it (inode, size and both clocks, in ns). */
type Stamp = { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint };

type Entry = {
  stamp: Stamp;
  /** The text the view was computed from: compared while the stamp is too young to trust alone. */
  text: string;
  view: ConfigView;
  /** False while the file is young enough that a rewrite could still leave its stamp unchanged. */
  settled: boolean;
};

/**
 * Timestamps come from a coarse kernel clock (a few ms on Linux, 2 s on FAT, the server's clock
 * on NFS): a rewrite of the same size inside one tick leaves the stamp unchanged. As git does
 * with its "racily clean" index entries, a stamp younger than this is not trusted alone: the
 * text is read and compared until the file has been still for that long. Exported for tests.
 */
export const configViewTuning = { settleMs: 2000 };

const views = new WeakMap<TargetRuntime, Entry>();

function stampOf(stats: BigIntStats): Stamp {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs };
}

function sameStamp(a: Stamp, b: Stamp): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** The wall clock (never the service's test clock): it is compared with the file system's. */
function settled(stamp: Stamp): boolean {
  // ctime alone would do where the file system keeps it (every write moves it to now); mtime too for the rest.
  const before = BigInt(Date.now() - configViewTuning.settleMs) * 1_000_000n;
  return stamp.mtimeNs < before && stamp.ctimeNs < before;
}

/** The stamp of a regular file, or null (symlink, missing): then the uncached path fails as it always did. */
function stampNow(path: string): Stamp | null {
  try {
    const stats = lstatSync(path, { bigint: true });
    return stats.isFile() ? stampOf(stats) : null;
  } catch {
    return null;
  }
}

function lastHash(service: Service, name: string): string | undefined {
  const row = statement(service.db, 'SELECT last_hash FROM targets WHERE name = ?').get(name) as
    | { last_hash: string }
    | undefined;
  return row?.last_hash;
}

/** `GET /v1/config`'s answer for a document as read: its target, its hash, its secrets redacted. */
function configOf(target: TargetRuntime, current: { value: JsonObject; hash: string }) {
  return { target: target.name, hash: current.hash, config: redactedDocument(target, current.value, current.hash) };
}

/** The same answer read, parsed and redacted afresh, with no cache: what the route did before issue 14 (bench/). */
export function uncachedConfig(service: Service, name: string | undefined) {
  const target = resolveTarget(service, name);
  return configOf(target, currentDocument(service, target));
}

/**
 * The redacted document of `target` as `GET /v1/config` sends it, computed again only when the
 * file's stamp or the hash the service last recorded for it moved. The stamp catches every outside
 * edit (drift is then recorded exactly as before: the uncached path is `currentDocument`); the
 * recorded hash catches every write the service makes, whatever path made it. Redaction depends
 * on the target's policy alone, never on the caller, so one body serves owners and agents alike.
 */
export function readConfigView(service: Service, name: string | undefined): ConfigView {
  const target = resolveTarget(service, name);
  // Stat before reading: a write between the two leaves an old stamp on new text, which only costs a recompute.
  const stamp = stampNow(target.path);
  const known = views.get(target);
  if (known && stamp && sameStamp(known.stamp, stamp) && lastHash(service, target.name) === known.view.hash) {
    if (known.settled) return known.view;
    // The stamp alone could miss a same-tick rewrite: compare the text (a read, no parse, hash or redaction).
    if (currentText(target.path) === known.text) {
      known.settled = settled(stamp);
      return known.view;
    }
  }
  const current = currentDocument(service, target);
  const body = JSON.stringify(configOf(target, current));
  const view: ConfigView = { target: target.name, hash: current.hash, body, etag: `"${sha256(body).slice(7)}"` };
  // Remembered only when the service recorded this hash (it could not while the database is unwritable).
  if (stamp && lastHash(service, target.name) === current.hash) {
    views.set(target, { stamp, text: current.text, view, settled: settled(stamp) });
  } else {
    views.delete(target);
  }
  return view;
}

function currentText(path: string): string | null {
  try {
    return readDocumentText(path);
  } catch {
    return null;
  }
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
