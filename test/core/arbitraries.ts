/**
 * Shared fast-check generators and reference helpers for the core tests. Not a test file itself
 * (vitest only collects `*.test.ts`).
 */
import fc from 'fast-check';
import type { Leaf } from '../../src/core/diff.js';
import { isIdKeyed, isObject, type Json, type JsonObject } from '../../src/core/json.js';
import type { Operation } from '../../src/core/operations.js';
import type { Path, Segment } from '../../src/core/path.js';

/** Keys a real config has, plus the awkward ones SPEC §2 says must stay intact. */
export const keyPool = [
  'model',
  'mode',
  'sandbox',
  'token',
  'enabled',
  'list',
  'env',
  'servers',
  'name',
  'a.b',
  'x/y',
  'with space',
  'til~de',
  '~1',
  'a~0b',
  '0',
  '',
] as const;

export const idPool = ['main', 'ops', 'a.b', 'x/y', 'with space', '~', '1'] as const;

export const keyArb = fc.constantFrom(...keyPool);
export const idArb = fc.constantFrom(...idPool);

export const scalarArb: fc.Arbitrary<Json> = fc.oneof(
  fc.boolean(),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom('all', 'off', 'on', 'x', ''),
  fc.string({ maxLength: 4 }),
  fc.constant(null),
);

export type Shape = { value: fc.Arbitrary<Json>; object: fc.Arbitrary<JsonObject>; array: fc.Arbitrary<Json[]> };

function objectFrom(entries: Array<[string, Json]>): JsonObject {
  return Object.fromEntries(entries) as JsonObject;
}

/**
 * Config-like trees: nested objects, id-keyed arrays of objects, arrays of scalars, arrays of
 * id-less objects, arrays with duplicate ids, and empty containers. Memoised per depth so the
 * arbitrary graph stays linear in `depth`.
 */
export function shapes(depth: number, options: { idKeyed?: boolean; objectKeys?: fc.Arbitrary<string> } = {}): Shape {
  const idKeyed = options.idKeyed ?? true;
  const keys = options.objectKeys ?? keyArb;
  const memo = new Map<number, Shape>();
  const at = (d: number): Shape => {
    const known = memo.get(d);
    if (known) return known;
    const inner = d > 0 ? at(d - 1) : null;
    const value: fc.Arbitrary<Json> = inner
      ? fc.oneof(
          { weight: 3, arbitrary: scalarArb },
          { weight: 2, arbitrary: inner.object },
          { weight: 1, arbitrary: inner.array },
        )
      : scalarArb;
    const object: fc.Arbitrary<JsonObject> = fc
      .uniqueArray(fc.tuple(keys, value), { selector: (entry) => entry[0], maxLength: 4 })
      .map(objectFrom);
    const elementObject: fc.Arbitrary<JsonObject> = inner ? inner.object : fc.constant({});
    const withoutId = elementObject.map((o) => {
      const { id: _drop, ...rest } = o;
      return rest as JsonObject;
    });
    const arrays: Array<fc.Arbitrary<Json[]>> = [
      fc.array(scalarArb, { minLength: 1, maxLength: 4 }),
      fc.array(withoutId, { minLength: 1, maxLength: 3 }),
      fc.constant([]),
      // duplicate ids: never id-keyed
      fc.tuple(idArb, withoutId, withoutId).map(([id, a, b]) => [
        { ...a, id },
        { ...b, id },
      ]),
      // one element without a string id spoils the whole array
      fc.tuple(idArb, withoutId, fc.integer()).map(([id, a, n]) => [{ ...a, id }, { id: n }]),
    ];
    if (idKeyed) {
      arrays.push(
        fc
          .uniqueArray(fc.tuple(idArb, withoutId), { selector: (entry) => entry[0], minLength: 1, maxLength: 4 })
          .map((entries) => entries.map(([id, rest]) => ({ id, ...rest }))),
      );
      arrays.push(
        fc
          .uniqueArray(fc.tuple(idArb, withoutId), { selector: (entry) => entry[0], minLength: 1, maxLength: 4 })
          .map((entries) => entries.map(([id, rest]) => ({ id, ...rest }))),
      );
    }
    const array = fc.oneof(...arrays);
    const shape = { value, object, array };
    memo.set(d, shape);
    return shape;
  };
  return at(depth);
}

export const documentArb = (depth = 3) => shapes(depth).object;

/** Deterministic pseudo-random source driven by a fast-check seed, for structural edits. */
export function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function shuffle<T>(random: () => number, items: T[]): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

/**
 * Every id-keyed array reachable through objects and id-keyed arrays shuffled; nothing else
 * touched. Arrays inside a plain (non-id-keyed) array are left alone: the plain array is one
 * leaf compared by value, so reordering anything inside it is a change to it.
 */
export function shuffleIdKeyed(value: Json, random: () => number): Json {
  if (Array.isArray(value)) {
    if (!isIdKeyed(value)) return value;
    return shuffle(
      random,
      value.map((item) => shuffleIdKeyed(item, random)),
    );
  }
  if (isObject(value)) {
    return objectFrom(Object.entries(value).map(([key, item]) => [key, shuffleIdKeyed(item, random)]));
  }
  return value;
}

/**
 * A plausible edit of `value`: keys kept/changed/removed/added, id-keyed elements edited,
 * dropped, added and reordered, scalars replaced, types switched. `pool` supplies new values.
 */
export function mutate(value: Json, random: () => number, pool: readonly Json[]): Json {
  const fresh = () => (pool.length > 0 ? structuredClone(pick(random, pool)) : random() < 0.5);
  const roll = random();
  if (roll < 0.08) return fresh();
  if (isObject(value)) {
    const entries: Array<[string, Json]> = [];
    for (const [key, item] of Object.entries(value)) {
      const r = random();
      if (r < 0.15) continue; // removed
      entries.push([key, r < 0.55 ? item : mutate(item, random, pool)]);
    }
    if (random() < 0.3) {
      const key = pick(random, keyPool);
      if (!entries.some(([k]) => k === key)) entries.push([key, fresh()]);
    }
    return objectFrom(entries);
  }
  if (Array.isArray(value)) {
    if (isIdKeyed(value) && value.length > 0 && random() < 0.85) {
      let items: JsonObject[] = [];
      for (const item of value) {
        const r = random();
        if (r < 0.2) continue;
        if (r < 0.6) items.push(item);
        else {
          const edited = mutate(item, random, pool);
          items.push(isObject(edited) ? { ...edited, id: item.id as string } : item);
        }
      }
      if (random() < 0.4) {
        const id = pick(random, idPool);
        if (!items.some((item) => item.id === id)) {
          const extra = fresh();
          items.push(isObject(extra) ? { ...extra, id } : { id, value: extra });
        }
      }
      if (random() < 0.5) items = shuffle(random, items);
      return items;
    }
    if (random() < 0.5) return value.map((item) => (random() < 0.3 ? mutate(item, random, pool) : item));
    return random() < 0.5 ? [...value, fresh()] : value.slice(1);
  }
  return roll < 0.4 ? fresh() : value;
}

/** Before/after pairs sharing most of their structure. */
export const documentPairArb = (depth = 3): fc.Arbitrary<[JsonObject, JsonObject]> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(documentArb(depth), fc.integer(), fc.array(shapes(2).value, { maxLength: 6 }), fc.boolean())
        .map(([before, seed, pool, reorder]): [JsonObject, JsonObject] => {
          const random = rng(seed);
          const edited = mutate(before, random, pool);
          const after = reorder ? shuffleIdKeyed(edited, random) : edited;
          return [before, isObject(after) ? after : {}];
        }),
    },
    { weight: 1, arbitrary: fc.tuple(documentArb(depth), documentArb(depth)) },
  );

/** Reference: every leaf inside `value` per SPEC §2 (id-keyed arrays by id, other arrays whole). */
export function leavesOf(value: Json, path: Path = []): Array<{ path: Path; value: Json }> {
  if (isObject(value) && (Object.keys(value).length > 0 || path.length === 0)) {
    return Object.entries(value).flatMap(([key, item]) => leavesOf(item, [...path, { key }]));
  }
  if (Array.isArray(value) && value.length > 0 && isIdKeyed(value)) {
    const last = path[path.length - 1] as Segment;
    return value.flatMap((item) => leavesOf(item, [...path.slice(0, -1), { key: last.key, id: item.id as string }]));
  }
  return [{ path, value }];
}

/** Reference resolver of a semantic path (key segments, id segments, index segments). */
export function valueAt(document: Json, path: Path): Json | undefined {
  let current: Json | undefined = document;
  for (const segment of path) {
    if (current === undefined) return undefined;
    const isElement = segment.id !== undefined || segment.index !== undefined;
    // `{ key: '', id|index }` is an element of the array we are standing on (nested arrays);
    // otherwise the key is looked up first, even when it is the empty key.
    if (!(isElement && segment.key === '' && Array.isArray(current))) {
      if (!isObject(current) || !Object.hasOwn(current, segment.key)) return undefined;
      current = current[segment.key];
    }
    if (segment.id !== undefined) {
      if (!Array.isArray(current)) return undefined;
      current = current.find((item) => isObject(item) && item.id === segment.id);
    } else if (segment.index !== undefined) {
      if (!Array.isArray(current)) return undefined;
      current = current[segment.index];
    }
  }
  return current;
}

export const pathKey = (path: Path): string => JSON.stringify(path.map((s) => [s.key, s.id ?? null, s.index ?? null]));

export const leafKey = (leaf: Leaf): string => pathKey(leaf.path);

export const fcOptions = { numRuns: 300 } as const;

/** A deliberately naive, backtracking reference for the SPEC §3 pattern language. */
export function referenceMatch(pattern: string, path: Path): boolean {
  const parts = pattern.split('.');
  const glob = (text: string, value: string): boolean => {
    if (text === '') return value === '';
    if (text[0] === '*') return glob(text.slice(1), value) || (value !== '' && glob(text, value.slice(1)));
    return value !== '' && text[0] === value[0] && glob(text.slice(1), value.slice(1));
  };
  const one = (part: string, segment: Segment): boolean => {
    if (part === '*') return true;
    const isElement = segment.id !== undefined || segment.index !== undefined;
    const m = /^(.*)\[(?:id=(.+))?\]$/s.exec(part);
    if (m) {
      if (!isElement || !glob(m[1] ?? '', segment.key)) return false;
      return m[2] === undefined || segment.id === m[2];
    }
    return !isElement && glob(part, segment.key);
  };
  const go = (i: number, j: number): boolean => {
    if (i === parts.length) return j === path.length;
    if (parts[i] === '**') return go(i + 1, j) || (j < path.length && go(i, j + 1));
    return j < path.length && one(parts[i] as string, path[j] as Segment) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

// ---------------------------------------------------------------------------------------------
// Hostile proposals (issue 10): an agent that copies and moves between secret and visible
// places, guesses secrets literally (sometimes right), echoes placeholders and hides unicode
// controls in what it writes. Used by test/security/hostile.property.test.ts at the core level
// (planChange) and over HTTP.

/** One step of a place in a document: a key, an element of an id-keyed list, an index in a plain one. */
export type Step = string | { id: string } | { index: number };

/** Where the agent aims: pointers for RFC 6902, semantic places for merge patches and whole documents. */
export type HostileTerrain = {
  /** The document as the agent reads it (GET /v1/config): secrets shown as "[redacted]". */
  veiled: JsonObject;
  /** Redacted places, existing or not. */
  secretPointers: readonly string[];
  /** Objects and lists that hold secrets (or are about to). */
  containerPointers: readonly string[];
  /** Places that are not redacted. */
  visiblePointers: readonly string[];
  /** `id` members of id-keyed elements: renaming one changes which redact patterns apply. */
  idPointers: readonly string[];
  /** `…/-` ends of lists. */
  appendPointers: readonly string[];
  secretPlaces: readonly Step[][];
  visiblePlaces: readonly Step[][];
  /** Values the agent guesses: the document's real secrets belong here, next to wrong ones. */
  guesses: readonly Json[];
};

/** Terminal escapes, C1, DEL, bidi overrides and isolates, zero-width and line separators. */
export const hostileCharacters = [
  '\u0000',
  '\u0007',
  '\u001b[3A',
  '\u001b[2K',
  '\u001b]8;;https://x\u0007',
  '\r',
  '\n',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u202e',
  '\u202d',
  '\u2066',
  '\u2069',
  '\u200b',
  '\u200d',
  '\u2028',
  '\ufeff',
  '`',
  '**',
  '# ',
  '[x](http://a)',
  '|',
  '"',
  '\\',
] as const;

/**
 * A value only this agent could have written. It starts with a unique ASCII core (`agentlit<n>x`,
 * no markdown-special characters) so a test can find it on any surface whatever escaping the
 * rest of the string gets; `literalCore` extracts it.
 */
export const agentLiteralArb: fc.Arbitrary<string> = fc.oneof(
  fc.nat(999_999).map((n) => `agentlit${n}x`),
  fc
    .tuple(fc.nat(999_999), fc.array(fc.constantFrom(...hostileCharacters), { minLength: 1, maxLength: 5 }))
    .map(([n, parts]) => `agentlit${n}x${parts.join('')}tail`),
);

export function literalCore(value: string): string | null {
  return /^agentlit\d+x/.exec(value)?.[0] ?? null;
}

/** Strings a hostile agent writes that are not literals worth tracking: placeholders, markers' look-alikes, controls. */
const decoyArb: fc.Arbitrary<Json> = fc.oneof(
  fc.constant('[redacted]'),
  fc.constant('\u{10FFFD}countersign-secret:000000000000000000000000:0'),
  fc.array(fc.constantFrom(...hostileCharacters), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('')),
  fc.constantFrom<Json>(true, false, null, 0, '', {}, []),
);

/** What the agent writes: a guess (right or wrong), its own literal, a decoy, or a small object wrapping them. */
export function hostileValueArb(terrain: HostileTerrain): fc.Arbitrary<Json> {
  const guess = terrain.guesses.length > 0 ? fc.constantFrom(...terrain.guesses) : agentLiteralArb;
  const scalar: fc.Arbitrary<Json> = fc.oneof(
    { weight: 4, arbitrary: guess },
    { weight: 4, arbitrary: agentLiteralArb },
    { weight: 2, arbitrary: decoyArb },
  );
  return fc.oneof(
    { weight: 6, arbitrary: scalar },
    { weight: 1, arbitrary: fc.record({ token: scalar, apiKey: scalar, note: agentLiteralArb }) },
    { weight: 1, arbitrary: fc.record({ id: fc.constantFrom('main', 'ops', 'new'), secret: scalar, model: scalar }) },
    { weight: 1, arbitrary: fc.array(scalar, { minLength: 1, maxLength: 3 }) },
  );
}

function pointerArb(terrain: HostileTerrain): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...terrain.secretPointers) },
    { weight: 2, arbitrary: fc.constantFrom(...terrain.containerPointers) },
    { weight: 4, arbitrary: fc.constantFrom(...terrain.visiblePointers) },
    { weight: 1, arbitrary: fc.constantFrom(...terrain.idPointers) },
    { weight: 1, arbitrary: fc.constantFrom(...terrain.appendPointers) },
  );
}

/** RFC 6902 sequences mixing copies and moves between secret and visible places with writes, tests and removals. */
export function hostileOperationsArb(terrain: HostileTerrain): fc.Arbitrary<Operation[]> {
  const from = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...terrain.secretPointers) },
    { weight: 2, arbitrary: fc.constantFrom(...terrain.containerPointers) },
    { weight: 1, arbitrary: fc.constantFrom(...terrain.visiblePointers) },
    { weight: 1, arbitrary: fc.constantFrom(...terrain.idPointers) },
  );
  const to = pointerArb(terrain);
  const value = hostileValueArb(terrain);
  const operation: fc.Arbitrary<Operation> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('copy' as const), from, path: to }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('move' as const), from, path: to }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('add' as const), path: to, value }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('replace' as const), path: to, value }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('test' as const),
        path: fc.oneof(fc.constantFrom(...terrain.secretPointers), fc.constantFrom(...terrain.containerPointers)),
        value,
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), path: to }) },
  );
  return fc.array(operation, { minLength: 1, maxLength: 4 });
}

/** `value` set at `place` inside `document` (a copy); id steps find or append the element, index steps edit a plain list. */
export function setAt(document: Json, place: readonly Step[], value: Json | undefined): Json {
  if (place.length === 0) return value === undefined ? null : value;
  const [step, ...rest] = place as [Step, ...Step[]];
  if (typeof step === 'string') {
    const object: JsonObject = isObject(document) ? { ...document } : {};
    if (rest.length === 0 && value === undefined) delete object[step];
    else object[step] = setAt(object[step] as Json, rest, value);
    return object;
  }
  const list: Json[] = Array.isArray(document) ? [...document] : [];
  if ('id' in step) {
    const index = list.findIndex((item) => isObject(item) && item.id === step.id);
    const current = index === -1 ? { id: step.id } : list[index];
    if (rest.length === 0 && value === undefined) return list.filter((_, at) => at !== index);
    const next = setAt(current as Json, rest, value);
    if (index === -1) list.push(next);
    else list[index] = next;
    return list;
  }
  if (rest.length === 0 && value === undefined) return list.filter((_, at) => at !== step.index);
  list[step.index] = setAt(list[step.index] as Json, rest, value);
  return list.map((item) => (item === undefined ? null : item));
}

/**
 * A merge patch naming `place`: keys become nested objects, an id step a one-element id-keyed
 * list (merged by id), an index step the whole plain list as the agent read it, edited.
 */
function mergePatchAt(terrain: HostileTerrain, place: readonly Step[], value: Json | null): Json {
  const build = (steps: readonly Step[], read: Json | undefined): Json => {
    if (steps.length === 0) return value;
    const [step, ...rest] = steps as [Step, ...Step[]];
    if (typeof step === 'string') {
      return { [step]: build(rest, isObject(read) ? read[step] : undefined) };
    }
    if ('id' in step) {
      const current = Array.isArray(read) ? read.find((item) => isObject(item) && item.id === step.id) : undefined;
      const inner = build(rest, current);
      return [isObject(inner) ? { ...inner, id: step.id } : { id: step.id }];
    }
    const list = Array.isArray(read) ? read : [];
    return setAt(list, [step, ...rest], value === null ? undefined : value);
  };
  return build(place, terrain.veiled);
}

/** A merge patch writing literal guesses, the agent's own values, placeholders and deletions. */
export function hostileMergeArb(terrain: HostileTerrain): fc.Arbitrary<Json> {
  const place = fc.oneof(fc.constantFrom(...terrain.secretPlaces), fc.constantFrom(...terrain.visiblePlaces));
  const value = fc.oneof(
    { weight: 5, arbitrary: hostileValueArb(terrain) },
    { weight: 1, arbitrary: fc.constant(null) },
  );
  return fc
    .array(fc.tuple(place, value), { minLength: 1, maxLength: 3 })
    .map((settings) =>
      settings.reduce<Json>(
        (patch, [at, written]) => deepMerge(patch, mergePatchAt(terrain, at, written)),
        {} as JsonObject,
      ),
    );
}

function deepMerge(a: Json, b: Json): Json {
  if (isObject(a) && isObject(b)) {
    const result: JsonObject = { ...a };
    for (const [key, value] of Object.entries(b))
      result[key] = key in result ? deepMerge(result[key] as Json, value) : value;
    return result;
  }
  if (Array.isArray(a) && Array.isArray(b) && isIdKeyed(a) && isIdKeyed(b)) {
    const result = [...a] as JsonObject[];
    for (const item of b as JsonObject[]) {
      const index = result.findIndex((other) => other.id === item.id);
      if (index === -1) result.push(item);
      else result[index] = deepMerge(result[index] as Json, item) as JsonObject;
    }
    return result;
  }
  return b;
}

/** The whole document as the agent read it, placeholders and all, with a few places rewritten or removed. */
export function hostileReplaceArb(terrain: HostileTerrain): fc.Arbitrary<JsonObject> {
  const place = fc.oneof(fc.constantFrom(...terrain.secretPlaces), fc.constantFrom(...terrain.visiblePlaces));
  const edit = fc.tuple(place, fc.option(hostileValueArb(terrain), { nil: undefined, freq: 4 }));
  return fc.array(edit, { maxLength: 3 }).map((edits) => {
    let document: Json = structuredClone(terrain.veiled);
    for (const [at, value] of edits) document = setAt(document, at, value);
    return isObject(document) ? document : {};
  });
}

export type HostileForm =
  | { kind: 'operations'; operations: Operation[] }
  | { kind: 'merge'; patch: Json; replacePaths: string[] }
  | { kind: 'replace'; document: JsonObject };

/** A hostile proposal in any of the three forms (SPEC §4 Propose). */
export function hostileFormArb(terrain: HostileTerrain): fc.Arbitrary<HostileForm> {
  return fc.oneof(
    {
      weight: 5,
      arbitrary: hostileOperationsArb(terrain).map((operations) => ({ kind: 'operations' as const, operations })),
    },
    {
      weight: 3,
      arbitrary: hostileMergeArb(terrain).map((patch) => ({ kind: 'merge' as const, patch, replacePaths: [] })),
    },
    { weight: 2, arbitrary: hostileReplaceArb(terrain).map((document) => ({ kind: 'replace' as const, document })) },
  );
}

/** The body of `POST /v1/proposals` for a form. */
export function proposalBody(form: HostileForm): Record<string, unknown> {
  if (form.kind === 'operations') return { operations: form.operations };
  if (form.kind === 'merge') return { patch: form.patch };
  return { replace: form.document };
}

/** Every scalar the agent writes into the document (not what it only `test`s against). */
export function writtenValues(form: HostileForm): Json[] {
  const roots: Json[] =
    form.kind === 'operations'
      ? form.operations.flatMap((operation) =>
          operation.op === 'add' || operation.op === 'replace' ? [operation.value] : [],
        )
      : [form.kind === 'merge' ? form.patch : form.document];
  const found: Json[] = [];
  const walk = (value: Json): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (isObject(value)) Object.values(value).forEach(walk);
    else found.push(value);
  };
  roots.forEach(walk);
  return found;
}
