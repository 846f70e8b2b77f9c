/**
 * The evaluator: an AST into a predicate over one event. This is the
 * reference semantics of the language (docs/QUERY.md): the agent's
 * `drop`/`keep` transforms and routes run it per event, and the search
 * index must return exactly the events it accepts.
 *
 * All the work that does not depend on the event (regexes, wildcard
 * patterns, query tokens, numbers and times in the query) is done once in
 * compileQuery; per event only the message is tokenized, lazily and at most
 * once however many full-text clauses the query has.
 */
import { assert } from "../errors.ts";
import type { Event } from "../event.ts";
import { DEFAULT_STREAM_NAME, FIELDS_PREFIX, MESSAGE_FIELD, STREAM_FIELD } from "./ast.ts";
import type { Query, RangeQuery, TermQuery } from "./ast.ts";
import { ANY_ONE, ANY_RUN, globMatches, literalGlob, parseGlob } from "./glob.ts";
import type { Glob } from "./glob.ts";
import { compileQueryRegex } from "./regex.ts";
import { TOKEN_CLASS, tokenize, tokenizeGlob } from "./tokenize.ts";
import { parseNumber, parseTime } from "./values.ts";

/** What a query reads: any part of an Event (the agent filters before ids exist). */
export type MatchableEvent = Partial<Omit<Event, "fields">> & { readonly fields?: Readonly<Record<string, unknown>> };

export type EventPredicate = (event: MatchableEvent) => boolean;

/** One evaluation: the event and its message tokens once computed. */
interface Evaluation {
  readonly event: MatchableEvent;
  tokens: string[] | undefined;
}

type Node = (evaluation: Evaluation) => boolean;
type ValueGetter = (event: MatchableEvent) => unknown;
type ScalarTest = (value: unknown) => boolean;
type TokenTest = (token: string) => boolean;
/** The clauses that compare a value: full text on `message`, whole values elsewhere. */
/** A clause that compares one value: what full-text and keyword matching share (the index's translation too). */
export type ValueQuery = Extract<Query, { kind: "term" | "phrase" | "prefix" | "wildcard" }>;

export function compileQuery(query: Query): EventPredicate {
  const node = compileNode(query);
  return (event) => node({ event, tokens: undefined });
}

const compiled = new WeakMap<Query, EventPredicate>();

/** `compileQuery(query)(event)`, compiling each AST object once. */
export function matches(query: Query, event: MatchableEvent): boolean {
  let predicate = compiled.get(query);
  if (predicate === undefined) {
    predicate = compileQuery(query);
    compiled.set(query, predicate);
  }
  return predicate(event);
}

function compileNode(query: Query): Node {
  switch (query.kind) {
    case "all":
      return () => true;
    case "and": {
      const clauses = query.clauses.map(compileNode);
      return (evaluation) => {
        for (const clause of clauses) if (!clause(evaluation)) return false;
        return true;
      };
    }
    case "or": {
      const clauses = query.clauses.map(compileNode);
      return (evaluation) => {
        for (const clause of clauses) if (clause(evaluation)) return true;
        return false;
      };
    }
    case "not": {
      const clause = compileNode(query.clause);
      return (evaluation) => !clause(evaluation);
    }
    case "exists": {
      const get = fieldGetter(query.field);
      return (evaluation) => isPresent(get(evaluation.event));
    }
    case "regex": {
      const regex = compileQueryRegex(query.pattern);
      assert(regex instanceof RegExp, "the parser accepted only regexes the guard allows");
      return fieldNode(query.field, (value) => {
        const text = scalarText(value);
        return text !== undefined && regex.test(text);
      });
    }
    case "range":
      return fieldNode(query.field, rangeTest(query));
    case "term":
    case "phrase":
    case "prefix":
    case "wildcard":
      return query.field === MESSAGE_FIELD ? fullTextNode(messageGlob(query)) : fieldNode(query.field, keywordTest(query));
  }
}

/** A node that tests a field's value, or any element of an array value. */
function fieldNode(field: string, test: ScalarTest): Node {
  const get = fieldGetter(field);
  return (evaluation) => {
    const value = get(evaluation.event);
    return Array.isArray(value) ? value.some(test) : test(value);
  };
}

/**
 * `fields.a.b` reads the key "a.b" of `fields` if it exists, else walks the
 * nested objects a → b. Top-level names read the event's own property.
 */
function fieldGetter(field: string): ValueGetter {
  // An event of the default stream has no `stream` (shared/event.ts).
  if (field === STREAM_FIELD) return (event) => event.stream ?? DEFAULT_STREAM_NAME;
  if (!field.startsWith(FIELDS_PREFIX)) return (event) => event[field as keyof MatchableEvent];
  const key = field.slice(FIELDS_PREFIX.length);
  const path = key.split(".");
  return (event) => {
    const fields = event.fields;
    if (fields === undefined) return undefined;
    if (Object.hasOwn(fields, key)) return fields[key];
    if (path.length === 1) return undefined;
    let value: unknown = fields;
    for (const segment of path) {
      if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.hasOwn(value, segment)) return undefined;
      value = (value as Record<string, unknown>)[segment];
    }
    return value;
  };
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
}

/** Strings as they are, numbers and booleans as JSON writes them; other values have no text. */
function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function keywordTest(query: ValueQuery): ScalarTest {
  switch (query.kind) {
    case "term":
      return termTest(query);
    case "phrase": {
      const wanted = query.value;
      return (value) => scalarText(value) === wanted;
    }
    case "prefix": {
      const prefix = query.value;
      return (value) => scalarText(value)?.startsWith(prefix) === true;
    }
    case "wildcard": {
      const glob = parseGlob(query.pattern);
      return (value) => {
        const text = scalarText(value);
        return text !== undefined && globMatches(glob, text);
      };
    }
  }
}

/**
 * Exact and case-sensitive, except that a number in the query equals a
 * number value (500 = "500" = "500.0") and a time equals the same instant.
 */
function termTest(query: TermQuery): ScalarTest {
  const wanted = query.value;
  const wantedNumber = parseNumber(wanted);
  const wantedTime = wantedNumber === undefined ? parseTime(wanted) : undefined;
  return (value) => {
    if (typeof value === "number") return value === wantedNumber;
    if (typeof value === "boolean") return String(value) === wanted;
    if (typeof value !== "string") return false;
    if (value === wanted) return true;
    if (wantedNumber !== undefined) return parseNumber(value) === wantedNumber;
    return wantedTime !== undefined && parseTime(value) === wantedTime;
  };
}

function rangeTest(query: RangeQuery): ScalarTest {
  const { lower, upper } = query;
  const inRange = (position: number): boolean =>
    (lower === null || (lower.inclusive ? position >= lower.value : position > lower.value)) &&
    (upper === null || (upper.inclusive ? position <= upper.value : position < upper.value));
  if (query.valueType === "time") {
    return (value) => {
      const time = typeof value === "string" ? parseTime(value) : undefined;
      return time !== undefined && inRange(time);
    };
  }
  return (value) => {
    const number = typeof value === "number" ? value : typeof value === "string" ? parseNumber(value) : undefined;
    return number !== undefined && inRange(number);
  };
}

/** The message-side pattern of a full-text clause: literal for terms and phrases. */
export function messageGlob(query: ValueQuery): Glob {
  switch (query.kind) {
    case "term":
    case "phrase":
      return literalGlob(query.value);
    case "prefix":
      return [...literalGlob(query.value), ANY_RUN];
    case "wildcard":
      return parseGlob(query.pattern);
  }
}

/**
 * Full text: the pattern's tokens must match consecutive message tokens. One
 * token is a term (or prefix, wildcard); several are a phrase. A pattern
 * without any token characters matches no event.
 */
function fullTextNode(glob: Glob): Node {
  const globs = tokenizeGlob(glob);
  const tests = globs.map(tokenTest);
  const count = tests.length;
  if (count === 0) return () => false;
  const mayContain = substringHint(globs);
  const exact = asciiTokensRegex(globs);
  return (evaluation) => {
    if (mayContain !== null && !mayContain(evaluation)) return false;
    if (exact !== null && evaluation.tokens === undefined) {
      const message = evaluation.event.message;
      return typeof message === "string" && exact.test(message);
    }
    const tokens = messageTokens(evaluation);
    for (let start = 0; start + count <= tokens.length; start++) {
      let matched = 0;
      while (matched < count && (tests[matched] as TokenTest)(tokens[start + matched] as string)) matched++;
      if (matched === count) return true;
    }
    return false;
  };
}

/**
 * A necessary condition cheaper than tokenizing the message: a message
 * whose tokens include an ASCII literal token contains it as a substring
 * under Unicode case folding (the only characters whose toLowerCase is
 * ASCII letters are A–Z and the Kelvin sign, which /iu folds too). The
 * longest such token is tested; null when the pattern has none (wildcards
 * only, or non-ASCII tokens). A message already tokenized skips it.
 */
function substringHint(globs: readonly Glob[]): ((evaluation: Evaluation) => boolean) | null {
  let longest = "";
  for (const glob of globs) {
    const text = asciiLiteral(glob);
    if (text !== null && text.length > longest.length) longest = text;
  }
  if (longest.length < 3) return null;
  const regex = new RegExp(longest, "iu");
  return (evaluation) => {
    if (evaluation.tokens !== undefined) return true;
    const message = evaluation.event.message;
    return typeof message === "string" && regex.test(message);
  };
}

/**
 * The same answer as tokenizing the message and looking for the tokens in a
 * row, without tokenizing, when every token is an ASCII literal: each token
 * a whole run of token characters (not preceded or followed by one), runs
 * separated by non-token characters. Each letter is a class of the
 * characters whose toLowerCase is that letter: itself, its capital, and for
 * `k` the Kelvin sign (no other character lowercases to an ASCII letter or
 * digit) — not the `i` flag, whose case folding would also take `ſ` for
 * `s`. A message that passed the substring hint is tested once by this
 * regex instead of being split into tokens. Null when a token has a
 * wildcard or other characters.
 */
function asciiTokensRegex(globs: readonly Glob[]): RegExp | null {
  const parts: string[] = [];
  for (const glob of globs) {
    const text = asciiLiteral(glob);
    if (text === null) return null;
    parts.push([...text].map((char) => (char === "k" ? "[kK\\u212A]" : /[a-z]/.test(char) ? `[${char}${char.toUpperCase()}]` : char)).join(""));
  }
  return new RegExp(`(?<![${TOKEN_CLASS}])${parts.join(`[^${TOKEN_CLASS}]+`)}(?![${TOKEN_CLASS}])`, "u");
}

/** The token's text when it is a literal of ASCII letters and digits (no wildcard), else null. */
function asciiLiteral(glob: Glob): string | null {
  if (glob.some((code) => code === ANY_RUN || code === ANY_ONE)) return null;
  const text = globText(glob);
  return /^[a-z0-9]+$/.test(text) ? text : null;
}

function tokenTest(glob: Glob): TokenTest {
  const wildcards = glob.filter((code) => code === ANY_RUN || code === ANY_ONE).length;
  if (wildcards === 0) {
    const token = globText(glob);
    return (candidate) => candidate === token;
  }
  if (wildcards === 1 && glob.at(-1) === ANY_RUN) {
    const prefix = globText(glob.slice(0, -1));
    return (candidate) => candidate.startsWith(prefix);
  }
  return (candidate) => globMatches(glob, candidate);
}

/** The text of a glob without wildcards. */
function globText(glob: Glob): string {
  return glob.map((code) => String.fromCodePoint(code)).join("");
}

function messageTokens(evaluation: Evaluation): string[] {
  if (evaluation.tokens === undefined) {
    const message = evaluation.event.message;
    evaluation.tokens = typeof message === "string" ? tokenize(message) : [];
  }
  return evaluation.tokens;
}
