import { randomBytes } from 'node:crypto';
import { deepEqual, isIdKeyed, isObject, type Json, type JsonObject } from './json.js';
import { child, element, formatPath, type Path, type Segment } from './path.js';
import type { Pattern } from './pattern.js';
import { isRedactedPath, REDACTED } from './redact.js';

/**
 * Where secrets go. Before a patch is applied, every value the current document keeps at a
 * redacted path (of any JSON type: a numeric password is as secret as a string token) is
 * swapped for an unforgeable marker. The patch then runs on the marked document, so the result
 * says exactly where each secret of the document ended up — kept in place, copied or moved —
 * without ever comparing a secret with anything the proposer wrote. That is what closes the
 * oracles: a guess written anywhere is just the proposer's own value, never "equal to the
 * secret", and a `test` against a secret can only ever fail.
 *
 * "Soft" secrets are values policy does not redact by path but the service recognises as
 * secrets by their content (an API key among an MCP server's `args`); they travel as markers too.
 */
export type Secret = {
  path: Path;
  value: Json;
  soft: boolean;
  /** For a soft secret: the list element before it, which may be what made it recognisable (`--password`, then the secret). */
  context?: Json | undefined;
};

export type MarkedDocument = {
  /** The document with every secret replaced by its marker; untouched subtrees are shared. */
  document: JsonObject;
  /** Marker text → the secret it stands for. */
  secrets: Map<string, Secret>;
  prefix: string;
};

/** Decides, for a list of strings at `path`, which elements are secrets by their content. */
export type SoftSecrets = (path: Path, list: readonly Json[]) => readonly number[];

export const noSoftSecrets: SoftSecrets = () => [];

/** A private-use code point and a random nonce: no agent can write a marker it has not been shown, and none is shown. */
function markerPrefix(nonce?: string): string {
  return `\u{10FFFD}countersign-secret:${nonce ?? randomBytes(12).toString('hex')}:`;
}

export function markSecrets(
  patterns: readonly Pattern[],
  document: JsonObject,
  softSecrets: SoftSecrets = noSoftSecrets,
  nonce?: string,
): MarkedDocument {
  const prefix = markerPrefix(nonce);
  const secrets = new Map<string, Secret>();
  const mark = (value: Json, path: Path, soft: boolean, context?: Json): string => {
    const marker = `${prefix}${secrets.size}`;
    secrets.set(marker, soft ? { path, value, soft, context } : { path, value, soft });
    return marker;
  };
  const walk = (value: Json, path: Path): Json => {
    if (path.length > 0 && isRedactedPath(patterns, path)) return mark(value, path, false);
    if (Array.isArray(value)) {
      const byId = isIdKeyed(value);
      const soft = byId ? [] : softSecrets(path, value);
      let changed = false;
      const result: Json[] = [];
      value.forEach((item, index) => {
        const at = element(path, byId ? { id: (item as JsonObject).id as string } : { index });
        // The context is the element before, as it will stand in the marked document.
        const marked = soft.includes(index) ? mark(item, at, true, result[index - 1]) : walk(item, at);
        changed ||= marked !== item;
        result.push(marked);
      });
      return changed ? result : value;
    }
    if (isObject(value)) {
      let result: JsonObject | null = null;
      for (const key of Object.keys(value)) {
        const item = value[key] as Json;
        const marked = walk(item, child(path, key));
        if (marked !== item) {
          result ??= { ...value };
          result[key] = marked;
        }
      }
      return result ?? value;
    }
    return value;
  };
  return { document: walk(document, []) as JsonObject, secrets, prefix };
}

export function isMarker(marked: MarkedDocument, value: unknown): value is string {
  return typeof value === 'string' && marked.secrets.has(value);
}

/** `value` with every marker replaced by `replace(secret)`; containers without markers are returned as they are. */
export function mapMarkers(marked: MarkedDocument, value: Json, replace: (secret: Secret) => Json): Json {
  if (typeof value === 'string') {
    const secret = marked.secrets.get(value);
    return secret === undefined ? value : replace(secret);
  }
  if (Array.isArray(value)) {
    let changed = false;
    const result = value.map((item) => {
      const mapped = mapMarkers(marked, item, replace);
      changed ||= mapped !== item;
      return mapped;
    });
    return changed ? result : value;
  }
  if (isObject(value)) {
    let result: JsonObject | null = null;
    for (const key of Object.keys(value)) {
      const item = value[key] as Json;
      const mapped = mapMarkers(marked, item, replace);
      if (mapped !== item) {
        result ??= { ...value };
        result[key] = mapped;
      }
    }
    return result ?? value;
  }
  return value;
}

/** The real value: every marker back to the secret it stands for. */
export function unmark(marked: MarkedDocument, value: Json): Json {
  return mapMarkers(marked, value, (secret) => secret.value);
}

/** As an owner, an agent or a log may see it: every secret of the document is the placeholder. */
export function veil(marked: MarkedDocument, value: Json): Json {
  return mapMarkers(marked, value, () => REDACTED);
}

export function containsMarker(marked: MarkedDocument, value: Json): boolean {
  if (typeof value === 'string') return marked.secrets.has(value);
  if (Array.isArray(value)) return value.some((item) => containsMarker(marked, item));
  if (isObject(value)) return Object.values(value).some((item) => containsMarker(marked, item));
  return false;
}

/** A marker found in the proposed document, and where. */
export type Placement = { path: Path; secret: Secret };

/**
 * Every secret of the base found in `result` somewhere other than where it was. Subtrees the
 * patch did not touch are the marked base's own objects and are skipped without a walk.
 */
export function movedSecrets(marked: MarkedDocument, result: JsonObject): Placement[] {
  const found: Placement[] = [];
  const walk = (before: Json | undefined, after: Json, path: Path): void => {
    if (before === after) return;
    if (typeof after === 'string') {
      const secret = marked.secrets.get(after);
      if (secret !== undefined && !samePath(secret.path, path) && !softStaysInList(secret, path)) {
        found.push({ path, secret });
      }
      return;
    }
    for (const next of inStep(before, after, path)) walk(next.before, next.after, next.path);
  };
  walk(marked.document, result, []);
  return found;
}

/**
 * The children of `after` (list elements in order, then object members in order) with their
 * paths and their counterparts in `before`, by id in id-keyed lists: what a walk of the patched
 * document descends into, so that it can skip every child identical to the base's own.
 */
function inStep(
  before: Json | undefined,
  after: Json,
  path: Path,
): Array<{ before: Json | undefined; after: Json; path: Path }> {
  if (Array.isArray(after)) {
    const byId = isIdKeyed(after);
    return after.map((item, index) => ({
      before: counterpartOf(before, after, index, byId),
      after: item,
      path: element(path, byId ? { id: (item as JsonObject).id as string } : { index }),
    }));
  }
  if (!isObject(after)) return [];
  return Object.keys(after).map((key) => ({
    before: isObject(before) ? before[key] : undefined,
    after: after[key] as Json,
    path: child(path, key),
  }));
}

function counterpartOf(before: Json | undefined, after: Json[], index: number, byId: boolean): Json | undefined {
  // A list that became keyed by id, or stopped being so, gives its elements new paths: no shortcut.
  if (!Array.isArray(before) || isIdKeyed(before) !== byId) return undefined;
  if (!byId) return before[index];
  const id = (after[index] as JsonObject).id;
  return before.find((item) => isObject(item) && item.id === id);
}

function sameSegment(a: Segment, b: Segment): boolean {
  return a.key === b.key && a.id === b.id && a.index === b.index;
}

export function samePath(a: Path, b: Path): boolean {
  return a.length === b.length && a.every((segment, index) => sameSegment(segment, b[index] as Segment));
}

/** A content-recognised secret shifted within its own list (an argument inserted before it) has not gone anywhere new. */
function softStaysInList(secret: Secret, path: Path): boolean {
  if (!secret.soft || secret.path.length !== path.length) return false;
  const last = path.length - 1;
  const a = secret.path[last] as Segment;
  const b = path[last] as Segment;
  return (
    a.key === b.key &&
    a.index !== undefined &&
    b.index !== undefined &&
    samePath(secret.path.slice(0, last), path.slice(0, last))
  );
}

/** A path for messages: a secret that became an id must not be spelled out in the path either. */
export function formatVeiledPath(marked: MarkedDocument, path: Path): string {
  return formatPath(
    path.map((segment) =>
      segment.id !== undefined && marked.secrets.has(segment.id) ? { ...segment, id: REDACTED } : segment,
    ),
  );
}

/**
 * Trusted documents (a rollback to a document the service itself wrote) carry real secrets:
 * where one equals the current secret at the same path, it is that secret, kept.
 */
export function remarkUnchanged(
  patterns: readonly Pattern[],
  marked: MarkedDocument,
  document: JsonObject,
): JsonObject {
  const byPath = new Map<string, string>();
  for (const [marker, secret] of marked.secrets) byPath.set(formatPath(secret.path), marker);
  const walk = (value: Json, path: Path): Json => {
    const marker = byPath.get(formatPath(path));
    if (marker !== undefined && deepEqual(value, (marked.secrets.get(marker) as Secret).value)) return marker;
    if (path.length > 0 && isRedactedPath(patterns, path)) return value;
    if (Array.isArray(value)) {
      const byId = isIdKeyed(value);
      return value.map((item, index) =>
        walk(item, element(path, byId ? { id: (item as JsonObject).id as string } : { index })),
      );
    }
    if (isObject(value)) {
      const result: JsonObject = {};
      for (const key of Object.keys(value)) result[key] = walk(value[key] as Json, child(path, key));
      return result;
    }
    return value;
  };
  return walk(document, []) as JsonObject;
}

/**
 * A soft secret is recognised by its content and by the element before it (`--password`, then
 * the secret). If a change rewrote that element, the secret would sit in the new document where
 * nothing recognises it, and the next config read would show it. So the element before every
 * soft secret must stay as it was — a rule about positions, never about the secret's value.
 * Returns the path of the first secret whose context changed.
 */
export function softContextChanged(marked: MarkedDocument, result: JsonObject): Path | null {
  let found: Path | null = null;
  const walk = (before: Json | undefined, after: Json, path: Path): void => {
    if (found !== null || before === after) return;
    inStep(before, after, path).forEach((next, index) => {
      // Every element of a list is checked, untouched ones too: the one before it may have changed.
      const secret =
        Array.isArray(after) && typeof next.after === 'string' ? marked.secrets.get(next.after) : undefined;
      if (found === null && secret?.soft && !deepEqual((after as Json[])[index - 1], secret.context)) {
        found = element(path, { index });
      }
      walk(next.before, next.after, next.path);
    });
  };
  walk(marked.document, result, []);
  return found;
}
