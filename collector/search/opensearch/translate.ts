/**
 * A query AST (shared/query) into an OpenSearch query over the documents
 * the opensearch sink writes (collector/opensearch/documents.ts). As with
 * the SQL translation (../translate.ts), the evaluator defines what a query
 * means and the backend runs it on every hit, so the OpenSearch query must
 * select a **superset** of what the evaluator accepts, as narrow as it can
 * exactly; under NOT the direction flips, so every node translates in a
 * mode (superset or subset) and a clause OpenSearch cannot say exactly
 * becomes match_all in superset mode and match_none in subset mode.
 *
 *   message (full text)  term / match_phrase / prefix / wildcard on
 *                        `message_tokens` (logship's own tokens, so exact);
 *                        a phrase with wildcards inside: its literal runs
 *                        and wildcard tokens ANDed (a superset)
 *   host, source, path, id   keyword: term, prefix, wildcard (exact, case-
 *                        sensitive); a regex of literal text with optional
 *                        ^ and $ becomes a Lucene `regexp` (exact)
 *   time, observed_time  term and range on the date (exact)
 *   offset               term and range on the long (exact)
 *   fields.<key>         keyword of the JSON text of every scalar: a string
 *                        term or phrase, a prefix or wildcard exact; a number
 *                        or time in the query (500 = "500.0", instants in
 *                        any offset) only narrows to events that have the
 *                        field; ranges likewise
 *   regexes otherwise, exists on fields   left to the evaluator
 *
 * `exactQuery` is the translation when both modes agree: then the hits are
 * exactly the matches and histograms count in OpenSearch (date_histogram).
 */
import { ANY_ONE, ANY_RUN, FIELDS_PREFIX, MESSAGE_FIELD, STREAM_FIELD, compileQuery, messageGlob, tokenizeGlob } from "../../../shared/query/index.ts";
import type { Glob, Query, RangeQuery } from "../../../shared/query/index.ts";
import { formatTime } from "../../../shared/event.ts";
import { parseNumber, parseTime } from "../../../shared/query/values.ts";

export type OpenSearchQuery = Record<string, unknown>;
type Mode = "superset" | "subset";
type Leaf = Exclude<Query, { kind: "all" | "and" | "or" | "not" }>;

export const MATCH_ALL: OpenSearchQuery = { match_all: {} };
export const MATCH_NONE: OpenSearchQuery = { match_none: {} };
const TOKENS_FIELD = "message_tokens";
const KEYWORD_COLUMNS: ReadonlySet<string> = new Set(["id", "host", "source", "path"]);
const TIME_COLUMNS: ReadonlySet<string> = new Set(["time", "observed_time"]);
/** A regex OpenSearch runs exactly as JavaScript does: literal characters only (letters, digits, a few marks), optionally anchored. */
const LITERAL_REGEX = /^(\^?)([\p{L}\p{N} _\-/:,=]+)(\$?)$/u;

/** A query that selects at least every event `query` matches. */
export function translateToOpenSearch(query: Query): OpenSearchQuery {
  return translate(query, "superset");
}

/** A query that selects exactly what `query` matches, or undefined when OpenSearch cannot say it exactly. */
export function exactOpenSearchQuery(query: Query): OpenSearchQuery | undefined {
  const superset = translate(query, "superset");
  return JSON.stringify(superset) === JSON.stringify(translate(query, "subset")) ? superset : undefined;
}

function translate(query: Query, mode: Mode): OpenSearchQuery {
  switch (query.kind) {
    case "all":
      return MATCH_ALL;
    case "and":
      return combine(query.clauses.map((clause) => translate(clause, mode)), "and");
    case "or":
      return combine(query.clauses.map((clause) => translate(clause, mode)), "or");
    case "not": {
      const inner = translate(query.clause, mode === "superset" ? "subset" : "superset");
      if (inner === MATCH_ALL) return MATCH_NONE;
      if (inner === MATCH_NONE) return MATCH_ALL;
      return { bool: { must_not: [inner] } };
    }
    default:
      return leaf(query, mode);
  }
}

/** AND (filter) / OR (should) of queries, folding the constants. */
function combine(queries: OpenSearchQuery[], operator: "and" | "or"): OpenSearchQuery {
  const absorbing = operator === "and" ? MATCH_NONE : MATCH_ALL;
  const neutral = operator === "and" ? MATCH_ALL : MATCH_NONE;
  if (queries.includes(absorbing)) return absorbing;
  const kept = queries.filter((query) => query !== neutral);
  if (kept.length === 0) return neutral;
  if (kept.length === 1) return kept[0] as OpenSearchQuery;
  return operator === "and" ? { bool: { filter: kept } } : { bool: { should: kept, minimum_should_match: 1 } };
}

function inexact(mode: Mode): OpenSearchQuery {
  return mode === "superset" ? MATCH_ALL : MATCH_NONE;
}

function leaf(query: Leaf, mode: Mode): OpenSearchQuery {
  if (query.field === MESSAGE_FIELD && query.kind !== "regex" && query.kind !== "range" && query.kind !== "exists") return fullText(messageGlob(query), mode);
  if (query.field === MESSAGE_FIELD) return query.kind === "exists" ? MATCH_ALL : inexact(mode);
  if (query.field === "truncated") return compileQuery(query)({ truncated: true }) ? { term: { truncated: true } } : MATCH_NONE;
  if (query.field === "offset") return offsetLeaf(query, mode);
  if (TIME_COLUMNS.has(query.field)) return timeLeaf(query.field, query, mode);
  if (KEYWORD_COLUMNS.has(query.field)) return keywordLeaf(query.field, query, mode);
  if (query.field.startsWith(FIELDS_PREFIX)) return fieldLeaf(query.field, query, mode);
  // A stream is stored only when it is not the default one (documents.ts): left to the evaluator.
  if (query.field === STREAM_FIELD) return inexact(mode);
  return MATCH_NONE;
}

// ——— full text on message_tokens ———

function fullText(glob: Glob, mode: Mode): OpenSearchQuery {
  const tokens = tokenizeGlob(glob);
  if (tokens.length === 0) return MATCH_NONE;
  const literal = (token: Glob): boolean => !token.some((code) => code === ANY_RUN || code === ANY_ONE);
  if (tokens.length === 1) return tokenQuery(TOKENS_FIELD, tokens[0] as Glob);
  if (tokens.every(literal)) return { match_phrase: { [TOKENS_FIELD]: tokens.map(globText).join(" ") } };
  if (mode === "subset") return MATCH_NONE;
  // Consecutive literal tokens stay phrases; each wildcard token must be somewhere.
  const parts: OpenSearchQuery[] = [];
  let run: string[] = [];
  const flush = (): void => {
    if (run.length === 1) parts.push({ term: { [TOKENS_FIELD]: run[0] } });
    else if (run.length > 1) parts.push({ match_phrase: { [TOKENS_FIELD]: run.join(" ") } });
    run = [];
  };
  for (const token of tokens) {
    if (literal(token)) run.push(globText(token));
    else {
      flush();
      parts.push(tokenQuery(TOKENS_FIELD, token));
    }
  }
  flush();
  return combine(parts, "and");
}

/** One whole term against a glob: term, prefix (one trailing `*`) or wildcard; exact on a keyword and on a token. */
function tokenQuery(field: string, glob: Glob): OpenSearchQuery {
  const first = glob.findIndex((code) => code === ANY_RUN || code === ANY_ONE);
  if (first < 0) return { term: { [field]: globText(glob) } };
  if (first === glob.length - 1 && glob[first] === ANY_RUN) return { prefix: { [field]: globText(glob.slice(0, -1)) } };
  return { wildcard: { [field]: { value: luceneWildcard(glob) } } };
}

/** Lucene wildcard syntax: `*`, `?`, and `\` escaping the literal `*`, `?`, `\`. */
function luceneWildcard(glob: Glob): string {
  return glob
    .map((code) => {
      if (code === ANY_RUN) return "*";
      if (code === ANY_ONE) return "?";
      const char = String.fromCodePoint(code);
      return char === "*" || char === "?" || char === "\\" ? `\\${char}` : char;
    })
    .join("");
}

function globText(glob: Glob): string {
  return glob.map((code) => String.fromCodePoint(code)).join("");
}

// ——— keyword columns: id, host, source, path (always strings) ———

function keywordLeaf(field: string, query: Leaf, mode: Mode): OpenSearchQuery {
  switch (query.kind) {
    case "exists":
      return MATCH_ALL;
    case "term": {
      const exact = { term: { [field]: query.value } };
      // "500" also equals "500.0", a time also the same instant written otherwise: only the evaluator knows those.
      const loose = parseNumber(query.value) !== undefined || parseTime(query.value) !== undefined;
      return loose && mode === "superset" ? MATCH_ALL : exact;
    }
    case "phrase":
      return { term: { [field]: query.value } };
    case "prefix":
    case "wildcard":
      return tokenQuery(field, messageGlob(query));
    case "regex":
      return literalRegex(field, query.pattern) ?? inexact(mode);
    case "range":
      return inexact(mode);
  }
}

/** A regex of literal text, optionally anchored, as a Lucene regexp (which matches the whole value); undefined for anything else. */
function literalRegex(field: string, pattern: string): OpenSearchQuery | undefined {
  const match = LITERAL_REGEX.exec(pattern);
  if (match === null) return undefined;
  const text = (match[2] as string).replace(/[-/:,=_ ]/g, (char) => `\\${char}`);
  return { regexp: { [field]: { value: `${match[1] === "^" ? "" : ".*"}${text}${match[3] === "$" ? "" : ".*"}`, flags: "NONE" } } };
}

// ——— offset (long) and times (date) ———

function offsetLeaf(query: Leaf, mode: Mode): OpenSearchQuery {
  switch (query.kind) {
    case "exists":
      return MATCH_ALL;
    case "term": {
      const number = parseNumber(query.value);
      return number !== undefined && Number.isSafeInteger(number) ? { term: { offset: number } } : MATCH_NONE;
    }
    case "phrase": {
      const number = parseNumber(query.value);
      return number !== undefined && Number.isSafeInteger(number) && String(number) === query.value ? { term: { offset: number } } : MATCH_NONE;
    }
    case "range":
      return query.valueType === "number" && [query.lower, query.upper].every((bound) => bound === null || Number.isSafeInteger(bound.value)) ? rangeQuery("offset", query) : query.valueType === "number" ? inexact(mode) : MATCH_NONE;
    default:
      return inexact(mode);
  }
}

function timeLeaf(field: string, query: Leaf, mode: Mode): OpenSearchQuery {
  switch (query.kind) {
    case "exists":
      return MATCH_ALL;
    case "term": {
      const time = parseNumber(query.value) === undefined ? parseTime(query.value) : undefined;
      return time === undefined ? MATCH_NONE : instant(field, time);
    }
    case "phrase": {
      const time = parseTime(query.value);
      return time !== undefined && formatTime(time) === query.value ? instant(field, time) : MATCH_NONE;
    }
    case "range":
      return query.valueType === "time" ? rangeQuery(field, query, "epoch_millis") : MATCH_NONE;
    default:
      return inexact(mode);
  }
}

/** One millisecond of a date field (a term query takes no format; epoch ms as a range does). */
function instant(field: string, timeMs: number): OpenSearchQuery {
  return { range: { [field]: { gte: timeMs, lte: timeMs, format: "epoch_millis" } } };
}

function rangeQuery(field: string, query: RangeQuery, format?: string): OpenSearchQuery {
  const range: Record<string, unknown> = {};
  if (query.lower !== null) range[query.lower.inclusive ? "gte" : "gt"] = query.lower.value;
  if (query.upper !== null) range[query.upper.inclusive ? "lte" : "lt"] = query.upper.value;
  if (format !== undefined) range.format = format;
  return { range: { [field]: range } };
}

// ——— fields: keywords of the JSON text of each scalar ———

function fieldLeaf(field: string, query: Leaf, mode: Mode): OpenSearchQuery {
  const dotted = field.slice(FIELDS_PREFIX.length).includes(".");
  // A dotted key names a flat key or a nested path, which OpenSearch indexes as one field: a subset only for plain keys.
  if (dotted && mode === "subset") return MATCH_NONE;
  const exists = { exists: { field } };
  // Values over the keyword's ignore_above are not indexed (OpenSearch lists the field in _ignored): the evaluator judges those.
  const present = combine([exists, { term: { _ignored: field } }], "or");
  switch (query.kind) {
    case "exists":
      return mode === "superset" ? MATCH_ALL : exists;
    case "term": {
      const number = parseNumber(query.value);
      const time = number === undefined ? parseTime(query.value) : undefined;
      if (number === undefined && time === undefined) return { term: { [field]: query.value } };
      if (mode === "superset") return present;
      const texts = new Set([query.value]);
      if (number !== undefined && Number.isSafeInteger(number)) texts.add(String(number));
      return texts.size === 1 ? { term: { [field]: query.value } } : { terms: { [field]: [...texts] } };
    }
    case "phrase":
      return { term: { [field]: query.value } };
    case "prefix":
    case "wildcard": {
      const matched = tokenQuery(field, messageGlob(query));
      return mode === "superset" ? combine([matched, { term: { _ignored: field } }], "or") : matched;
    }
    case "regex":
    case "range":
      return mode === "superset" ? present : MATCH_NONE;
  }
}
