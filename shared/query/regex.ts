/**
 * Regexes in queries: JavaScript syntax with the `u` flag, with a guard
 * against the patterns that make a backtracking engine take exponential time.
 *
 * JavaScript has no RE2: V8's engine backtracks, and a filter regex runs on
 * every event in the agent, so one bad pattern can stall a pipeline. The
 * guard rejects, before anything runs:
 *   - patterns longer than REGEX_SOURCE_CHARS_MAX characters;
 *   - nested repetition (star height above 1): a group repeated by `*`, `+`,
 *     `{n,}` or `{n,m}` that itself holds such a quantifier, like `(a+)+` or
 *     `(\w+\s?)*`, the classic catastrophic shape;
 *   - backreferences (`\1`, `\k<name>`), which make matching NP-hard.
 * What it does not catch: overlapping alternatives under one quantifier
 * (`(a|a)*`, `(\w|\d)+x`) and adjacent overlapping quantifiers (`\d*\d*x`,
 * polynomial). docs/QUERY.md says so; a query author can still write a slow
 * regex, not an unbounded number of them.
 */

export const REGEX_SOURCE_CHARS_MAX = 512;

/** `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!`, `(?<name>`, `(?i:` and `(?-i:` openings. */
const GROUP_OPENING = /\(\?(?:<[\p{L}\p{N}_$]+>|<=|<!|[=!:]|[ims]*(?:-[ims]+)?:)/uy;
const REPEAT_QUANTIFIER = /\*|\+|\{\d+,\d*\}/y;
const FIXED_QUANTIFIER = /\?|\{\d+\}/y;

/** Compiles a query regex, or returns the reason it is refused. */
export function compileQueryRegex(pattern: string): RegExp | { refused: string } {
  if (pattern.length > REGEX_SOURCE_CHARS_MAX) {
    return { refused: `regex longer than ${REGEX_SOURCE_CHARS_MAX} characters (${pattern.length})` };
  }
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, "u");
  } catch (error) {
    return { refused: `bad regex: ${error instanceof Error ? error.message : String(error)}` };
  }
  const unsafe = unsafeConstruct(pattern);
  return unsafe === undefined ? regex : { refused: `regex refused: ${unsafe}` };
}

/**
 * Scans a pattern that already compiled; returns what makes it unsafe, or
 * undefined. Tracks, per open group, whether it holds a repeat quantifier.
 */
function unsafeConstruct(pattern: string): string | undefined {
  const groupRepeats: boolean[] = [false];
  let lastAtomRepeats = false;
  let index = 0;
  while (index < pattern.length) {
    const char = pattern[index];
    if (char === "\\") {
      const next = pattern[index + 1] ?? "";
      if (/[1-9]/.test(next) || (next === "k" && pattern[index + 2] === "<")) return "backreferences can take exponential time";
      index += 2;
      lastAtomRepeats = false;
      continue;
    }
    if (char === "[") {
      index = classEnd(pattern, index);
      lastAtomRepeats = false;
      continue;
    }
    if (char === "(") {
      GROUP_OPENING.lastIndex = index;
      index = GROUP_OPENING.test(pattern) ? GROUP_OPENING.lastIndex : index + 1;
      groupRepeats.push(false);
      continue;
    }
    if (char === ")") {
      lastAtomRepeats = groupRepeats.pop() ?? false;
      if (lastAtomRepeats) groupRepeats[groupRepeats.length - 1] = true;
      index++;
      continue;
    }
    REPEAT_QUANTIFIER.lastIndex = index;
    if (REPEAT_QUANTIFIER.test(pattern)) {
      if (lastAtomRepeats) return "nested repetition like (a+)+ can take exponential time";
      groupRepeats[groupRepeats.length - 1] = true;
      index = skipLazy(pattern, REPEAT_QUANTIFIER.lastIndex);
      lastAtomRepeats = false;
      continue;
    }
    FIXED_QUANTIFIER.lastIndex = index;
    if (FIXED_QUANTIFIER.test(pattern)) {
      index = skipLazy(pattern, FIXED_QUANTIFIER.lastIndex);
      continue;
    }
    index++;
    lastAtomRepeats = false;
  }
  return undefined;
}

function skipLazy(pattern: string, index: number): number {
  return pattern[index] === "?" ? index + 1 : index;
}

/** The index after the character class that starts at `start`. */
function classEnd(pattern: string, start: number): number {
  let index = start + 1;
  while (index < pattern.length && pattern[index] !== "]") index += pattern[index] === "\\" ? 2 : 1;
  return index + 1;
}
