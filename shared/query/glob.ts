/**
 * Wildcard patterns (`web-*`, `err?r`): `*` matches any run of characters,
 * `?` exactly one (one Unicode code point); `\*`, `\?`, `\\` are literal, as
 * in Lucene. Matching is the greedy two-pointer algorithm, O(pattern × text)
 * at worst and never exponential, so a pattern needs no cost guard beyond
 * the query's own length limit.
 */

/** A compiled pattern: code points, with ANY_RUN for `*` and ANY_ONE for `?`. */
export type Glob = readonly number[];

export const ANY_RUN = -1;
export const ANY_ONE = -2;

/** Reads Lucene wildcard syntax. */
export function parseGlob(pattern: string): Glob {
  const glob: number[] = [];
  let escaped = false;
  for (const char of pattern) {
    const code = char.codePointAt(0) ?? 0;
    if (escaped) {
      glob.push(code);
      escaped = false;
    } else if (char === "\\") {
      escaped = true;
    } else if (char === "*") {
      if (glob.at(-1) !== ANY_RUN) glob.push(ANY_RUN);
    } else {
      glob.push(char === "?" ? ANY_ONE : code);
    }
  }
  return glob;
}

/** A pattern that matches `text` only (no wildcards). */
export function literalGlob(text: string): Glob {
  return Array.from(text, (char) => char.codePointAt(0) ?? 0);
}

export function globMatches(glob: Glob, text: string): boolean {
  let patternIndex = 0;
  let textIndex = 0;
  let starPatternIndex = -1;
  let starTextIndex = 0;
  while (textIndex < text.length) {
    const code = text.codePointAt(textIndex) ?? 0;
    const wanted = glob[patternIndex];
    if (wanted === ANY_ONE || wanted === code) {
      patternIndex++;
      textIndex += code > 0xffff ? 2 : 1;
    } else if (wanted === ANY_RUN) {
      starPatternIndex = patternIndex++;
      starTextIndex = textIndex;
    } else if (starPatternIndex >= 0) {
      // Let the last `*` swallow one more character and retry from there.
      patternIndex = starPatternIndex + 1;
      starTextIndex += (text.codePointAt(starTextIndex) ?? 0) > 0xffff ? 2 : 1;
      textIndex = starTextIndex;
    } else {
      return false;
    }
  }
  while (glob[patternIndex] === ANY_RUN) patternIndex++;
  return patternIndex === glob.length;
}
