import { test } from "node:test";
import assert from "node:assert/strict";
import { QueryError } from "../errors.ts";
import { caretLines, renderQueryError } from "./caret.ts";
import { parseQuery, QUERY_CHARS_MAX, QUERY_NESTING_MAX } from "./parser.ts";
import { REGEX_SOURCE_CHARS_MAX } from "./regex.ts";

function queryErrorOf(query: string): QueryError {
  try {
    parseQuery(query);
  } catch (error) {
    if (error instanceof QueryError) return error;
    throw error;
  }
  assert.fail(`expected ${JSON.stringify(query)} not to parse`);
}

// [query, 1-based column the error points at, what the message says]
const ERRORS: Array<[string, number, RegExp]> = [
  // parentheses
  ["(timeout OR reset", 1, /unclosed \(/],
  ["a (b (c)", 3, /unclosed \(/],
  ["timeout)", 8, /unmatched \)/],
  ["(a))", 4, /unmatched \)/],
  ["()", 1, /empty parentheses/],
  // quotes
  ['"connection reset', 1, /unclosed quote/],
  ['host:"web-1', 6, /unclosed quote/],
  ['"a"~2', 4, /unexpected "~" after the phrase/],
  // empty field values
  ["host:", 6, /empty value for host/],
  ["host: web-1", 6, /empty value for host/],
  ["(host:)", 7, /empty value for host/],
  ["level:\"\" host:", 15, /empty value for host/],
  // ranges and comparisons
  ["status:[400 TO 499", 8, /unclosed range/],
  ["status:[500 TO 400]", 9, /bad range: 500 is greater than 400/],
  ["status:[400 499]", 13, /expected TO between the bounds/],
  ["status:[400 TO]", 15, /expected an upper bound, found "\]"/],
  ["status:[TO 5]", 9, /expected a lower bound, found "TO"/],
  ["status:[1 TO 5 6]", 16, /expected \] or \}/],
  ["status:[abc TO 5]", 9, /bad range bound "abc"/],
  ["status:[1 TO 2026-11-29]", 14, /bounds differ in type/],
  ["time:>=2026-13-01", 8, /bad range bound "2026-13-01"/],
  ["status:>=", 10, /expected a number or time right after >=/],
  ["status:>= 500", 10, /expected a number or time right after >=/],
  ["status:>=abc", 10, /bad range bound "abc"/],
  ["status:<*", 9, /needs a number or time, not \*/],
  ["status:=500", 8, /unknown comparison "="/],
  ["status:=>500", 8, /unknown comparison "=>"/],
  ["status:>>500", 8, /unknown comparison ">>"/],
  ["status:!=500", 8, /unknown comparison "!="/],
  [">=500", 1, /needs a field/],
  ["[error]", 1, /needs a field/],
  ["message:>5", 9, /needs a field/],
  // regexes
  ["/timeout (\\d+ms/", 1, /bad regex: Invalid regular expression: .*Unterminated group/],
  ["host:/web(/", 6, /bad regex: Invalid regular expression/],
  ["a /(a+)+$/", 3, /nested repetition/],
  ["/(\\w+\\s?)*x/", 1, /nested repetition/],
  ["/(a)\\1/", 1, /backreferences/],
  [`/${"a".repeat(REGEX_SOURCE_CHARS_MAX + 1)}/`, 1, /regex longer than 512 characters/],
  ["/timeout/i", 10, /unexpected "i" after the regex .*flags are not supported/],
  ["path:/var/log/app.log", 11, /quote it: path:"\/var\/log\/app.log"/],
  ["/unclosed", 1, /unclosed regex/],
  // dangling operators
  ["timeout AND", 9, /AND needs a clause after it/],
  ["timeout OR", 9, /OR needs a clause after it/],
  ["OR timeout", 1, /OR needs a clause before it/],
  ["(AND b)", 2, /AND needs a clause before it/],
  ["timeout OR OR reset", 12, /expected a clause after OR, found "OR"/],
  ["timeout AND )", 13, /expected a clause after AND, found "\)"/],
  ["NOT", 1, /NOT needs a clause after it/],
  ["a NOT", 3, /NOT needs a clause after it/],
  ["- timeout", 1, /- needs what it negates right after it/],
  ["a -", 3, /- needs a clause after it/],
  // field names and escapes
  ["12:30", 1, /"12" is not a field name/],
  [":x", 1, /"" is not a field name/],
  ["fields:x", 1, /fields holds the parsed fields/],
  ["fields..a:x", 1, /not a field name/],
  ["a\\", 2, /a backslash at the end escapes nothing/],
  // columns count code points
  ["café AND", 6, /AND needs a clause after it/],
  ["日本語 host:", 10, /empty value for host/],
  ["😀 OR", 3, /OR needs a clause after it/],
];

test("the error table: each broken query fails at its column with its reason", () => {
  for (const [query, column, reason] of ERRORS) {
    const error = queryErrorOf(query);
    assert.equal(error.column, column, `column for ${JSON.stringify(query)}: ${error.message}`);
    assert.match(error.reason, reason, `reason for ${JSON.stringify(query)}`);
    assert.equal(error.code, "LOGSHIP_QUERY");
    assert.equal(error.query, query);
    assert.equal(error.message, `invalid query at column ${column}: ${error.reason}`);
  }
});

test("limits: nesting depth and query length fail with a column, never a stack overflow", () => {
  const deep = `${"(".repeat(QUERY_NESTING_MAX + 100)}a${")".repeat(QUERY_NESTING_MAX + 100)}`;
  assert.equal(queryErrorOf(deep).column, QUERY_NESTING_MAX + 2);
  assert.match(queryErrorOf(deep).reason, /nested deeper than 100 levels/);
  const nots = `${"NOT ".repeat(QUERY_NESTING_MAX + 100)}a`;
  assert.equal(queryErrorOf(nots).column, (QUERY_NESTING_MAX + 1) * 4 + 1);
  const fieldGroups = `${"a:(".repeat(QUERY_NESTING_MAX + 100)}b${")".repeat(QUERY_NESTING_MAX + 100)}`;
  assert.match(queryErrorOf(fieldGroups).reason, /nested deeper/);
  const long = "a ".repeat(QUERY_CHARS_MAX);
  assert.equal(queryErrorOf(long).column, QUERY_CHARS_MAX + 1);
  assert.doesNotThrow(() => parseQuery(`${"(".repeat(QUERY_NESTING_MAX)}a${")".repeat(QUERY_NESTING_MAX)}`));
});

test("the caret helper puts ^ under the column", () => {
  const error = queryErrorOf("host:web-1 AND (level:error");
  assert.equal(renderQueryError(error), ["invalid query at column 16: unclosed (: it needs a )", "  host:web-1 AND (level:error", "                 ^"].join("\n"));
  assert.equal(caretLines("a AND", 6, ""), "a AND\n     ^");
  assert.equal(caretLines("\tcafé\nAND", 7, ""), "\tcafé AND\n\t     ^");
  assert.equal(caretLines("😀 OR", 3, "> "), "> 😀 OR\n>   ^");
});
