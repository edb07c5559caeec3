import { z } from 'zod';

/**
 * Short ids: the web page and History show the first 8 hex digits of an id (`82de4d92`), so an
 * owner may type any unique prefix of at least that length instead of the whole UUID.
 * Fewer than 8 would match too often to be worth a lookup.
 */
export const minIdPrefix = 8;

/** What can be looked up by prefix: the ids an owner reads off a page and then types. */
export const IdKindSchema = z.enum(['proposal', 'exec_request', 'exec_grant']);
export type IdKind = z.infer<typeof IdKindSchema>;

/**
 * Only lowercase hex and dashes (a UUID's alphabet): the prefix is compared as a key range, and
 * nothing else could ever match.
 */
export const IdPrefixSchema = z
  .string()
  .min(minIdPrefix, `an id prefix is at least ${minIdPrefix} characters`)
  .max(36)
  .regex(/^[0-9a-f-]+$/, 'an id prefix is lowercase hex digits and dashes, as ids are shown');

export const IdLookupQuerySchema = z.object({ prefix: IdPrefixSchema, kind: IdKindSchema }).strict();

/** A whole UUID needs no lookup. */
export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Shown when an owner's prefix matches several ids: enough for them to pick, never more. */
export const maxIdMatches = 20;

export type IdMatch = { id: string; status: string; createdAt: string };
