import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { QueryError } from "../errors.ts";
import type { Query, RangeQuery } from "./ast.ts";
import { compileQuery } from "./compile.ts";
import { FIXTURE_EVENTS } from "./fixture-events.ts";
import { parseQuery } from "./parser.ts";
import { printQuery } from "./print.ts";
import { tokenize } from "./tokenize.ts";
import { TIME_MAX_MS, TIME_MIN_MS } from "./values.ts";

/** Characters that exercise every piece of syntax, plus plain, Unicode and astral ones. */
const SYNTAX_CHARS = [" ", "\t", "*", "?", "\\", '"', "(", ")", ":", "-", "/", "[", "]", "{", "}", "<", ">", "=", "!", "~", "."];
const PLAIN_CHARS = ["a", "B", "7", "é", "日", "😀", "_"];
const character = fc.constantFrom(...SYNTAX_CHARS, ...PLAIN_CHARS);
const text = (minLength: number) => fc.oneof(fc.constantFrom("AND", "OR", "NOT", "TO"), fc.string({ unit: character, minLength, maxLength: 12 }));

const field = fc.constantFrom("message", "host", "source", "path", "id", "time", "offset", "truncated", "fields.level", "fields.http.status", "fields.a b", "fields.x-y:z", "fields.AND");
const keywordField = field.filter((name) => name !== "message");

/** A Lucene wildcard pattern in the parser's canonical form, not a prefix and not a lone `*`. */
const wildcardPattern = fc
  .array(fc.oneof(fc.constantFrom("*", "?"), character.map((char) => (char === "*" || char === "?" || char === "\\" ? `\\${char}` : char))), { minLength: 1, maxLength: 8 })
  .filter((pieces) => {
    const wildcards = pieces.filter((piece) => piece === "*" || piece === "?").length;
    return wildcards > 0 && !(wildcards === 1 && pieces.at(-1) === "*");
  })
  .map((pieces) => pieces.join(""));

const regexPattern = fc.constantFrom("timeout \\d+ms", "^GET", "a|b", "[/]x", "\\/api\\/", "(?i:err)", "é+", "\\s");

/** fc.record with ordinary prototypes, as the parser's objects have. */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

const noNegativeZero = (value: number): number => (Object.is(value, -0) ? 0 : value);
const numberValue = fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.double({ noNaN: true, noDefaultInfinity: true })).map(noNegativeZero);
const timeValue = fc.integer({ min: TIME_MIN_MS, max: TIME_MAX_MS });

const range: fc.Arbitrary<Query> = fc
  .record({
    field: keywordField,
    valueType: fc.constantFrom("number" as const, "time" as const),
    a: fc.option(record({ inclusive: fc.boolean() })),
    b: fc.option(record({ inclusive: fc.boolean() })),
    values: fc.tuple(numberValue, numberValue, timeValue, timeValue),
  })
  .filter(({ a, b }) => a !== null || b !== null)
  .map(({ field, valueType, a, b, values }): RangeQuery => {
    const [low, high] = (valueType === "number" ? [values[0], values[1]] : [values[2], values[3]]).sort((x, y) => x - y) as [number, number];
    return {
      kind: "range",
      field,
      valueType,
      lower: a === null ? null : { value: low, inclusive: a.inclusive },
      upper: b === null ? null : { value: high, inclusive: b.inclusive },
    };
  });

const leaf: fc.Arbitrary<Query> = fc.oneof(
  fc.constant<Query>({ kind: "all" }),
  record({ kind: fc.constant("term" as const), field, value: text(1) }),
  record({ kind: fc.constant("phrase" as const), field, value: text(0) }),
  record({ kind: fc.constant("prefix" as const), field, value: text(1) }),
  record({ kind: fc.constant("wildcard" as const), field, pattern: wildcardPattern }),
  record({ kind: fc.constant("regex" as const), field, pattern: regexPattern }),
  record({ kind: fc.constant("exists" as const), field }),
  range,
);

const { query } = fc.letrec<{ query: Query }>((tie) => ({
  query: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    record({ kind: fc.constant("and" as const), clauses: fc.array(tie("query"), { minLength: 2, maxLength: 4 }) }),
    record({ kind: fc.constant("or" as const), clauses: fc.array(tie("query"), { minLength: 2, maxLength: 4 }) }),
    record({ kind: fc.constant("not" as const), clause: tie("query") }),
  ),
}));

test("parseQuery(printQuery(ast)) gives back the AST", () => {
  fc.assert(
    fc.property(query, (ast) => {
      assert.deepStrictEqual(parseQuery(printQuery(ast)), ast);
    }),
    { numRuns: 2000 },
  );
});

/** Random queries: from the syntax alphabet, and fragments of real syntax glued together. */
const randomQuery = fc.oneof(
  fc.string({ unit: character, maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc
    .array(fc.constantFrom("a", "host:", "status:", ">=", "<", "[", "]", "{", "}", " TO ", "(", ")", '"', "/", "\\", "*", "?", "-", " AND ", " OR ", "NOT ", " ", "500", "2026-11-29", "web-*", "\\d+", "(?i:", ":"), { maxLength: 12 })
    .map((parts) => parts.join("")),
);

test("on any string the parser returns an AST or throws a QueryError that points inside the query", () => {
  fc.assert(
    fc.property(randomQuery, (input) => {
      try {
        parseQuery(input);
      } catch (error) {
        assert.ok(error instanceof QueryError, `${JSON.stringify(input)} threw ${String(error)}`);
        assert.ok(error.column >= 1 && error.column <= [...input].length + 1, `column ${error.column} for ${JSON.stringify(input)}`);
      }
    }),
    { numRuns: 5000 },
  );
});

test("whatever parses also prints, re-parses to the same AST and evaluates without throwing", () => {
  fc.assert(
    fc.property(randomQuery, (input) => {
      let ast: Query;
      try {
        ast = parseQuery(input);
      } catch {
        return;
      }
      assert.deepStrictEqual(parseQuery(printQuery(ast)), ast, `${JSON.stringify(input)} printed as ${printQuery(ast)}`);
      const predicate = compileQuery(ast);
      for (const event of FIXTURE_EVENTS) predicate(event);
    }),
    { numRuns: 5000 },
  );
});

test("full text on ASCII words (matched without tokenizing) agrees with tokenizing the message and finding the words in a row", () => {
  // Characters near the rule's edges: capitals, the Kelvin sign (lowercases to k), the long s (case-folds to s but lowercases to itself), marks, astral letters.
  const messageChar = fc.constantFrom("a", "A", "k", "K", "\u212a", "s", "S", "\u017f", "1", " ", "-", "/", ".", "_", "é", "\u0301", "😀", "𝐀");
  const word = fc.string({ unit: fc.constantFrom("a", "k", "s", "1"), minLength: 1, maxLength: 3 });
  fc.assert(
    fc.property(fc.array(word, { minLength: 1, maxLength: 3 }), fc.string({ unit: messageChar, maxLength: 16 }), fc.string({ unit: messageChar, maxLength: 16 }), (words, before, after) => {
      const phrase = words.join(" ");
      const predicate = compileQuery(parseQuery(`"${phrase}"`));
      for (const message of [`${before}${phrase}${after}`, `${before}${phrase.toUpperCase()}${after}`, `${before}${after}`, before]) {
        const tokens = tokenize(message);
        const expected = tokens.some((_, start) => words.every((wanted, index) => tokens[start + index] === wanted));
        assert.equal(predicate({ message }), expected, `${JSON.stringify(phrase)} in ${JSON.stringify(message)}`);
      }
    }),
    { numRuns: 5000 },
  );
});
