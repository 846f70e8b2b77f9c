/**
 * The query AST: what a parsed query means, independent of who runs it (the
 * in-process evaluator in compile.ts, the SQLite FTS5 index, the OpenSearch
 * translation). docs/QUERY.md gives each node's meaning.
 *
 * Field names are canonical: a top-level event field by its name (`host`,
 * `time`, …), anything else as `fields.<key>` (the parser turns a bare
 * `level` into `fields.level`). `message` is the only full-text field; every
 * other field is a keyword field.
 */

/** Top-level event fields a query can name (shared/event.ts). */
export const TOP_LEVEL_FIELDS: ReadonlySet<string> = new Set([
  "id",
  "time",
  "observed_time",
  "host",
  "source",
  "path",
  "offset",
  "message",
  "truncated",
  "stream",
]);

export const MESSAGE_FIELD = "message";
/** The collector stream an event was routed to (docs/ROUTING.md); events without one are in the default stream. */
export const STREAM_FIELD = "stream";
export const DEFAULT_STREAM_NAME = "default";
export const FIELDS_PREFIX = "fields.";

export type Query =
  | MatchAllQuery
  | AndQuery
  | OrQuery
  | NotQuery
  | TermQuery
  | PhraseQuery
  | PrefixQuery
  | WildcardQuery
  | RegexQuery
  | RangeQuery
  | ExistsQuery;

/** The empty query and a bare `*`: every event. */
export interface MatchAllQuery {
  kind: "all";
}

/** At least two clauses, all of which must match (`a AND b`, `a b`). */
export interface AndQuery {
  kind: "and";
  clauses: Query[];
}

/** At least two clauses, one of which must match. */
export interface OrQuery {
  kind: "or";
  clauses: Query[];
}

/** `NOT q`, `-q`: every event `q` does not match, including events without the field. */
export interface NotQuery {
  kind: "not";
  clause: Query;
}

/** An unquoted value without wildcards; `value` has its escapes removed. */
export interface TermQuery {
  kind: "term";
  field: string;
  value: string;
}

/** A quoted value; `value` has its escapes removed. */
export interface PhraseQuery {
  kind: "phrase";
  field: string;
  value: string;
}

/** `value*`: the only unescaped wildcard is one `*` at the end; `value` is the literal prefix. */
export interface PrefixQuery {
  kind: "prefix";
  field: string;
  value: string;
}

/**
 * Any other value with unescaped `*` (any run) or `?` (one character).
 * `pattern` uses Lucene's escaping: `\*`, `\?` and `\\` are literal.
 */
export interface WildcardQuery {
  kind: "wildcard";
  field: string;
  pattern: string;
}

/** `/pattern/` or `field:/pattern/`: JavaScript regex source (flag `u`), unanchored. */
export interface RegexQuery {
  kind: "regex";
  field: string;
  pattern: string;
}

export interface RangeBound {
  /** A number, or for `valueType: "time"` milliseconds since the epoch. */
  value: number;
  inclusive: boolean;
}

/** `f:>=500`, `f:[400 TO 499]`, `f:{a TO *]`: at least one bound is set. */
export interface RangeQuery {
  kind: "range";
  field: string;
  valueType: "number" | "time";
  lower: RangeBound | null;
  upper: RangeBound | null;
}

/** `field:*`: the event has the field, with a value other than null or an empty array. */
export interface ExistsQuery {
  kind: "exists";
  field: string;
}

/** A field name starts with a letter, `_` or `@` (so `12:30` is not field 12). */
const FIELD_NAME_START = /^[\p{L}_@]/u;

/**
 * The canonical name of a field as written before `:`, or undefined when the
 * name cannot name a field (`fields` alone, empty segments).
 */
export function canonicalFieldName(name: string): string | undefined {
  if (!FIELD_NAME_START.test(name) || name === "fields" || name.endsWith(".") || name.includes("..")) return undefined;
  if (TOP_LEVEL_FIELDS.has(name) || name.startsWith(FIELDS_PREFIX)) return name;
  return FIELDS_PREFIX + name;
}
