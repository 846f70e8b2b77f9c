/**
 * A query AST (shared/query) into a SQL condition over one partition's
 * `events` table (partition.ts). The evaluator (compileQuery) defines what a
 * query means, and search.ts runs it on every row SQL returns; so the SQL
 * here must select a **superset** of the events the evaluator accepts —
 * never fewer — and is as narrow as SQL can make it exactly.
 *
 * Under NOT the direction flips: `NOT q` selects a superset only if `q`'s
 * SQL selects a **subset** of what `q` matches. So every node translates in
 * a mode, superset or subset, and a clause SQL cannot express exactly
 * becomes TRUE in superset mode and FALSE in subset mode (left to the
 * evaluator). docs/SEARCH.md lists which clauses are exact.
 *
 * Every condition is 0 or 1, never NULL (SQL's NULL would make NOT drop
 * rows).
 *
 * Keyword columns (host, source, path, stream) are tested where the
 * partition looks them up (partition.ts `KeywordLookup`): on the row's own
 * columns, or in a version 3 partition on `sources`, as
 * `key IN (SELECT key FROM sources WHERE …)`, which selects the same rows
 * (a row's `key` names the sources row of its own values) through the
 * (key, time) index.
 */
import type { SQLInputValue } from "node:sqlite";
import { ANY_ONE, ANY_RUN, FIELDS_PREFIX, MESSAGE_FIELD, compileQuery, globMatches, messageGlob, tokenizeGlob } from "../../shared/query/index.ts";
import type { Glob, Query, RangeBound, RangeQuery } from "../../shared/query/index.ts";
import { formatTime } from "../../shared/event.ts";
import { parseNumber, parseTime } from "../../shared/query/values.ts";
import { ftsSeesToken } from "./fts-probe.ts";
import type { KeywordLookup } from "./partition.ts";

export interface SqlCondition {
  sql: string;
  parameters: SQLInputValue[];
}

type Mode = "superset" | "subset";
type Leaf = Exclude<Query, { kind: "all" | "and" | "or" | "not" }>;

const TRUE: SqlCondition = { sql: "1", parameters: [] };
const FALSE: SqlCondition = { sql: "0", parameters: [] };
const ASCII = /^[\x00-\x7f]*$/;
/** Largest integer a JSON number keeps exactly in JavaScript. */
const SAFE_INTEGER = 2 ** 53;
/** Relative slack for numbers SQLite and JavaScript may each round on their own (JSON reals, numeric strings, integers past 2^53). */
const NUMBER_SLACK = 1e-9;
/** A string that may be an RFC 3339 time or date (values.ts parseTime): four digits, a dash, two digits, a dash, two digits. */
const TIME_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*";
const TEXT_COLUMNS: ReadonlySet<string> = new Set(["id", "host", "source", "path", "message", "stream"]);
/** The text columns a version 3 partition also keeps in `sources` (module comment). */
const KEYWORD_COLUMNS: ReadonlySet<string> = new Set(["host", "source", "path", "stream"]);
const TIME_COLUMNS: ReadonlySet<string> = new Set(["time", "observed_time"]);

/** A condition that selects at least every event `query` matches, in a partition whose keywords are looked up in `keywords`. */
export function translateQuery(query: Query, keywords: KeywordLookup): SqlCondition {
  return translate(query, "superset", keywords);
}

/**
 * A condition that selects exactly the events `query` matches, or undefined
 * when SQL cannot say it exactly. The superset translation is exact when it
 * is also the subset one: the two agree only where no clause was widened or
 * narrowed (histogram.ts counts in SQL then, without the evaluator).
 */
export function exactTranslation(query: Query, keywords: KeywordLookup): SqlCondition | undefined {
  const superset = translate(query, "superset", keywords);
  const subset = translate(query, "subset", keywords);
  const same = superset.sql === subset.sql && superset.parameters.length === subset.parameters.length && superset.parameters.every((parameter, index) => Object.is(parameter, subset.parameters[index]));
  return same ? superset : undefined;
}

function translate(query: Query, mode: Mode, keywords: KeywordLookup): SqlCondition {
  switch (query.kind) {
    case "all":
      return TRUE;
    case "and":
      return combine(query.clauses.map((clause) => translate(clause, mode, keywords)), "AND");
    case "or":
      return combine(query.clauses.map((clause) => translate(clause, mode, keywords)), "OR");
    case "not": {
      const inner = translate(query.clause, mode === "superset" ? "subset" : "superset", keywords);
      if (inner === TRUE) return FALSE;
      if (inner === FALSE) return TRUE;
      return { sql: `NOT (${inner.sql})`, parameters: inner.parameters };
    }
    default:
      return leaf(query, mode, keywords);
  }
}

/**
 * A condition on keyword columns where `keywords` says they are looked up:
 * as it is, or through `sources` (module comment). Constants stay
 * constants, so exactness (`exactTranslation`) does not depend on it.
 */
export function keywordCondition(condition: SqlCondition, keywords: KeywordLookup): SqlCondition {
  if (keywords === "columns" || condition === TRUE || condition === FALSE) return condition;
  return { sql: `key IN (SELECT key FROM sources WHERE ${condition.sql})`, parameters: condition.parameters };
}

/** AND/OR of conditions, folding the constants. */
function combine(conditions: SqlCondition[], operator: "AND" | "OR"): SqlCondition {
  const absorbing = operator === "AND" ? FALSE : TRUE;
  const neutral = operator === "AND" ? TRUE : FALSE;
  if (conditions.includes(absorbing)) return absorbing;
  const kept = conditions.filter((condition) => condition !== neutral);
  if (kept.length === 0) return neutral;
  if (kept.length === 1) return kept[0] as SqlCondition;
  return { sql: kept.map((condition) => `(${condition.sql})`).join(` ${operator} `), parameters: kept.flatMap((condition) => condition.parameters) };
}

function inexact(mode: Mode): SqlCondition {
  return mode === "superset" ? TRUE : FALSE;
}

function leaf(query: Leaf, mode: Mode, keywords: KeywordLookup): SqlCondition {
  if (query.field === MESSAGE_FIELD && query.kind !== "regex" && query.kind !== "range" && query.kind !== "exists") return fullText(messageGlob(query), mode);
  if (query.field === "truncated") return compileQuery(query)({ truncated: true }) ? { sql: "truncated = 1", parameters: [] } : FALSE;
  if (query.field === "offset") return offsetLeaf(query, mode);
  if (TIME_COLUMNS.has(query.field)) return timeLeaf(query.field, query, mode);
  if (TEXT_COLUMNS.has(query.field)) {
    if (query.kind === "exists") return TRUE;
    const condition = scalar(query, { value: query.field, type: undefined }, mode);
    return KEYWORD_COLUMNS.has(query.field) ? keywordCondition(condition, keywords) : condition;
  }
  if (query.field.startsWith(FIELDS_PREFIX)) return fieldLeaf(query.field.slice(FIELDS_PREFIX.length), query, mode);
  return FALSE;
}

// ——— full text: FTS5 over the message's tokens ———


/** One query token as FTS5 can look for it: a literal, or a prefix (exact for `abc*`, a superset for `ab?d`, `a*c`). */
export interface FtsToken {
  text: string;
  prefix: boolean;
  exact: boolean;
}

/**
 * The pattern's tokens must match consecutive message tokens (compile.ts
 * `fullTextNode`): an FTS5 phrase of them. A token FTS5 cannot look for (a
 * leading wildcard, no token FTS5 knows) breaks the phrase in two; the
 * parts are ANDed (a superset). Subset mode keeps only patterns FTS5 runs
 * exactly: literals and trailing-`*` prefixes in ASCII (FTS5's own case
 * folding may merge other characters JavaScript keeps apart).
 */
function fullText(glob: Glob, mode: Mode): SqlCondition {
  const tokens = tokenizeGlob(glob);
  if (tokens.length === 0) return FALSE;
  const ftsTokens = tokens.map(ftsToken);
  if (mode === "subset") {
    if (!ftsTokens.every((token) => token !== undefined && token.exact && ASCII.test(token.text))) return FALSE;
    return ftsMatch([ftsTokens as FtsToken[]]);
  }
  const runs: FtsToken[][] = [[]];
  for (const token of ftsTokens) {
    if (token !== undefined && ftsSeesToken(token.text)) (runs.at(-1) as FtsToken[]).push(token);
    else runs.push([]);
  }
  const phrases = runs.filter((run) => run.length > 0);
  return phrases.length === 0 ? TRUE : ftsMatch(phrases);
}

/** A query token as FTS5 can look for it; undefined when it cannot (a leading wildcard). */
export function ftsToken(glob: Glob): FtsToken | undefined {
  const first = glob.findIndex((code) => code === ANY_RUN || code === ANY_ONE);
  if (first < 0) return { text: globText(glob), prefix: false, exact: true };
  if (first === 0) return undefined;
  return { text: globText(glob.slice(0, first)), prefix: true, exact: first === glob.length - 1 && glob[first] === ANY_RUN };
}

/** `rowid IN (… MATCH '"a" + "b" * AND "c"')`: each run a phrase, the phrases ANDed. */
function ftsMatch(phrases: FtsToken[][]): SqlCondition {
  const expression = phrases.map((phrase) => phrase.map(ftsTerm).join(" + ")).join(" AND ");
  return { sql: "rowid IN (SELECT rowid FROM events_text WHERE events_text MATCH ?)", parameters: [expression] };
}

/** A token in FTS5's query syntax: quoted, `*` after a prefix. */
export function ftsTerm(token: FtsToken): string {
  return `"${token.text.replaceAll('"', '""')}"${token.prefix ? " *" : ""}`;
}

function globText(glob: Glob): string {
  return glob.map((code) => String.fromCodePoint(code)).join("");
}

// ——— keyword values: top-level text columns and the values inside `fields` ———

/** A scalar value in SQL: its expression and, inside `fields`, the expression of its JSON type (undefined: always text). */
interface ScalarSource {
  value: string;
  type: string | undefined;
}

/**
 * The condition on one scalar value (an array's elements each in turn).
 * compile.ts `keywordTest`, `termTest`, `rangeTest`: a string compares as
 * itself, or as a number or time when the query value is one; numbers and
 * booleans as JSON writes them.
 */
function scalar(query: Leaf, source: ScalarSource, mode: Mode): SqlCondition {
  const { value } = source;
  /** "1" / "0" when the source's type is known, else the SQL test of its JSON type. */
  const isType = (...types: string[]): string =>
    source.type === undefined ? (types.includes("text") ? "1" : "0") : `${source.type} IN (${types.map((type) => `'${type}'`).join(", ")})`;
  const parts: SqlCondition[] = [];
  const add = (typeCondition: string, condition: SqlCondition): void => {
    if (typeCondition === "0" || condition === FALSE) return;
    parts.push(typeCondition === "1" ? condition : combine([{ sql: typeCondition, parameters: [] }, condition], "AND"));
  };
  switch (query.kind) {
    case "exists":
      return TRUE;
    case "regex":
      return inexact(mode);
    case "term": {
      const wantedNumber = parseNumber(query.value);
      const wantedTime = wantedNumber === undefined ? parseTime(query.value) : undefined;
      add(isType("text"), { sql: `${value} = ?`, parameters: [query.value] });
      if (wantedNumber !== undefined && mode === "superset") add(isType("text"), numberBetween(`CAST(${value} AS REAL)`, wantedNumber, wantedNumber));
      if (wantedTime !== undefined && mode === "superset") add(isType("text"), { sql: `${value} GLOB '${TIME_GLOB}'`, parameters: [] });
      if (wantedNumber !== undefined) add(isType("integer", "real"), numberEquals(value, wantedNumber, mode));
      add(booleanType(source, (text) => text === query.value), TRUE);
      break;
    }
    case "phrase": {
      const number = parseNumber(query.value);
      add(isType("text"), { sql: `${value} = ?`, parameters: [query.value] });
      if (number !== undefined && String(number) === query.value) add(isType("integer", "real"), numberEquals(value, number, mode));
      add(booleanType(source, (text) => text === query.value), TRUE);
      break;
    }
    case "prefix":
    case "wildcard": {
      const glob = messageGlob(query);
      const pattern = sqlGlob(glob);
      add(isType("text"), { sql: `${value} GLOB ?`, parameters: [pattern] });
      if (mode === "superset") add(isType("integer", "real"), TRUE);
      else add(isType("integer"), { sql: `abs(${value}) < ${SAFE_INTEGER} AND CAST(${value} AS TEXT) GLOB ?`, parameters: [pattern] });
      add(booleanType(source, (text) => globMatches(glob, text)), TRUE);
      break;
    }
    case "range":
      if (mode === "subset") {
        if (query.valueType === "number") add(isType("integer", "real"), numberRange(value, query, mode));
        break;
      }
      if (query.valueType === "number") {
        add(isType("integer", "real"), numberRange(value, query, mode));
        add(isType("text"), numberRange(`CAST(${value} AS REAL)`, query, mode));
      } else {
        add(isType("text"), { sql: `${value} GLOB '${TIME_GLOB}'`, parameters: [] });
      }
      break;
  }
  return combine(parts, "OR");
}

/** The JSON type condition for `true`/`false` values whose text passes `test`; "0" for a text-only source. */
function booleanType(source: ScalarSource, test: (text: string) => boolean): string {
  if (source.type === undefined) return "0";
  const types = ["true", "false"].filter(test).map((name) => `'${name}'`);
  return types.length === 0 ? "0" : `${source.type} IN (${types.join(", ")})`;
}

function slack(number: number): number {
  return Math.abs(number) * NUMBER_SLACK + Number.MIN_VALUE;
}

function numberBetween(expression: string, low: number, high: number): SqlCondition {
  return { sql: `${expression} BETWEEN ? AND ?`, parameters: [low - slack(low), high + slack(high)] };
}

/** Numeric equality: with slack for a superset; for a subset, integers JavaScript holds exactly. */
function numberEquals(expression: string, number: number, mode: Mode): SqlCondition {
  if (mode === "superset") return numberBetween(expression, number, number);
  return Number.isInteger(number) && Math.abs(number) < SAFE_INTEGER ? { sql: `${expression} = ?`, parameters: [number] } : FALSE;
}

/** A range on a numeric expression: bounds widened by the slack for a superset, narrowed (and strict) for a subset. */
function numberRange(expression: string, query: RangeQuery, mode: Mode): SqlCondition {
  const conditions: SqlCondition[] = [];
  const bound = (range: RangeBound | null, side: "lower" | "upper"): void => {
    if (range === null) return;
    const widen = (mode === "superset") === (side === "lower") ? -1 : 1;
    const operator = mode === "superset" ? (side === "lower" ? ">=" : "<=") : side === "lower" ? ">" : "<";
    conditions.push({ sql: `${expression} ${operator} ?`, parameters: [range.value + widen * slack(range.value)] });
  };
  bound(query.lower, "lower");
  bound(query.upper, "upper");
  return combine(conditions, "AND");
}

/** An exact range on an integer column (offset, time). */
function integerRange(column: string, query: RangeQuery): SqlCondition {
  const conditions: SqlCondition[] = [];
  if (query.lower !== null) conditions.push({ sql: `${column} ${query.lower.inclusive ? ">=" : ">"} ?`, parameters: [query.lower.value] });
  if (query.upper !== null) conditions.push({ sql: `${column} ${query.upper.inclusive ? "<=" : "<"} ?`, parameters: [query.upper.value] });
  return combine(conditions, "AND");
}

/** Wildcards as SQLite GLOB: `*`, `?`; the literal characters `*`, `?`, `[` bracketed. Both match code points, case-sensitively. */
function sqlGlob(glob: Glob): string {
  return glob
    .map((code) => {
      if (code === ANY_RUN) return "*";
      if (code === ANY_ONE) return "?";
      const char = String.fromCodePoint(code);
      return char === "*" || char === "?" || char === "[" ? `[${char}]` : char;
    })
    .join("");
}

// ——— the integer columns ———

/** `offset`: a number; its text is the decimal integer (offsets are safe integers). */
function offsetLeaf(query: Leaf, mode: Mode): SqlCondition {
  switch (query.kind) {
    case "exists":
      return TRUE;
    case "regex":
      return inexact(mode);
    case "term": {
      const number = parseNumber(query.value);
      return number === undefined ? FALSE : { sql: "offset = ?", parameters: [number] };
    }
    case "phrase": {
      const number = parseNumber(query.value);
      return number !== undefined && String(number) === query.value ? { sql: "offset = ?", parameters: [number] } : FALSE;
    }
    case "prefix":
    case "wildcard":
      return { sql: "CAST(offset AS TEXT) GLOB ?", parameters: [sqlGlob(messageGlob(query))] };
    case "range":
      return query.valueType === "number" ? integerRange("offset", query) : FALSE;
  }
}

/** `time`, `observed_time`: stored as ms, an event carries them as RFC 3339 UTC with ms (formatTime). */
function timeLeaf(column: string, query: Leaf, mode: Mode): SqlCondition {
  switch (query.kind) {
    case "exists":
      return TRUE;
    case "regex":
    case "prefix":
    case "wildcard":
      return inexact(mode);
    case "term": {
      const time = parseNumber(query.value) === undefined ? parseTime(query.value) : undefined;
      return time === undefined ? FALSE : { sql: `${column} = ?`, parameters: [time] };
    }
    case "phrase": {
      const time = parseTime(query.value);
      return time !== undefined && formatTime(time) === query.value ? { sql: `${column} = ?`, parameters: [time] } : FALSE;
    }
    case "range":
      return query.valueType === "time" ? integerRange(column, query) : FALSE;
  }
}

// ——— fields: JSON ———

/**
 * `fields.<key>`: the key itself when `fields` has it, else the dotted path
 * through nested objects (compile.ts `fieldGetter`). Arrays match when an
 * element does; objects and null only answer `exists`.
 */
function fieldLeaf(key: string, query: Leaf, mode: Mode): SqlCondition {
  // JSON path labels cannot carry a quote or a backslash: such a key is left to the evaluator.
  if (/["\\]/.test(key)) return inexact(mode);
  const flat = `$."${key}"`;
  const segments = key.split(".");
  const path: SqlCondition =
    segments.length === 1
      ? { sql: "?", parameters: [flat] }
      : { sql: "(CASE WHEN json_type(fields, ?) IS NOT NULL THEN ? ELSE ? END)", parameters: [flat, flat, `$.${segments.map((segment) => `"${segment}"`).join(".")}`] };
  if (query.kind === "exists") {
    return {
      sql: `coalesce(json_type(fields, ${path.sql}), 'null') NOT IN ('null', 'array') OR (json_type(fields, ${path.sql}) IS 'array' AND json_array_length(fields, ${path.sql}) > 0)`,
      parameters: [...path.parameters, ...path.parameters, ...path.parameters],
    };
  }
  const element = scalar(query, { value: "element.value", type: "element.type" }, mode);
  if (element === FALSE) return FALSE;
  const condition = element === TRUE ? "" : ` AND (${element.sql})`;
  return {
    sql: `EXISTS (SELECT 1 FROM json_each(fields, ${path.sql}) AS element WHERE json_type(fields, ${path.sql}) IS NOT 'object' AND element.type NOT IN ('object', 'array')${condition})`,
    parameters: [...path.parameters, ...path.parameters, ...element.parameters],
  };
}
