/**
 * The AST back to query text, canonical: explicit AND/OR/NOT, fields by
 * their canonical names (`fields.level:`), ranges as `>=`/`<` when one bound
 * is open. parseQuery(printQuery(q)) gives back q (a property test checks
 * it), so a query can be stored or sent to a peer as text.
 */
import { MESSAGE_FIELD } from "./ast.ts";
import type { Query, RangeBound, RangeQuery } from "./ast.ts";

/** Escaped anywhere in a word: separators and syntax. */
const ALWAYS_ESCAPED = /[\s()":\\*?]/u;
/** Escaped as a word's first character, where they would start other syntax. */
const LEADING_ESCAPED = /^[-/[{<>=!]/u;
const KEYWORDS: ReadonlySet<string> = new Set(["AND", "OR", "NOT"]);

export function printQuery(query: Query): string {
  switch (query.kind) {
    case "all":
      return "*";
    case "and":
      return query.clauses.map((clause) => group(clause, clause.kind === "and" || clause.kind === "or")).join(" AND ");
    case "or":
      return query.clauses.map((clause) => group(clause, clause.kind === "or")).join(" OR ");
    case "not":
      return `NOT ${group(query.clause, query.clause.kind === "and" || query.clause.kind === "or")}`;
    case "term":
      return fieldPrefix(query.field) + escapeWord(query.value);
    case "phrase":
      return fieldPrefix(query.field) + quote(query.value);
    case "prefix":
      return `${fieldPrefix(query.field)}${escapeWord(query.value)}*`;
    case "wildcard":
      return fieldPrefix(query.field) + escapePattern(query.pattern);
    case "regex":
      return `${fieldPrefix(query.field)}/${query.pattern}/`;
    case "range":
      return `${printField(query.field)}:${printRange(query)}`;
    case "exists":
      return `${printField(query.field)}:*`;
  }
}

function group(query: Query, parenthesize: boolean): string {
  return parenthesize ? `(${printQuery(query)})` : printQuery(query);
}

function fieldPrefix(field: string): string {
  return field === MESSAGE_FIELD ? "" : `${printField(field)}:`;
}

function printField(field: string): string {
  let printed = "";
  for (const char of field) printed += ALWAYS_ESCAPED.test(char) ? `\\${char}` : char;
  return printed;
}

function escapeWord(text: string): string {
  let escaped = "";
  for (const char of text) escaped += ALWAYS_ESCAPED.test(char) ? `\\${char}` : char;
  return protectStart(escaped);
}

/** A Lucene wildcard pattern: keep its escapes and wildcards, escape the rest. */
function escapePattern(pattern: string): string {
  let escaped = "";
  let afterBackslash = false;
  for (const char of pattern) {
    if (afterBackslash) {
      escaped += `\\${char}`;
      afterBackslash = false;
    } else if (char === "\\") {
      afterBackslash = true;
    } else {
      escaped += char === "*" || char === "?" || !ALWAYS_ESCAPED.test(char) ? char : `\\${char}`;
    }
  }
  return protectStart(escaped);
}

/** A word must not start like other syntax (`-x`, `/x`, `[x`) or be a keyword. */
function protectStart(word: string): string {
  return LEADING_ESCAPED.test(word) || KEYWORDS.has(word) ? `\\${word}` : word;
}

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}

function printRange(query: RangeQuery): string {
  const { lower, upper } = query;
  if (upper === null && lower !== null) return `${lower.inclusive ? ">=" : ">"}${printBound(query, lower)}`;
  if (lower === null && upper !== null) return `${upper.inclusive ? "<=" : "<"}${printBound(query, upper)}`;
  const open = lower?.inclusive === false ? "{" : "[";
  const close = upper?.inclusive === false ? "}" : "]";
  return `${open}${printBound(query, lower)} TO ${printBound(query, upper)}${close}`;
}

function printBound(query: RangeQuery, bound: RangeBound | null): string {
  if (bound === null) return "*";
  return query.valueType === "time" ? new Date(bound.value).toISOString() : String(bound.value);
}
