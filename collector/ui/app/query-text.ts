/**
 * Query text the page writes for the user: "filter for / filter out this
 * value" clauses and their joining onto the query in the bar. Values are
 * written as phrases (`host:"web-1"`), which on a keyword field means
 * exactly that string and finds numbers and booleans as JSON writes them
 * (docs/QUERY.md, "Keyword fields"); names are escaped where the language
 * would read a character as syntax.
 */

/** Characters a field name can hold without an escape (docs/QUERY.md, "Fields"). */
const PLAIN_NAME_CHAR = /[\p{L}\p{N}_@.\-]/u;

/** `field:"value"`, or `-field:"value"` to filter out. */
export function filterClause(field: string, value: string, negate: boolean): string {
  const name = Array.from(field, (char) => (PLAIN_NAME_CHAR.test(char) ? char : `\\${char}`)).join("");
  return `${negate ? "-" : ""}${name}:${phrase(value)}`;
}

/** A quoted phrase: only `"` and `\` need escapes inside quotes. */
export function phrase(value: string): string {
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/**
 * The query with `clause` ANDed on. A query holding a top-level OR is put in
 * parentheses first (`a OR b` AND c would read as `a OR (b AND c)`); an
 * empty query or `*` becomes the clause alone. A clause already there is not
 * added twice.
 */
export function addClause(query: string, clause: string): string {
  const trimmed = query.trim();
  if (trimmed === "" || trimmed === "*") return clause;
  if (` ${trimmed} `.includes(` ${clause} `)) return trimmed;
  const grouped = /\bOR\b/.test(trimmed) ? `(${trimmed})` : trimmed;
  return `${grouped} ${clause}`;
}
