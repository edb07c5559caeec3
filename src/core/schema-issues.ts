/** One reason a document fails its target's JSON Schema, as reported in 422 `invalid_config`. */
export type SchemaIssue = { path: string; message: string };

/** Checks a candidate document; an empty list means it is acceptable. */
export type DocumentValidator = (document: unknown) => SchemaIssue[];
