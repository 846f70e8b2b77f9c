/**
 * Full-text tokens of `message`: the one definition the evaluator, the
 * SQLite FTS5 index and the OpenSearch analyzer must share (docs/QUERY.md,
 * "Tokens").
 *
 * A token is a maximal run of Unicode letters, marks, numbers and
 * private-use characters (general categories L*, M*, N*, Co); everything else
 * separates tokens. Each token is lowercased with String.prototype.toLowerCase
 * (Unicode default case mapping, no locale). No diacritic folding, no Unicode
 * normalization, no stemming, no stop words: `Café` → `café`, and `cafe`
 * does not match it.
 */
import { ANY_ONE, ANY_RUN } from "./glob.ts";
import type { Glob } from "./glob.ts";

/** Token characters as the body of a regex class (`u` flag): the one definition here and in compile.ts. */
export const TOKEN_CLASS = String.raw`\p{L}\p{M}\p{N}\p{Co}`;
const TOKEN = new RegExp(`[${TOKEN_CLASS}]+`, "gu");
const TOKEN_CHAR = new RegExp(`^[${TOKEN_CLASS}]$`, "u");

export function tokenize(text: string): string[] {
  const runs = text.match(TOKEN);
  if (runs === null) return [];
  for (let index = 0; index < runs.length; index++) runs[index] = (runs[index] ?? "").toLowerCase();
  return runs;
}

/**
 * Splits a pattern the way `tokenize` splits text, wildcards counting as
 * token characters: `Time*out-err?r` → [`time*out`, `err?r`]. Literal runs
 * are lowercased like tokens. Without wildcards this is `tokenize`.
 */
export function tokenizeGlob(glob: Glob): Glob[] {
  const tokens: Glob[] = [];
  let current: number[] = [];
  let literal = "";
  const flushLiteral = (): void => {
    for (const char of literal.toLowerCase()) current.push(char.codePointAt(0) ?? 0);
    literal = "";
  };
  for (const code of glob) {
    if (code === ANY_RUN || code === ANY_ONE) {
      flushLiteral();
      current.push(code);
    } else if (TOKEN_CHAR.test(String.fromCodePoint(code))) {
      literal += String.fromCodePoint(code);
    } else {
      flushLiteral();
      if (current.length > 0) tokens.push(current);
      current = [];
    }
  }
  flushLiteral();
  if (current.length > 0) tokens.push(current);
  return tokens;
}
