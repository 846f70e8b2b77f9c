/**
 * The `redact` step's patterns: built-ins for e-mail addresses, IPv4 and
 * IPv6 addresses, payment card numbers and bearer tokens, and custom
 * regexes. A match is replaced by `[REDACTED:<name>]`.
 *
 * Each built-in is a regex that finds candidates plus, where a regex alone
 * would be too eager, a check of the candidate: a card number must pass the
 * Luhn check and have 13–19 digits, an IPv6 candidate must be an address to
 * node:net. Boundaries keep look-alikes out: version strings (1.2.3.4.5),
 * times (12:30:45), long ids (digits inside a longer run of word characters).
 */
import { isIPv6 } from "node:net";

/** Also the order they run in, whatever order a config names them: the more specific first (an IPv4-mapped IPv6 address is one IPv6 match). */
export const BUILTIN_PATTERNS = ["bearer_token", "email", "credit_card", "ipv6", "ipv4"] as const;
export type BuiltinPattern = (typeof BUILTIN_PATTERNS)[number];

export interface RedactPattern {
  /** In the replacement: `[REDACTED:<name>]`. */
  name: string;
  /** Global (`g`) regex finding candidates. */
  regex: RegExp;
  /** Whether a candidate is really one (default: every candidate is). */
  accept?: (match: string) => boolean;
  /** A cheap test every text with a match passes (a character the pattern cannot match without): texts that fail it skip the regex. */
  hint?: (text: string) => boolean;
}

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";

const BUILTIN_DEFINITIONS: Record<BuiltinPattern, Omit<RedactPattern, "name">> = {
  // Hints: in a profile of bench/tail.bench.ts (transforms) the email regex was the largest cost, mostly on lines without any "@".
  email: { hint: (text) => text.includes("@"), regex: /(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])/g },
  // `\b(?<!\.)` before a digit is "not after a word character or a dot": the same as `(?<![\w.])`, in a form V8 matches faster (issue 11's note).
  // Most lines with a dot have no two within four characters (a time's fraction, a version): a dotted quad does.
  ipv4: { hint: dotsCloseTogether, regex: new RegExp(`\\b(?<!\\.)${OCTET}(?:\\.${OCTET}){3}(?![\\w]|\\.\\d)`, "g") },
  ipv6: {
    hint: (text) => text.includes(":"),
    regex: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|\d{1,3}(?:\.\d{1,3}){3})(?![\w:.])/g,
    accept: (candidate) => /[0-9A-Fa-f]/.test(candidate) && isIPv6(candidate),
  },
  credit_card: { regex: /(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])/g, accept: (candidate) => luhnValid(candidate.replace(/[ -]/g, "")) },
  // The token only: "Authorization: Bearer [REDACTED:bearer_token]" still says what it was.
  // At least 16 token characters with a digit or punctuation in them: "the bearer of bad news" is prose.
  bearer_token: { hint: (text) => text.includes("earer"), regex: /(?<=\b[Bb]earer\s+)[A-Za-z0-9\-._~+/]{16,}=*/g, accept: (candidate) => /[\d\-._~+/]/.test(candidate) },
};

/** True when two dots of `text` have one to three characters between them, as the first two of every dotted quad do. */
function dotsCloseTogether(text: string): boolean {
  let dot = text.indexOf(".");
  while (dot !== -1) {
    const next = text.indexOf(".", dot + 1);
    if (next === -1) return false;
    if (next - dot >= 2 && next - dot <= 4) return true;
    dot = next;
  }
  return false;
}

export function builtinPattern(name: BuiltinPattern): RedactPattern {
  const definition = BUILTIN_DEFINITIONS[name];
  // A copy per step: a global regex carries lastIndex.
  const pattern: RedactPattern = { name, regex: new RegExp(definition.regex.source, "g") };
  if (definition.accept !== undefined) pattern.accept = definition.accept;
  if (definition.hint !== undefined) pattern.hint = definition.hint;
  return pattern;
}

/** The patterns of one redact step, in the order they run: built-ins by precedence (BUILTIN_PATTERNS), then custom ones as written. */
export function redactPatterns(configured: readonly (BuiltinPattern | { regex: string; name: string })[]): RedactPattern[] {
  const builtins = BUILTIN_PATTERNS.filter((name) => configured.includes(name)).map(builtinPattern);
  const customs = configured.flatMap((pattern) => (typeof pattern === "string" ? [] : [customPattern(pattern.regex, pattern.name)]));
  return [...builtins, ...customs];
}

/** A custom pattern (its source checked by the schema). */
export function customPattern(source: string, name: string): RedactPattern {
  return { name, regex: new RegExp(source, "g") };
}

/** Luhn check over a string of 13–19 digits. */
export function luhnValid(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * `text` with every accepted match replaced, and how many were. One exec
 * loop per pattern that finds something, the result built from slices: a
 * test() then a replace() with a callback scanned each redacted text twice
 * and called back per match (measured slower per line: issue 11's note).
 */
export function redactText(text: string, patterns: readonly RedactPattern[]): { text: string; redactions: number } {
  let redactions = 0;
  for (const pattern of patterns) {
    if (pattern.hint !== undefined && !pattern.hint(text)) continue;
    const regex = pattern.regex;
    regex.lastIndex = 0;
    let match = regex.exec(text);
    if (match === null) continue;
    const replacement = `[REDACTED:${pattern.name}]`;
    const accept = pattern.accept;
    let redacted = "";
    let copiedTo = 0;
    do {
      const found = match[0];
      if (accept === undefined || accept(found)) {
        redacted += text.slice(copiedTo, match.index) + replacement;
        copiedTo = match.index + found.length;
        redactions++;
      }
      // A custom regex may match the empty string somewhere (the schema only refuses one that matches ""): step past it.
      if (found.length === 0) regex.lastIndex++;
      match = regex.exec(text);
    } while (match !== null);
    if (copiedTo > 0) text = redacted + text.slice(copiedTo);
  }
  return { text, redactions };
}
