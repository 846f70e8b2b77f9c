import { test } from "node:test";
import assert from "node:assert/strict";
import { parseQuery } from "../../../shared/query/parser.ts";
import { highlighter } from "./highlight.ts";

/** The message with hits in [brackets]. */
function marked(query: string, message: string): string {
  return highlighter(parseQuery(query))(message)
    .map((segment) => (segment.hit ? `[${segment.text}]` : segment.text))
    .join("");
}

test("highlighting marks the message tokens a query's positive message clauses match, as the evaluator tokenizes", () => {
  const cases: [string, string, string][] = [
    ["timeout", "Upstream TIMEOUT after timeout_ms", "Upstream [TIMEOUT] after [timeout]_ms"],
    ['"connection reset"', "ERROR connection reset by peer", "ERROR [connection] [reset] by peer"],
    ["time*", "timer timed out at time", "[timer] [timed] out at [time]"],
    ["t?med", "timed tamed tied", "[timed] [tamed] tied"],
    ["/\\d+ms/", "took 1500ms and 20ms", "took [1500ms] and [20ms]"],
    ["error -debug", "error and debug", "[error] and debug"],
    ["host:web-1 level:error", "error on web-1", "error on web-1"],
    ["", "anything", "anything"],
    ["a OR b", "a b c", "[a] [b] c"],
    ["café", "Café cafe", "[Café] cafe"],
  ];
  for (const [query, message, expected] of cases) assert.equal(marked(query, message), expected, `${query} on ${message}`);
});

test("overlapping hits merge into one mark, and the message comes back whole", () => {
  assert.equal(marked("/ab/ /bc/", "abc"), "[abc]");
  const segments = highlighter(parseQuery("x"))("x y x");
  assert.equal(segments.map((segment) => segment.text).join(""), "x y x");
});
